/**
 * Where the native binary is loaded from (src/native.ts): napi's loader (local build, then
 * the platform package), then prebuilds/ through node-gyp-build, then nothing (JS engine).
 * Each case runs in a fresh process, since the loader caches its outcome.
 */
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadNative } from '../src/native'

const ROOT = join(__dirname, '..')
const PROBE = `
  const { loadNative, nativeLoadError } = require(${JSON.stringify(join(ROOT, 'src', 'native.ts'))})
  const b = loadNative()
  console.log(JSON.stringify({ loaded: b !== null, error: nativeLoadError()?.message ?? null }))
`

function probe(env: Record<string, string>): { loaded: boolean; error: string | null } {
  const out = execFileSync(process.execPath, ['--import=tsx', '-e', PROBE], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop()!)
}

// napi's loader takes NAPI_RS_NATIVE_LIBRARY_PATH as the only file to load: a missing one rules steps 1-2 out.
const NO_NAPI = { NAPI_RS_NATIVE_LIBRARY_PATH: join(tmpdir(), 'astra-cache-no-such-binary.node') }

if (loadNative() === null) {
  test('native loader (binary not built: run npm run build:native)', (t) => {
    if (process.env.CI) t.fail('CI=true but the native engine did not load')
    else t.pass()
  })
} else {
  test('falls back to prebuilds/<platform>-<arch>/ through node-gyp-build', (t) => {
    const built = readdirSync(join(ROOT, 'native')).find((f) => f.endsWith('.node'))!
    const bundle = mkdtempSync(join(tmpdir(), 'astra-prebuilds-'))
    t.teardown(() => rmSync(bundle, { recursive: true, force: true }))
    const dir = join(bundle, 'prebuilds', `${process.platform}-${process.arch}`)
    mkdirSync(dir, { recursive: true })
    copyFileSync(join(ROOT, 'native', built), join(dir, 'astra-cache.napi.node'))
    t.deepEqual(probe({ ...NO_NAPI, ASTRA_CACHE_PREBUILDS_ROOT: bundle }), { loaded: true, error: null })
  })

  test('with no binary anywhere, loadNative() is null and the error names every place it looked', (t) => {
    const empty = mkdtempSync(join(tmpdir(), 'astra-empty-'))
    t.teardown(() => rmSync(empty, { recursive: true, force: true }))
    const result = probe({ ...NO_NAPI, ASTRA_CACHE_PREBUILDS_ROOT: empty })
    t.false(result.loaded)
    t.regex(result.error!, /native\/index\.js/)
    t.regex(result.error!, /prebuilds \(node-gyp-build\)/)
  })
}
