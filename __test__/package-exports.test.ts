/**
 * The package's `exports` map: `require` gets the CommonJS build, `import` the ESM entry
 * (which re-exports the CommonJS build, so both see one module instance), and TypeScript
 * gets types for each. Checked on a fresh build in a temporary copy of the package, through
 * Node's and tsc's own resolution of the package name (a package can import itself by name).
 * The tarball test (scripts/pack-test.sh) checks the same from an installed tarball.
 */
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const ROOT = path.resolve(__dirname, '..')
const manifest = require('../package.json') as {
  exports: Record<string, unknown>
  files: string[]
}

const tmp = mkdtempSync(path.join(tmpdir(), 'astra-exports-'))
const pkg = path.join(tmp, 'astra-cache')
const consumer = path.join(pkg, 'consumer') // inside the package: resolves 'astra-cache' to itself

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: consumer, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } })
}

test.before(() => {
  mkdirSync(consumer, { recursive: true })
  cpSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'))
  symlinkSync(path.join(ROOT, 'native'), path.join(pkg, 'native'), 'junction') // junction: no admin right needed on Windows
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'), 'junction')
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(pkg, 'dist')], {
      cwd: ROOT,
      encoding: 'utf8',
    })
  } catch (err) {
    // Type errors are the typecheck step's business; tsc still emits. Fail only without output.
    if (!existsSync(path.join(pkg, 'dist', 'index.js')) || !existsSync(path.join(pkg, 'dist', 'esm', 'index.mjs'))) throw err
  }
})

test.after.always(() => {
  rmSync(tmp, { recursive: true, force: true })
})

test('require() gets the CommonJS build and import the ESM entry', (t) => {
  const cjs = node(['-p', "require.resolve('astra-cache')"]).trim()
  const esm = node(['--input-type=module', '-e', "console.log(import.meta.resolve('astra-cache'))"]).trim()
  t.is(cjs, path.join(pkg, 'dist', 'index.js'))
  t.is(esm, pathToFileURL(path.join(pkg, 'dist', 'esm', 'index.mjs')).href)
})

test('import and require see the same names and the same objects', (t) => {
  writeFileSync(
    path.join(consumer, 'same.mjs'),
    `import { createRequire } from 'node:module'
import * as esm from 'astra-cache'
const cjs = createRequire(import.meta.url)('astra-cache')
const names = (m) => Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort()
const differ = names(esm).filter((k) => esm[k] !== cjs[k])
console.log(JSON.stringify({ esm: names(esm), cjs: names(cjs), differ }))
`,
  )
  const out = JSON.parse(node(['same.mjs'])) as { esm: string[]; cjs: string[]; differ: string[] }
  t.true(out.cjs.includes('InMemoryLRUCache'))
  t.true(out.cjs.includes('CacheError'))
  t.deepEqual(out.esm, out.cjs)
  t.deepEqual(out.differ, [])
})

test('only the entry and package.json are exported; deep imports are closed', (t) => {
  t.is(node(['-p', "require('astra-cache/package.json').name"]).trim(), 'astra-cache')
  const err = t.throws(() => node(['-e', "require('astra-cache/dist/cache.js')"]))
  t.regex(String((err as Error & { stderr?: string }).stderr), /ERR_PACKAGE_PATH_NOT_EXPORTED/)
})

test('every file the exports map names is built and published', (t) => {
  const targets: string[] = []
  const walk = (v: unknown): void => {
    if (typeof v === 'string') targets.push(v)
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk)
  }
  walk(manifest.exports)
  t.true(targets.length >= 5)
  for (const target of targets) {
    const rel = path.posix.normalize(target)
    t.true(existsSync(path.join(pkg, rel)), `${rel} is built`)
    const published = rel === 'package.json' || manifest.files.some((f) => rel === f || rel.startsWith(`${f}/`))
    t.true(published, `${rel} is covered by "files"`)
  }
})

test('TypeScript: import gets the .d.mts types, require the .d.ts types, and both are real', (t) => {
  writeFileSync(
    path.join(consumer, 'esm.mts'),
    `import { InMemoryLRUCache, CacheKeyError } from 'astra-cache'
const cache = new InMemoryLRUCache<{ id: number }>({ maxsize: 10 })
export const engine: 'native' | 'js' = cache.engine
// @ts-expect-error values are { id: number }
void cache.set('k', 'text')
// @ts-expect-error engine is 'native' | 'js'
export const wrong: number = cache.engine
export const isKeyError = (e: unknown): e is CacheKeyError => e instanceof CacheKeyError
`,
  )
  writeFileSync(
    path.join(consumer, 'cjs.cts'),
    `import astra = require('astra-cache')
const cache = new astra.InMemoryLRUCache<string>()
// @ts-expect-error values are strings
void cache.set('k', 1)
export = cache.engine
`,
  )
  writeFileSync(
    path.join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
      files: ['esm.mts', 'cjs.cts'],
    }),
  )
  let listing = ''
  try {
    listing = execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json', '--explainFiles'], { cwd: consumer, encoding: 'utf8' })
  } catch (err) {
    t.fail(`tsc failed:\n${String((err as { stdout?: string }).stdout).split('\n').filter((l) => l.includes('error TS')).join('\n')}`)
    return
  }
  const files = listing.split('\n').filter((line) => !line.startsWith(' '))
  const shown = (file: string): string => path.relative(consumer, path.join(pkg, file)) // how tsc lists it
  t.true(files.includes(shown('dist/esm/index.d.mts')), 'the ESM file got dist/esm/index.d.mts')
  t.true(files.includes(shown('dist/index.d.ts')), 'the CJS file got dist/index.d.ts')
})
