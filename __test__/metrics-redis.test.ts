// PrometheusSink wired into RedisCache against a real redis-server on a loopback port.
import test from 'ava'
import { Registry } from 'prom-client'
import { PrometheusSink } from '../src/metrics/prometheus'
import { RedisCache } from '../src/redis/redis-cache'
import { exportedStats, parsePrometheusText, sampleValue } from './helpers/prometheus-text'
import { redisTestsOrSkip, sleep, startRedis } from './helpers/redis-server'

async function ready(cache: RedisCache): Promise<void> {
  for (let i = 0; i < 100 && !cache.health().connected; i++) await sleep(20)
  if (!cache.health().connected) throw new Error('RedisCache did not connect')
}

async function scrape(registry: Registry) {
  return parsePrometheusText(await registry.metrics()).samples
}

if (redisTestsOrSkip(test, 'metrics with RedisCache')) {
  test.serial('RedisCache: exported hits and misses equal stats(), every op timed at rate 1, no size', async (t) => {
    const server = await startRedis()
    t.teardown(() => server.stop())
    const registry = new Registry()
    const cache = new RedisCache({
      redisUrl: server.url,
      keyPrefix: 'metrics-test:',
      name: 'sessions',
      metricsSink: new PrometheusSink({ registry, latencySampleRate: 1 }),
    })
    t.teardown(() => cache.close())
    await ready(cache)

    await cache.set('a', { n: 1 })
    t.deepEqual(await cache.get('a'), { n: 1 })
    t.is(await cache.get('absent'), undefined)
    t.is(await cache.get('absent-too'), undefined)

    const samples = await scrape(registry)
    const stats = cache.stats()
    t.is(stats.hits, 1)
    t.is(stats.misses, 2)
    t.like(exportedStats(samples, 'sessions'), { hits: stats.hits, misses: stats.misses, evictions: 0, expirations: 0, size: undefined })
    t.is(sampleValue(samples, 'cache_latency_ms_count', { cache: 'sessions', op: 'get' }), 3)
    t.is(sampleValue(samples, 'cache_latency_ms_count', { cache: 'sessions', op: 'set' }), 1)
  })

  test.serial('RedisCache: errors while Redis is down show up in cache_errors_total as errorCounts() says', async (t) => {
    const server = await startRedis()
    t.teardown(() => server.stop())
    const registry = new Registry()
    const cache = new RedisCache({
      redisUrl: server.url,
      keyPrefix: 'metrics-test:',
      name: 'flaky',
      commandTimeoutMs: 200,
      metricsSink: new PrometheusSink({ registry, latencySampleRate: 0 }),
    })
    cache.on('error', () => {}) // expected while Redis is down
    t.teardown(() => cache.close())
    await ready(cache)
    await cache.set('a', 1)

    await server.kill()
    for (let i = 0; i < 5; i++) await cache.get('a') // served by the fallback or missed, never thrown
    await sleep(100)

    const errors = cache.errorCounts()
    const total = Object.values(errors).reduce((a, b) => a + b, 0)
    t.true(total > 0, `no error counted: ${JSON.stringify(errors)}`)
    const samples = await scrape(registry)
    for (const [op, n] of Object.entries(cache.errorCounts())) {
      t.is(sampleValue(samples, 'cache_errors_total', { cache: 'flaky', op }), n, op)
    }
    const stats = cache.stats()
    t.like(exportedStats(samples, 'flaky'), { hits: stats.hits, misses: stats.misses })
  })

  test.serial('RedisCache: close() keeps the final counts exported', async (t) => {
    const server = await startRedis()
    t.teardown(() => server.stop())
    const registry = new Registry()
    const cache = new RedisCache({
      redisUrl: server.url,
      keyPrefix: 'metrics-test:',
      name: 'closing',
      metricsSink: new PrometheusSink({ registry, latencySampleRate: 0 }),
    })
    await ready(cache)
    await cache.set('k', 1)
    await cache.get('k')
    await cache.get('nope')
    await cache.close()
    t.like(exportedStats(await scrape(registry), 'closing'), { hits: 1, misses: 1 })
  })
}
