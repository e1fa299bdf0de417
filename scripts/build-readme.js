#!/usr/bin/env node
// Builds README.md from its sources: docs/readme/*.md (intro, performance, architecture, tests),
// the per-feature docs (docs/*.md) and the benchmark tables of the last full run
// (bench/results/README-tables.md). Edit those, then run `npm run readme`.
'use strict'
const { readFileSync, writeFileSync } = require('node:fs')
const { join } = require('node:path')

const root = join(__dirname, '..')
const read = (path) => readFileSync(join(root, path), 'utf8').replace(/^\n+|\n+$/g, '')

/** A doc under its own "## title": drop its "# title" line and push its headings one level down. */
function section(title, path) {
  let inFence = false
  const lines = read(path).split('\n')
  if (lines[0].startsWith('# ')) lines.shift()
  const body = lines.map((line) => {
    if (line.startsWith('```')) inFence = !inFence
    return !inFence && /^#+ /.test(line) ? `#${line}` : line
  })
  return `## ${title}\n\n${body.join('\n').replace(/^\n+/, '')}`
}

const tables = read('bench/results/README-tables.md')
const parts = [
  read('docs/readme/intro.md'),
  section('Storage, engines and sharing', 'docs/native-storage.md'),
  section('Eviction policies', 'docs/policies.md'),
  read('docs/redis.md'),
  read('docs/tiered.md'),
  read('docs/config-and-decorators.md'),
  read('docs/metrics.md'),
  `## Performance\n\n${read('docs/readme/performance.md')}\n\n${tables}`,
  read('docs/readme/architecture.md'),
  section('Platforms, installing and building from source', 'docs/packaging.md'),
  read('docs/readme/tests.md'),
]
let text = parts.join('\n\n') + '\n'

// Contents: every level-2 heading, outside code fences, with GitHub's anchor rule.
let inFence = false
const headings = text.split('\n').filter((line) => {
  if (line.startsWith('```')) inFence = !inFence
  return !inFence && line.startsWith('## ')
})
const anchor = (h) => h.toLowerCase().trim().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-')
const contents = '**Contents:** ' + headings.map((line) => {
  const h = line.slice(3)
  return `[${h.replace(/`/g, '')}](#${anchor(h)})`
}).join(' · ')
text = text.replace('## Two commands', `${contents}\n\n## Two commands`)

writeFileSync(join(root, 'README.md'), text)
console.log(`README.md: ${text.split('\n').length} lines`)
