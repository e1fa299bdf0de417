/**
 * Latency series exist from a cache's first operation of each kind, whatever the sample rate
 * (the first of each kind is observed, then 1 in N): a new dashboard shows every cache at once.
 */
import test from 'ava'
import { Registry } from 'prom-client'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { PrometheusSink } from '../src/metrics/prometheus'
import { RedisCache } from '../src/redis/redis-cache'
import { enginesUnderTest } from './helpers/engines'
import { parsePrometheusText, sampleValue } from './helpers/prometheus-text'
import { redisTestsOrSkip, startRedis } from './helpers/redis-server'

async function latencyCounts(registry: Registry, cache: string) {
  const { samples } = parsePrometheusText(await registry.metrics())
  const count = (op: string) => sampleValue(samples, 'cache_latency_ms_count', { cache, op })
  return { get: count('get'), set: count('set'), getOrSet: count('getOrSet'), has: count('has') }
}

for (const engine of enginesUnderTest()) {
  test(`[memory/${engine}] after one operation of a kind, a scrape at the default sample rate finds its series`, async (t) => {
    const registry = new Registry()
    const cache = new InMemoryLRUCache({ engine, name: 'fresh', metricsSink: new PrometheusSink({ registry }) })
    t.teardown(() => cache.close())
    t.deepEqual(await latencyCounts(registry, 'fresh'), { get: undefined, set: undefined, getOrSet: undefined, has: undefined })
    await cache.get('k')
    t.like(await latencyCounts(registry, 'fresh'), { get: 1, set: undefined })
    await cache.set('k', 1)
    await cache.getOrSet('k', () => 2)
    t.deepEqual(await latencyCounts(registry, 'fresh'), { get: 1, set: 1, getOrSet: 1, has: undefined })
    // Then 1 in 100 (the default rate), the early observations included.
    for (let i = 0; i < 100; i++) await cache.get('k')
    t.is((await latencyCounts(registry, 'fresh')).get, 1)
  })
}

if (redisTestsOrSkip(test, 'first-operation latency series of RedisCache')) {
  test('[redis] after one get, a scrape at the default sample rate finds the get series', async (t) => {
    const server = await startRedis()
    t.teardown(() => server.stop())
    const registry = new Registry()
    const cache = new RedisCache({ redisUrl: server.url, keyPrefix: 'first-op:', name: 'fresh-redis', metricsSink: new PrometheusSink({ registry }) })
    t.teardown(() => cache.close())
    await cache.get('k')
    t.like(await latencyCounts(registry, 'fresh-redis'), { get: 1, set: undefined })
    await cache.set('k', 1)
    t.like(await latencyCounts(registry, 'fresh-redis'), { get: 1, set: 1 })
  })
}
