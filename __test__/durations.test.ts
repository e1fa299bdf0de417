/**
 * Every TTL and time option takes a number in its unit (seconds for TTLs, ms for timeouts) or
 * a duration string ('250ms', '30s', '5m', '1h', '1d'); a malformed string is a coded error
 * naming the option and the value. A TTL above 30 days given as a bare number gives one
 * warning (once per process, so those cases run in fresh processes).
 */
import { machineSpec } from '../src/memory/machine-options'
import test from 'ava'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { cached, CacheOptionError, CacheTtlError, InMemoryLRUCache, readCacheConfig } from '../src'
import { resolveOptions } from '../src/redis/options'
import { TieredCache } from '../src/tiered'
import { FakeClock } from './helpers/fake-clock'

const ROOT = path.resolve(__dirname, '..')

test('defaultTtl and set() ttl take duration strings, with the cache reporting seconds', async (t) => {
  const clock = new FakeClock()
  const cache = new InMemoryLRUCache<number>({ engine: 'js', clock: clock.now, defaultTtl: '5m' })
  t.is(cache.defaultTtl, 300)
  await cache.set('default', 1)
  await cache.set('short', 2, '250ms')
  await cache.setMany([['many', 3, '1s']])
  clock.advance(249)
  t.is(await cache.get('short'), 2)
  clock.advance(2)
  t.is(await cache.get('short'), undefined)
  t.is(await cache.get('many'), 3)
  clock.advance(1000)
  t.is(await cache.get('many'), undefined)
  clock.advance(300_000 - 1251 - 1)
  t.is(await cache.get('default'), 1)
  clock.advance(2)
  t.is(await cache.get('default'), undefined)
})

test('getOrSet takes a duration as its ttl and in { ttl, staleTtl, grace }', async (t) => {
  const clock = new FakeClock()
  const cache = new InMemoryLRUCache<string>({ engine: 'js', clock: clock.now })
  t.is(await cache.getOrSet('a', () => 'a1', '2s'), 'a1')
  t.is(await cache.getOrSet('b', () => 'b1', { ttl: '1s', staleTtl: '1m' }), 'b1')
  clock.advance(1500)
  t.is(await cache.getOrSet('a', () => 'a2', '2s'), 'a1')
  // b is stale: served, refreshed in the background
  t.is(await cache.getOrSet('b', () => 'b2', { ttl: '1s', staleTtl: '1m' }), 'b1')
  await new Promise((resolve) => setImmediate(resolve))
  t.is(await cache.getOrSet('b', () => 'b3', { ttl: '1s', staleTtl: '1m' }), 'b2')
  clock.advance(600)
  t.is(await cache.getOrSet('a', () => 'a2', '2s'), 'a2')
})

test('a malformed or unitless duration is a coded error naming the option and the value', async (t) => {
  const cache = new InMemoryLRUCache({ engine: 'js' })
  await t.throwsAsync(cache.set('k', 1, '5 parsecs'), { instanceOf: CacheTtlError, code: 'ERR_CACHE_INVALID_TTL', message: /ttl must be .*"5 parsecs"/ } as never)
  await t.throwsAsync(cache.set('k', 1, '10'), { code: 'ERR_CACHE_INVALID_TTL', message: /with a unit.*"10"/ } as never)
  await t.throwsAsync(cache.set('k', 1, '-1s'), { code: 'ERR_CACHE_INVALID_TTL', message: /ttl must not be negative.*"-1s"/ } as never)
  await t.throwsAsync(cache.getOrSet('k', () => 1, { ttl: '1s', grace: 'forever' }), { code: 'ERR_CACHE_INVALID_TTL', message: /grace .*"forever"/ } as never)
  t.throws(() => new InMemoryLRUCache({ defaultTtl: 'soon' }), { code: 'ERR_CACHE_INVALID_TTL', message: /defaultTtl .*"soon"/ } as never)
  t.is(await cache.get('k'), undefined)
})

test('RedisCache options: TTLs in seconds and timeouts in ms take duration strings', (t) => {
  const o = resolveOptions({ defaultTtl: '1h', fallbackTtl: '10s', commandTimeoutMs: '2s', breakerOpenMs: '1.5s', breakerMaxOpenMs: '1m' })
  t.like(o, { defaultTtl: 3600, defaultTtlMs: 3_600_000, fallbackTtl: 10, commandTimeoutMs: 2000, breakerOpenMs: 1500, breakerMaxOpenMs: 60_000 })
  t.is(resolveOptions({ commandTimeoutMs: 250 }).commandTimeoutMs, 250)
  t.throws(() => resolveOptions({ commandTimeoutMs: 'soon' }), { instanceOf: CacheOptionError, message: /commandTimeoutMs .*"soon"/ })
  // a duration is still range-checked in its unit
  t.throws(() => resolveOptions({ commandTimeoutMs: '1h' }), { instanceOf: CacheOptionError, message: /commandTimeoutMs must be an integer from 1 to 600000/ })
})

