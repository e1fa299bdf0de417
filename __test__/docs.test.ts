/**
 * The README and docs/ as a reader meets them: the README is current with its sources, fits the
 * npm registry (which truncates a readme past 64 KiB), starts with what a newcomer needs, and
 * every link resolves (the README's to absolute URLs of files that exist, since relative links
 * break on the registry page; docs/'s to files and headings that exist).
 */
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, posix } from 'node:path'

const root = join(__dirname, '..')
const BLOB = 'https://github.com/astra-cache/astra-cache/blob/main/'
const readme = readFileSync(join(root, 'README.md'), 'utf8')

/** GitHub's heading anchors of a markdown text (outside code fences), with its -1, -2 suffixes. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  let fence = false
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fence = !fence
    const m = !fence && /^#{1,6} (.*)$/.exec(line)
    if (!m) continue
    const base = m[1].trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

/** Markdown link targets of a text, outside code fences. */
function links(text: string): string[] {
  let fence = false
  const out: string[] = []
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fence = !fence
    if (fence) continue
    for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) out.push(m[1])
  }
  return out
}

/** Why a repository-relative target (file + optional #anchor) does not resolve, or undefined. */
function brokenTarget(path: string, hash: string | undefined): string | undefined {
  const file = join(root, path)
  if (!existsSync(file)) return `no file ${path}`
  if (hash && path.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(hash)) return `no heading #${hash} in ${path}`
  return undefined
}

test('README.md and docs/benchmarks.md are what npm run readme builds from their sources', (t) => {
  t.notThrows(() => execFileSync(process.execPath, [join(root, 'scripts/build-readme.js'), '--check'], { stdio: 'pipe' }))
})

test('the README fits the npm registry and opens with what it is, the install command and a quick start', (t) => {
  t.true(readme.length < 60_000, `README.md is ${readme.length} characters`)
  const firstScreen = readme.split('\n').slice(0, 30).join('\n')
  t.regex(firstScreen, /^# astra-cache$/m)
  t.regex(firstScreen, /npm install astra-cache/)
  t.regex(readme.split('\n').slice(0, 45).join('\n'), /^## Quick start$/m)
  for (const heading of ['Which cache do I want?', 'Two commands', 'Configuration from the environment', 'Metrics', 'Architecture', 'Performance', 'Installing and building from source']) {
    t.true(anchors(readme).has(anchors(`## ${heading}`).values().next().value!), `README has a "${heading}" section`)
  }
  for (const command of ['npm install', 'npm test', 'npm run bench']) t.true(readme.includes(command), command)
})

test('every README link is an anchor of the README or an absolute URL to a file and heading that exist', (t) => {
  const own = anchors(readme)
  const broken: string[] = []
  for (const target of links(readme)) {
    if (target.startsWith('#')) {
      if (!own.has(target.slice(1))) broken.push(target)
    } else if (target.startsWith(BLOB)) {
      const [path, hash] = target.slice(BLOB.length).split('#')
      const why = brokenTarget(path, hash)
      if (why) broken.push(`${target}: ${why}`)
    } else if (!/^https?:\/\//.test(target)) {
      broken.push(`${target}: relative (breaks on the registry page)`)
    }
  }
  t.deepEqual(broken, [])
})

test('every relative link in docs/ points to a file and heading that exist', (t) => {
  const broken: string[] = []
  const docs = readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.md'))
  t.true(docs.length > 5)
  for (const doc of docs) {
    const text = readFileSync(join(root, 'docs', doc), 'utf8')
    // The README's sources link relative to the repository root and to the README's headings;
    // benchmarks-intro.md becomes docs/benchmarks.md.
    const readmeSource = doc.startsWith('readme/') && doc !== 'readme/benchmarks-intro.md'
    const base = readmeSource ? '' : doc.startsWith('readme/') ? 'docs' : posix.join('docs', dirname(doc))
    const headings = readmeSource ? anchors(readme) : anchors(text)
    for (const target of links(text)) {
      if (/^[a-z]+:/.test(target)) continue
      const [file, hash] = target.split('#')
      const why = file === '' ? (headings.has(hash) ? undefined : `no heading #${hash}`) : brokenTarget(posix.normalize(posix.join(base, file)), hash)
      if (why) broken.push(`docs/${doc}: ${target}: ${why}`)
    }
  }
  t.deepEqual(broken, [])
})

test('the README speaks to users: no words only the authors know', (t) => {
  t.notRegex(readme, /\bissue #?\d+|\bthe seed\b|\bSPEC\b|\bDESIGN\.md\b/i)
})
