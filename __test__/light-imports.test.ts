/**
 * The root entry is light: importing it (require or import, in a fresh process) loads neither
 * ioredis nor prom-client; they are loaded when a Redis cache, an invalidation bus or a
 * Prometheus sink is built (createCache with CACHE_BACKEND=redis included). A missing optional
 * package is a CacheDependencyError naming it, tested by making the package unresolvable in a
 * child process. (scripts/consumer/use.cjs and use.mjs check the built package the same way.)
 */
import test from 'ava'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { redisTestsOrSkip, startRedis, type RedisServer } from './helpers/redis-server'

const ROOT = path.resolve(__dirname, '..')
const BLOCKER = path.join(__dirname, 'helpers', 'unresolvable.cjs')

/** Runs `code` (CommonJS, or an ES module with esm) in a fresh node with tsx; returns its last stdout line as JSON. */
function child(code: string, options: { esm?: boolean; unresolvable?: string[]; env?: Record<string, string> } = {}): any {
  const args = ['--import', 'tsx', ...(options.unresolvable ? ['--require', BLOCKER] : []), ...(options.esm ? ['--input-type=module'] : []), '-e', code]
  const out = execFileSync(process.execPath, args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', UNRESOLVABLE: (options.unresolvable ?? []).join(','), ...options.env },
  })
  return JSON.parse(out.trim().split('\n').pop()!)
}

/** Which of the heavy optional packages this process has loaded (JS source: runs in the child). */
const HEAVY = `['ioredis', 'prom-client'].filter((name) => Object.keys(require('node:module')._cache).some((f) => f.includes('/node_modules/' + name + '/')))`

test('require of the root entry loads neither ioredis nor prom-client, and its memory cache works', (t) => {
  const r = child(`
    const astra = require('./src/index.ts')
    const heavy = ${HEAVY}
    const cache = new astra.InMemoryLRUCache({ engine: 'js' })
    cache.set('k', 1).then(() => cache.get('k')).then((v) => console.log(JSON.stringify({ heavy, v, redis: 'RedisCache' in astra, sink: 'PrometheusSink' in astra })))`)
  t.deepEqual(r, { heavy: [], v: 1, redis: false, sink: false })
})

test('import of the root ES entry loads neither ioredis nor prom-client', (t) => {
  const r = child(`
    import { createRequire } from 'node:module'
    const require = createRequire(process.cwd() + '/')
    const astra = await import('./src/esm/index.mts')
    console.log(JSON.stringify({ heavy: ${HEAVY}, cache: typeof astra.InMemoryLRUCache }))`, { esm: true })
  t.deepEqual(r, { heavy: [], cache: 'function' })
})

test('the redis, tiered and prometheus entries load their package only when a cache, bus or sink is built', (t) => {
  const r = child(`
    const { RedisCache } = require('./src/redis/index.ts')
    const { TieredCache, RedisInvalidationBus } = require('./src/tiered/index.ts')
    const { PrometheusSink } = require('./src/metrics/index.ts')
    const imported = ${HEAVY}
    new PrometheusSink({ registry: new (require('prom-client').Registry)() })
    const cache = new RedisCache({ redisUrl: 'redis://127.0.0.1:1', fallback: false })
    const built = ${HEAVY}
    cache.on('error', () => {})
    cache.close().then(() => console.log(JSON.stringify({ imported, built, classes: [typeof TieredCache, typeof RedisInvalidationBus] })))`)
  t.deepEqual(r, { imported: [], built: ['ioredis', 'prom-client'], classes: ['function', 'function'] })
})

test('without ioredis, prom-client and msgpackr: every entry still imports; building what needs one is a CacheDependencyError naming it', (t) => {
  const r = child(
    `
    const astra = require('./src/index.ts')
    const { RedisCache } = require('./src/redis/index.ts')
    const { RedisInvalidationBus } = require('./src/tiered/index.ts')
    const { PrometheusSink } = require('./src/metrics/index.ts')
    const { KeyvAstraStore } = require('./src/keyv/index.ts')
    const error = (f) => { try { f(); return 'no error' } catch (e) { return { name: e.name, code: e.code, packageName: e.packageName, message: e.message, isCacheError: e instanceof astra.CacheError } } }
    console.log(JSON.stringify({
      memory: new astra.InMemoryLRUCache({ engine: 'js' }).name,
      keyv: typeof KeyvAstraStore,
      redis: error(() => new RedisCache()),
      createCache: error(() => astra.createCache({ CACHE_ENABLED: 'true', CACHE_BACKEND: 'redis' })),
      bus: error(() => new RedisInvalidationBus({ redisUrl: 'redis://127.0.0.1:1', channel: 'c' })),
      sink: error(() => new PrometheusSink()),
      msgpack: error(() => astra.msgpackSerializer()),
    }))`,
    { unresolvable: ['ioredis', 'prom-client', 'msgpackr'] },
  )
  t.is(r.memory, 'memory')
  t.is(r.keyv, 'function')
  const expect = (got: any, pkg: string, neededBy: string) => {
    t.like(got, { name: 'CacheDependencyError', code: 'ERR_CACHE_MISSING_DEPENDENCY', packageName: pkg, isCacheError: true })
    t.is(got.message, `${neededBy} needs the package "${pkg}", which is not installed: run \`npm install ${pkg}\``)
  }
  expect(r.redis, 'ioredis', 'RedisCache')
  expect(r.createCache, 'ioredis', 'RedisCache')
  expect(r.bus, 'ioredis', 'RedisInvalidationBus')
  expect(r.sink, 'prom-client', 'PrometheusSink')
  expect(r.msgpack, 'msgpackr', 'msgpackSerializer()')
})

test('an error inside an installed optional package is not taken for a missing one', (t) => {
  // A package whose own dependency is missing: the error is the package's, passed on as it is.
  const r = child(
    `
    const Module = require('node:module')
    const load = Module._load
    Module._load = function (request, ...rest) {
      if (request === 'prom-client') { const e = new Error("Cannot find module 'tdigest'"); e.code = 'MODULE_NOT_FOUND'; throw e }
      return load.call(this, request, ...rest)
    }
    const { PrometheusSink } = require('./src/metrics/index.ts')
    try { new PrometheusSink() } catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message })) }`,
  )
  t.deepEqual(r, { name: 'Error', message: "Cannot find module 'tdigest'" })
})

if (redisTestsOrSkip(test, 'createCache with CACHE_BACKEND=redis from the root entry')) {
  let server: RedisServer
  test.before(async () => {
    server = await startRedis()
  })
  test.after.always(() => server?.stop())

  test('createCache() with CACHE_BACKEND=redis works from the root entry, loading ioredis then', (t) => {
    const r = child(
      `
      const { createCache } = require('./src/index.ts')
      const before = ${HEAVY}
      const cache = createCache({ CACHE_ENABLED: 'true', CACHE_BACKEND: 'redis', CACHE_REDIS_URL: process.env.URL, CACHE_KEY_PREFIX: 'light:' })
      ;(async () => {
        await cache.set('k', { n: 1 })
        const v = await cache.get('k')
        await cache.clear()
        await cache.close()
        console.log(JSON.stringify({ before, after: ${HEAVY}, name: cache.constructor.name, v }))
      })()`,
      { env: { URL: server.url } },
    )
    t.deepEqual(r, { before: [], after: ['ioredis'], name: 'RedisCache', v: { n: 1 } })
  })
}