test('TieredCache l1Ttl takes a duration string', async (t) => {
  const tiered = new TieredCache({ l1: new InMemoryLRUCache({ engine: 'js' }), l2: new InMemoryLRUCache({ engine: 'js' }), bus: false, l1Ttl: '5s' })
  t.is(tiered.l1Ttl, 5)
  t.throws(() => new TieredCache({ l1: new InMemoryLRUCache({ engine: 'js' }), l2: new InMemoryLRUCache({ engine: 'js' }), bus: false, l1Ttl: '5 sec later' }), { message: /l1Ttl .*"5 sec later"/ })
  await tiered.close()
})

test('cached() ttl, staleTtl, grace and timeoutMs take duration strings', async (t) => {
  const cache = new InMemoryLRUCache<number>({ engine: 'js' })
  let calls = 0
  const f = cached({ cache, prefix: 'f', ttl: '1m', staleTtl: '30s', grace: '1h', timeoutMs: '2s' })(async (x: number) => x + ++calls)
  t.is(await f(1), 2)
  t.is(await f(1), 2)
  t.throws(() => cached({ cache, prefix: 'g', timeoutMs: 'a while' }), { instanceOf: CacheOptionError, message: /cached timeoutMs .*"a while"/ })
  t.throws(() => cached({ cache, prefix: 'g', ttl: '1 fortnight' }), { instanceOf: CacheTtlError, message: /ttl .*"1 fortnight"/ })
})

test('CACHE_TTL_SECONDS and CACHE_REDIS_COMMAND_TIMEOUT_MS take durations too', (t) => {
  t.like(readCacheConfig({ CACHE_TTL_SECONDS: '5m', CACHE_REDIS_COMMAND_TIMEOUT_MS: '2s' }), { ttlSeconds: 300, redisCommandTimeoutMs: 2000 })
  t.like(readCacheConfig({ CACHE_TTL_SECONDS: '90', CACHE_REDIS_COMMAND_TIMEOUT_MS: '750' }), { ttlSeconds: 90, redisCommandTimeoutMs: 750 })
  t.throws(() => readCacheConfig({ CACHE_TTL_SECONDS: 'soon' }), { code: 'ERR_CACHE_CONFIG', message: /CACHE_TTL_SECONDS="soon"/ } as never)
  t.throws(() => readCacheConfig({ CACHE_TTL_SECONDS: '-5m' }), { code: 'ERR_CACHE_CONFIG', message: /CACHE_TTL_SECONDS="-5m"/ } as never)
  t.throws(() => readCacheConfig({ CACHE_REDIS_COMMAND_TIMEOUT_MS: '1.5ms' }), { code: 'ERR_CACHE_CONFIG', message: /CACHE_REDIS_COMMAND_TIMEOUT_MS="1.5ms"/ } as never)
})

/** The long-TTL warnings a fresh process emits while running `body` (`astra` is the root entry). */
function longTtlWarnings(body: string): string[] {
  const code = `
    const astra = require('./src/index.ts')
    const seen = []
    process.on('warning', (w) => { if (w.code === 'ASTRA_CACHE_LONG_TTL') seen.push(w.message) })
    ;(async () => { ${body} })().then(() => setTimeout(() => console.log(JSON.stringify(seen)), 20))`
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--no-warnings', '-e', code], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  return JSON.parse(out.trim().split('\n').pop()!)
}

test('a bare-number TTL above 30 days warns once, suggesting a duration string', (t) => {
  const seen = longTtlWarnings(`
    const cache = new astra.InMemoryLRUCache({ engine: 'js', defaultTtl: 60 * 86400 })
    await cache.set('a', 1, 3_000_000)
    await cache.getOrSet('b', () => 1, { ttl: 31 * 86400 })`)
  t.is(seen.length, 1)
  t.regex(seen[0], /defaultTtl 5184000 is in seconds \(about 60 days\)/)
  t.regex(seen[0], /'5184000ms'/)
})

test('no long-TTL warning for duration strings, 30 days exactly, Infinity, CACHE_TTL_SECONDS or Keyv milliseconds', (t) => {
  const seen = longTtlWarnings(`
    const cache = new astra.InMemoryLRUCache({ engine: 'js', defaultTtl: '60d' })
    await cache.set('a', 1, '400d')
    await cache.set('b', 1, 30 * 86400)
    await cache.set('c', 1, Infinity)
    await astra.createCache({ CACHE_ENABLED: 'true', CACHE_TTL_SECONDS: '5000000' }).close()
    const { KeyvAstraStore } = require('./src/keyv/index.ts')
    await new KeyvAstraStore(cache).set('k', 1, 60 * 86400 * 1000)
    if ((await cache.get('a')) !== 1) throw new Error('not stored')`)
  t.deepEqual(seen, [])
})

test('the machine-wide lockTimeout takes seconds or a duration string; a bad one names the option', (t) => {
  t.is(machineSpec('machine', { lockTimeout: '250ms' })!.lockTimeoutMs, 250)
  t.is(machineSpec('machine', { lockTimeout: '2m' })!.lockTimeoutMs, 120_000)
  t.is(machineSpec('machine', { lockTimeout: 1.5 })!.lockTimeoutMs, 1500)
  t.is(machineSpec('machine', {})!.lockTimeoutMs, 10_000)
  for (const bad of ['soon', '10', '2h', 0, -1]) {
    const e = t.throws(() => machineSpec('machine', { lockTimeout: bad }), { instanceOf: CacheOptionError }, String(bad))
    t.regex(e!.message, /lockTimeout/)
  }
})
