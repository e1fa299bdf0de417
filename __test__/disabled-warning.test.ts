/**
 * A cache disabled by default is not silent: createCache() and the decorators' default cache
 * give ONE process warning naming CACHE_ENABLED, unless CACHE_ENABLED was set (false included)
 * or `enabled` was passed. The warning is once per process, so each case runs in a fresh one.
 */
import test from 'ava'
import { execFileSync } from 'node:child_process'
import path from 'node:path'

const ROOT = path.resolve(__dirname, '..')

/** Runs `body` (CommonJS; `astra` is the root entry) in a fresh process; returns the warnings it emitted. */
function warningsOf(body: string, env: Record<string, string> = {}): { code: string; message: string }[] {
  const code = `
    const astra = require('./src/index.ts')
    const seen = []
    process.on('warning', (w) => { if (w.code === 'ASTRA_CACHE_DISABLED') seen.push({ code: w.code, message: w.message }) })
    ;(async () => { ${body} })().then(() => setTimeout(() => console.log(JSON.stringify(seen)), 20))`
  const childEnv: Record<string, string | undefined> = { ...process.env, NODE_OPTIONS: '', ...env }
  if (!('CACHE_ENABLED' in env)) delete childEnv.CACHE_ENABLED
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--no-warnings', '-e', code], { cwd: ROOT, encoding: 'utf8', env: childEnv })
  return JSON.parse(out.trim().split('\n').pop()!)
}

test('createCache() with CACHE_ENABLED unset warns once, naming the variable', (t) => {
  const seen = warningsOf(`
    astra.createCache({})
    astra.createCache({ CACHE_BACKEND: 'memory' })
    if (!(astra.createCache({}) instanceof astra.NullCache)) throw new Error('not a NullCache')`)
  t.is(seen.length, 1)
  t.regex(seen[0].message, /CACHE_ENABLED=true/)
  t.regex(seen[0].message, /createCache\(\)/)
})

test('createCache() does not warn when CACHE_ENABLED is set, to false or true, or enabled is passed', (t) => {
  const seen = warningsOf(`
    astra.createCache({ CACHE_ENABLED: 'false' })
    astra.createCache({ CACHE_ENABLED: ' off ' })
    astra.createCache({}, { enabled: false })
    await astra.createCache({ CACHE_ENABLED: 'true' }).close()`)
  t.deepEqual(seen, [])
})

test('a decorator without a cache warns once, naming the default cache and CACHE_ENABLED', (t) => {
  const seen = warningsOf(`
    const f = astra.cached({ prefix: 'f' })(async (x) => x * 2)
    const g = astra.cached({ prefix: 'g' })(async (x) => x + 1)
    if ((await f(2)) !== 4 || (await f(2)) !== 4 || (await g(1)) !== 2) throw new Error('wrong result')`)
  t.is(seen.length, 1)
  t.regex(seen[0].message, /default cache/)
  t.regex(seen[0].message, /CACHE_ENABLED=true/)
})

test('a decorator does not warn when CACHE_ENABLED=false is set explicitly', (t) => {
  const seen = warningsOf(`
    const f = astra.cached({ prefix: 'f' })(async (x) => x * 2)
    if ((await f(2)) !== 4) throw new Error('wrong result')`, { CACHE_ENABLED: 'false' })
  t.deepEqual(seen, [])
})

test('a decorator over an enabled default cache does not warn', (t) => {
  const seen = warningsOf(`
    const f = astra.cached({ prefix: 'f' })(async (x) => x * 2)
    if ((await f(2)) !== 4) throw new Error('wrong result')
    await astra.getDefaultCache().close()`, { CACHE_ENABLED: 'true' })
  t.deepEqual(seen, [])
})
