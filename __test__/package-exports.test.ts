/**
 * The package's entry points, on a fresh build linked into a consumer project as `npm link`
 * would (consumer/node_modules/astra-cache -> the package): every subpath of the exports map
 * works through `require`, `import` (the same objects: one module instance) and TypeScript's
 * node10, node16 and bundler resolution, with the user files of scripts/consumer/. The
 * fields derived from the exports map are up to date, and nothing outside the map is open.
 * scripts/pack-test.sh runs the same user files against installed tarballs.
 */
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadNative } from '../src/native'

const ROOT = path.resolve(__dirname, '..')
const CHECK = path.join(ROOT, 'scripts', 'consumer', 'check.js')
const entries = require('../scripts/package-entries.js') as {
  codeSubpaths(manifest: Manifest): string[]
  shapeProblems(manifest: Manifest): string[]
  staleFields(manifest: Manifest): string[]
}
interface Manifest {
  main: string
  types: string
  exports: Record<string, Record<'import' | 'require', Record<'types' | 'default', string>>>
  typesVersions: Record<string, Record<string, string[]>>
  files: string[]
}
const manifest = require('../package.json') as Manifest

const tmp = mkdtempSync(path.join(tmpdir(), 'astra-exports-'))
const pkg = path.join(tmp, 'astra-cache')
const consumer = path.join(tmp, 'consumer')
const link = (target: string, at: string): void => symlinkSync(target, at, 'junction') // junction: no admin right needed on Windows

function run(args: string[], env: Record<string, string> = {}): string {
  return execFileSync(process.execPath, args, { cwd: consumer, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '', ...env } })
}

/** Runs a check; on failure the test fails with the child's own message. */
function passes(t: { fail(message: string): void; pass(): void }, args: string[], env?: Record<string, string>): void {
  try {
    run(args, env)
    t.pass()
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string }
    t.fail(`${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`)
  }
}

test.before(() => {
  mkdirSync(pkg, { recursive: true })
  cpSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'))
  link(path.join(ROOT, 'native'), path.join(pkg, 'native'))
  link(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'))
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(pkg, 'dist')], {
      cwd: ROOT,
      encoding: 'utf8',
    })
  } catch (err) {
    // Type errors are the typecheck step's business; tsc still emits. Fail only without output.
    if (!existsSync(path.join(pkg, 'dist', 'index.js')) || !existsSync(path.join(pkg, 'dist', 'esm', 'index.mjs'))) throw err
  }
  mkdirSync(path.join(consumer, 'node_modules', '@types'), { recursive: true })
  writeFileSync(path.join(consumer, 'package.json'), '{ "name": "consumer", "version": "1.0.0", "private": true }\n')
  link(pkg, path.join(consumer, 'node_modules', 'astra-cache'))
  link(path.join(ROOT, 'node_modules', '@types', 'node'), path.join(consumer, 'node_modules', '@types', 'node'))
  // What the documentation's examples import besides astra-cache (check.js setup with the README).
  for (const dep of run([CHECK, 'deps']).trim().split(' ')) link(path.join(ROOT, 'node_modules', dep), path.join(consumer, 'node_modules', dep))
  run([CHECK, 'setup', consumer, path.join(ROOT, 'README.md')])
})

test.after.always(() => {
  rmSync(tmp, { recursive: true, force: true })
})

test('the exports map has the expected shape and main, types, typesVersions follow from it', (t) => {
  t.deepEqual(entries.shapeProblems(manifest), [])
  t.deepEqual(entries.staleFields(manifest), [], 'run `npm run entries`')
  t.deepEqual(entries.codeSubpaths(manifest).slice(0, 2), ['.', './keyv'])
})

test('every ESM entry file in src/esm is a subpath of the exports map', (t) => {
  const imported = new Set(entries.codeSubpaths(manifest).map((subpath) => manifest.exports[subpath].import.default))
  for (const file of readdirSync(path.join(ROOT, 'src', 'esm')).filter((f) => f.endsWith('.mts'))) {
    t.true(imported.has(`./dist/esm/${file.replace(/\.mts$/, '.mjs')}`), `src/esm/${file} has no exports entry`)
  }
})

test('require() of every subpath, and the memory cache, a decorator and the Keyv store work', (t) => {
  passes(t, ['use.cjs'], { EXPECT_ENGINE: loadNative() === null ? 'js' : 'native' })
})

test('import of every subpath gives the CommonJS build: same names, objects and default export', (t) => {
  passes(t, ['use.mjs'], { EXPECT_ENGINE: loadNative() === null ? 'js' : 'native' })
})

for (const mode of ['node10', 'node16', 'bundler']) {
  test(`TypeScript ${mode} resolution finds each subpath's types, and they are real`, (t) => {
    passes(t, [CHECK, 'tsc', consumer, mode])
  })
}

test('deep imports are closed: only the subpaths of the exports map resolve', (t) => {
  t.is(run(['-p', "require('astra-cache/package.json').name"]).trim(), 'astra-cache')
  const err = t.throws(() => run(['-e', "require('astra-cache/dist/cache.js')"]))
  t.regex(String((err as Error & { stderr?: string }).stderr), /ERR_PACKAGE_PATH_NOT_EXPORTED/)
})

test('every file the manifest points at is built and published', (t) => {
  const targets = [manifest.main, manifest.types, ...Object.values(manifest.typesVersions['*']).flat()]
  const walk = (v: unknown): void => {
    if (typeof v === 'string') targets.push(v)
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk)
  }
  walk(manifest.exports)
  t.true(targets.length >= 11)
  for (const target of targets) {
    const rel = path.posix.normalize(target)
    t.true(existsSync(path.join(pkg, rel)), `${rel} is built`)
    const published = rel === 'package.json' || manifest.files.some((f) => rel === f || rel.startsWith(`${f}/`))
    t.true(published, `${rel} is covered by "files"`)
  }
})

test('the package and every platform package name the repository, as npm provenance requires', (t) => {
  const root = require('../package.json') as { repository: { url: string }; homepage: string; bugs: { url: string }; license: string }
  t.regex(root.repository.url, /^git\+https:\/\/github\.com\/[\w.-]+\/[\w.-]+\.git$/)
  t.is(root.license, 'MIT')
  t.regex(readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'), /^MIT License\n/)
  const platforms = readdirSync(path.join(ROOT, 'npm'))
  t.true(platforms.length > 0)
  for (const dir of platforms) {
    const platform = require(path.join(ROOT, 'npm', dir, 'package.json')) as typeof root
    t.deepEqual([platform.repository, platform.homepage, platform.bugs, platform.license], [root.repository, root.homepage, root.bugs, root.license], `npm/${dir}`)
  }
})

test('the prepare script does nothing in an installed copy (no sources to build)', (t) => {
  const copy = path.join(tmp, 'installed')
  mkdirSync(path.join(copy, 'scripts'), { recursive: true })
  cpSync(path.join(ROOT, 'scripts', 'prepare.js'), path.join(copy, 'scripts', 'prepare.js'))
  writeFileSync(path.join(copy, 'package.json'), '{ "name": "astra-cache", "version": "0.0.0" }\n')
  const out = execFileSync(process.execPath, [path.join(copy, 'scripts', 'prepare.js')], { cwd: copy, encoding: 'utf8' })
  t.is(out, '')
  t.deepEqual(readdirSync(copy).sort(), ['package.json', 'scripts'])
})
