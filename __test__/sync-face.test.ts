/**
 * cache.sync: the synchronous face of the memory cache. Same validation (thrown, not
 * rejected), counters, metrics, engines and storages as the async API, over the same entries.
 */
import test from 'ava'
import { Registry } from 'prom-client'
import { CacheClosedError, CacheKeyError, CacheTtlError, CacheValueError, InMemoryLRUCache, type InMemoryLRUCacheOptions } from '../src'
import { PrometheusSink } from '../src/metrics/prometheus'
import { enginesUnderTest } from './helpers/engines'
import { FakeClock } from './helpers/fake-clock'
import { parsePrometheusText, sampleValue } from './helpers/prometheus-text'

const setups: [string, InMemoryLRUCacheOptions][] = []
for (const engine of enginesUnderTest()) setups.push([engine, { engine }])
if (setups.some(([name]) => name === 'native')) setups.push(['native/serialized', { engine: 'native', storage: 'serialized' }])

for (const [label, base] of setups) {
  test(`[${label}] get, set, has, peek and delete answer at once, over the entries the async API sees`, async (t) => {
    const clock = new FakeClock()
    const cache = new InMemoryLRUCache<{ n: number } | string>({ ...base, clock: clock.now, defaultTtl: 10 })
    t.teardown(() => cache.close())
    const { sync } = cache
    t.is(sync.set('a', 'one'), undefined)
    t.is(sync.get('a'), 'one')
    t.is(await cache.get('a'), 'one')
    await cache.set('b', { n: 2 })
    t.deepEqual(sync.get('b'), { n: 2 })
    t.true(sync.has('b'))
    t.deepEqual(sync.peek('b'), { n: 2 })
    t.is(sync.get('missing'), undefined)
    t.is(sync.peek('missing'), undefined)
    t.true(sync.delete('a'))
    t.false(sync.delete('a'))
    t.false(await cache.has('a'))
    // TTLs: the cache's default, seconds, duration strings
    sync.set('short', 'x', '250ms')
    sync.set('forever', 'y', 0)
    clock.advance(251)
    t.is(sync.get('short'), undefined)
    t.false(sync.has('short'))
    clock.advance(10_000)
    t.is(sync.get('b'), undefined)
    t.is(sync.get('forever'), 'y')
  })

  test(`[${label}] counts hits and misses like the async get; has and peek count nothing`, async (t) => {
    const cache = new InMemoryLRUCache<number>(base)
    t.teardown(() => cache.close())
    cache.sync.set('k', 1)
    cache.sync.get('k')
    cache.sync.get('k')
    cache.sync.get('nope')
    await cache.get('k')
    cache.sync.peek('k')
    cache.sync.peek('nope')
    cache.sync.has('k')
    t.like(cache.stats(), { hits: 3, misses: 1, size: 1 })
  })

  test(`[${label}] peek leaves recency alone, get refreshes it`, (t) => {
    const cache = new InMemoryLRUCache<number>({ ...base, maxsize: 2 })
    t.teardown(() => cache.close())
    const { sync } = cache
    sync.set('a', 1)
    sync.set('b', 2)
    sync.peek('a')
    sync.set('c', 3) // a is still least recently used
    t.deepEqual([sync.has('a'), sync.has('b'), sync.has('c')], [false, true, true])
    sync.get('b')
    sync.set('d', 4) // b was refreshed: c goes
    t.deepEqual([sync.has('b'), sync.has('c'), sync.has('d')], [true, false, true])
  })

  test(`[${label}] bad input and a closed cache throw the async API's errors`, async (t) => {
    const cache = new InMemoryLRUCache<unknown>(base)
    const { sync } = cache
    t.throws(() => sync.get(1 as never), { instanceOf: CacheKeyError })
    t.throws(() => sync.peek('x'.repeat(5000)), { instanceOf: CacheKeyError })
    t.throws(() => sync.set('k', undefined), { instanceOf: CacheValueError })
    t.throws(() => sync.set('k', 1, -1), { instanceOf: CacheTtlError })
    t.throws(() => sync.set('k', 1, 'soon'), { instanceOf: CacheTtlError, message: /"soon"/ })
    t.is(sync.get('k'), undefined)
    await cache.close()
    for (const call of [() => sync.get('k'), () => sync.set('k', 1), () => sync.has('k'), () => sync.peek('k'), () => sync.delete('k')]) {
      t.throws(call, { instanceOf: CacheClosedError })
    }
  })

  test(`[${label}] get and peek unwrap a stale-while-revalidate envelope getOrSet wrote`, async (t) => {
    const clock = new FakeClock()
    const cache = new InMemoryLRUCache<string>({ ...base, clock: clock.now })
    t.teardown(() => cache.close())
    await cache.getOrSet('k', () => 'v', { ttl: 1, staleTtl: 10 })
    t.is(cache.sync.get('k'), 'v')
    t.is(cache.sync.peek('k'), 'v')
    clock.advance(1500) // stale: a plain read misses
    t.is(cache.sync.peek('k'), undefined)
    t.is(cache.sync.get('k'), undefined)
    t.true(cache.sync.has('k'))
  })
}

test('sync operations feed the same latency series as the async ones', async (t) => {
  const registry = new Registry()
  const cache = new InMemoryLRUCache({ engine: 'js', name: 'syncface', metricsSink: new PrometheusSink({ registry, latencySampleRate: 1 }) })
  t.teardown(() => cache.close())
  cache.sync.set('k', 1)
  cache.sync.get('k')
  cache.sync.get('k')
  cache.sync.has('k')
  cache.sync.delete('k')
  await cache.get('k')
  const { samples } = parsePrometheusText(await registry.metrics())
  const count = (op: string) => sampleValue(samples, 'cache_latency_ms_count', { cache: 'syncface', op })
  t.deepEqual([count('set'), count('get'), count('has'), count('invalidate')], [1, 3, 1, 1])
  t.is(sampleValue(samples, 'cache_hits_total', { cache: 'syncface' }), 2)
  t.is(sampleValue(samples, 'cache_misses_total', { cache: 'syncface' }), 1)
})
