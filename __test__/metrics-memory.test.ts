// PrometheusSink wired into InMemoryLRUCache, for every engine under test.
import test from 'ava'
import { Registry } from 'prom-client'
import type { CacheStats } from '../src/contract/cache'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { PrometheusSink } from '../src/metrics/prometheus'
import { enginesUnderTest } from './helpers/engines'
import { FakeClock } from './helpers/fake-clock'
import { exportedStats, parsePrometheusText, sampleValue } from './helpers/prometheus-text'

async function scrape(registry: Registry) {
  return parsePrometheusText(await registry.metrics()).samples
}

function counters(stats: CacheStats) {
  const { hits, misses, evictions, expirations, size } = stats
  return { hits, misses, evictions, expirations, size }
}

for (const engine of enginesUnderTest()) {
  const title = (s: string) => `[memory/${engine}] ${s}`

  test(title('the exported counters equal stats() after hits, misses, evictions and expirations'), async (t) => {
    const registry = new Registry()
    const clock = new FakeClock()
    const cache = new InMemoryLRUCache({
      engine,
      maxsize: 2,
      clock: clock.now,
      name: 'users',
      metricsSink: new PrometheusSink({ registry, latencySampleRate: 0 }),
    })
    t.teardown(() => cache.close())

    await cache.set('a', 1)
    await cache.set('b', 2)
    t.is(await cache.get('a'), 1) // hit
    t.is(await cache.get('zzz'), undefined) // miss
    await cache.set('c', 3) // evicts b, the least recently used
    t.is(await cache.get('b'), undefined) // miss
    await cache.invalidate('c')
    await cache.set('short', 4, 1)
    clock.advance(2_000)
    t.is(await cache.get('short'), undefined) // miss + expiration
    t.deepEqual(await cache.getMany(['a', 'nope']), [1, undefined]) // hit + miss

    const stats = cache.stats()
    t.deepEqual(counters(stats), { hits: 2, misses: 4, evictions: 1, expirations: 1, size: 1 })
    t.deepEqual(exportedStats(await scrape(registry), 'users'), counters(stats))

    // Scraping again after more traffic follows stats() again.
    for (let i = 0; i < 5; i++) await cache.get('a')
    t.deepEqual(exportedStats(await scrape(registry), 'users'), counters(cache.stats()))
    t.is(cache.stats().hits, 7)
  })

  test(title('latencySampleRate 1 observes every get and set; 0 observes none'), async (t) => {
    const every = new Registry()
    const never = new Registry()
    const observed = new InMemoryLRUCache({ engine, name: 'every', metricsSink: new PrometheusSink({ registry: every, latencySampleRate: 1 }) })
    const silent = new InMemoryLRUCache({ engine, name: 'never', metricsSink: new PrometheusSink({ registry: never, latencySampleRate: 0 }) })
    t.teardown(() => observed.close())
    t.teardown(() => silent.close())
    for (const cache of [observed, silent]) {
      await cache.set('k', 'v')
      await cache.set('k2', 'v')
      for (let i = 0; i < 3; i++) await cache.get('k')
    }
    const samples = await scrape(every)
    t.is(sampleValue(samples, 'cache_latency_ms_count', { cache: 'every', op: 'get' }), 3)
    t.is(sampleValue(samples, 'cache_latency_ms_count', { cache: 'every', op: 'set' }), 2)
    const sum = sampleValue(samples, 'cache_latency_ms_sum', { cache: 'every', op: 'get' })!
    t.true(sum >= 0)
    t.deepEqual(
      (await scrape(never)).filter((s) => s.name.startsWith('cache_latency_ms')),
      [],
    )
  })

  test(title('latencySampleRate 0.25 observes every fourth operation'), async (t) => {
    const registry = new Registry()
    const cache = new InMemoryLRUCache({ engine, name: 'sampled', metricsSink: new PrometheusSink({ registry, latencySampleRate: 0.25 }) })
    t.teardown(() => cache.close())
    await cache.set('k', 1)
    for (let i = 0; i < 39; i++) await cache.get('k')
    const samples = await scrape(registry)
    const gets = sampleValue(samples, 'cache_latency_ms_count', { cache: 'sampled', op: 'get' }) ?? 0
    const sets = sampleValue(samples, 'cache_latency_ms_count', { cache: 'sampled', op: 'set' }) ?? 0
    t.is(gets + sets, 10)
    t.is(cache.stats().hits, 39) // sampling never skips counting
  })

  test(title('close() keeps the final counts exported and drops the size'), async (t) => {
    const registry = new Registry()
    const cache = new InMemoryLRUCache({ engine, name: 'closing', metricsSink: new PrometheusSink({ registry, latencySampleRate: 0 }) })
    await cache.set('k', 1)
    await cache.get('k')
    await cache.get('k')
    await cache.get('absent')
    await cache.close()
    const exported = exportedStats(await scrape(registry), 'closing')
    t.deepEqual(exported, { hits: 2, misses: 1, evictions: 0, expirations: 0, size: undefined })
  })

  test(title('several caches on one registry (one or two sinks) are exported side by side'), async (t) => {
    const registry = new Registry()
    const users = new InMemoryLRUCache({ engine, name: 'users', metricsSink: new PrometheusSink({ registry }) })
    const orders = new InMemoryLRUCache({ engine, name: 'orders', metricsSink: new PrometheusSink({ registry }) })
    const sharedSink = new PrometheusSink({ registry })
    const more = new InMemoryLRUCache({ engine, name: 'more', metricsSink: sharedSink })
    const evenMore = new InMemoryLRUCache({ engine, name: 'even-more', metricsSink: sharedSink })
    const all = [users, orders, more, evenMore]
    t.teardown(() => Promise.all(all.map((c) => c.close())))
    for (const [i, cache] of all.entries()) {
      for (let j = 0; j <= i; j++) await cache.get('missing')
    }
    const samples = await scrape(registry)
    for (const cache of all) t.deepEqual(exportedStats(samples, cache.name), counters(cache.stats()), cache.name)
    t.is(sampleValue(samples, 'cache_misses_total', { cache: 'even-more' }), 4)
  })
}
