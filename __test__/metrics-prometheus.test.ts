// PrometheusSink against fake sources: the sink's own rules, independent of any backend.
import test from 'ava'
import { AggregatorRegistry, Counter, Registry, register as globalRegister, type OpenMetricsContentType } from 'prom-client'
import { CacheStats, type CacheStatsFields } from '../src/contract/cache'
import { CacheOptionError } from '../src/errors'
import type { MetricsSource } from '../src/contract/metrics'
import { PrometheusSink } from '../src/metrics/prometheus'
import { parsePrometheusText, sampleValue } from './helpers/prometheus-text'

class FakeSource implements MetricsSource {
  fields: CacheStatsFields = { hits: 0, misses: 0, evictions: 0, expirations: 0, size: 0, maxsize: 10 }
  errors: Record<string, number> | undefined
  broken = false
  constructor(readonly name: string) {}
  stats(): CacheStats {
    if (this.broken) throw new Error('closed')
    return new CacheStats(this.fields)
  }
  errorCounts(): Readonly<Record<string, number>> {
    return this.errors ?? {}
  }
}

async function scrape(registry: Registry) {
  return parsePrometheusText(await registry.metrics())
}

test('exports the counters, the size gauge and the latency histogram with their Prometheus types', async (t) => {
  const registry = new Registry()
  new PrometheusSink({ registry }).attach(new FakeSource('a'))
  const { types } = await scrape(registry)
  t.is(types.get('cache_hits_total'), 'counter')
  t.is(types.get('cache_misses_total'), 'counter')
  t.is(types.get('cache_evictions_total'), 'counter')
  t.is(types.get('cache_expirations_total'), 'counter')
  t.is(types.get('cache_errors_total'), 'counter')
  t.is(types.get('cache_size'), 'gauge')
  t.is(types.get('cache_latency_ms'), 'histogram')
})

test('counters are read from stats() at scrape time', async (t) => {
  const registry = new Registry()
  const source = new FakeSource('users')
  new PrometheusSink({ registry }).attach(source)
  source.fields = { hits: 3, misses: 2, evictions: 1, expirations: 4, size: 5, maxsize: 10 }
  let { samples } = await scrape(registry)
  t.is(sampleValue(samples, 'cache_hits_total', { cache: 'users' }), 3)
  t.is(sampleValue(samples, 'cache_misses_total', { cache: 'users' }), 2)
  t.is(sampleValue(samples, 'cache_evictions_total', { cache: 'users' }), 1)
  t.is(sampleValue(samples, 'cache_expirations_total', { cache: 'users' }), 4)
  t.is(sampleValue(samples, 'cache_size', { cache: 'users' }), 5)
  source.fields = { ...source.fields, hits: 10 }
  ;({ samples } = await scrape(registry))
  t.is(sampleValue(samples, 'cache_hits_total', { cache: 'users' }), 10)
})

test('errorCounts() becomes cache_errors_total per op', async (t) => {
  const registry = new Registry()
  const source = new FakeSource('redis')
  source.errors = { get: 2, set: 1 }
  new PrometheusSink({ registry }).attach(source)
  const { samples } = await scrape(registry)
  t.is(sampleValue(samples, 'cache_errors_total', { cache: 'redis', op: 'get' }), 2)
  t.is(sampleValue(samples, 'cache_errors_total', { cache: 'redis', op: 'set' }), 1)
  t.is(sampleValue(samples, 'cache_errors_total', { cache: 'redis', op: 'clear' }), undefined)
})

test('several caches and two sinks on one registry: no duplicate registration, shared metric objects', async (t) => {
  const registry = new Registry()
  const first = new PrometheusSink({ registry })
  const hitsMetric = registry.getSingleMetric('cache_hits_total')
  const second = new PrometheusSink({ registry })
  t.is(registry.getSingleMetric('cache_hits_total'), hitsMetric)
  const a = new FakeSource('a')
  const b = new FakeSource('b')
  a.fields.hits = 1
  b.fields.hits = 2
  first.attach(a)
  second.attach(b)
  const { samples } = await scrape(registry)
  t.is(sampleValue(samples, 'cache_hits_total', { cache: 'a' }), 1)
  t.is(sampleValue(samples, 'cache_hits_total', { cache: 'b' }), 2)
  t.is(samples.filter((s) => s.name === 'cache_hits_total').length, 2)
})

test('one source attached twice (even through two sinks of one registry) is counted once', async (t) => {
  const registry = new Registry()
  const source = new FakeSource('a')
  source.fields.hits = 7
  new PrometheusSink({ registry }).attach(source)
  new PrometheusSink({ registry }).attach(source)
  const { samples } = await scrape(registry)
  t.is(sampleValue(samples, 'cache_hits_total', { cache: 'a' }), 7)
})

test('caches sharing a name are summed under one label', async (t) => {
  const registry = new Registry()
  const sink = new PrometheusSink({ registry })
  const a = new FakeSource('shared')
  const b = new FakeSource('shared')
  a.fields = { hits: 1, misses: 2, evictions: 3, expirations: 4, size: 5, maxsize: 10 }
  b.fields = { hits: 10, misses: 20, evictions: 30, expirations: 40, size: 50, maxsize: 100 }
  a.errors = { get: 1 }
  b.errors = { get: 2, set: 3 }
  sink.attach(a)
  sink.attach(b)
  const { samples } = await scrape(registry)
  t.is(sampleValue(samples, 'cache_hits_total', { cache: 'shared' }), 11)
  t.is(sampleValue(samples, 'cache_misses_total', { cache: 'shared' }), 22)
  t.is(sampleValue(samples, 'cache_evictions_total', { cache: 'shared' }), 33)
  t.is(sampleValue(samples, 'cache_expirations_total', { cache: 'shared' }), 44)
  t.is(sampleValue(samples, 'cache_size', { cache: 'shared' }), 55)
  t.is(sampleValue(samples, 'cache_errors_total', { cache: 'shared', op: 'get' }), 3)
  t.is(sampleValue(samples, 'cache_errors_total', { cache: 'shared', op: 'set' }), 3)
})

test('detach keeps the final counts (counters never go backwards) and drops the size', async (t) => {
  const registry = new Registry()
  const sink = new PrometheusSink({ registry })
  const old = new FakeSource('users')
  sink.attach(old)
  old.fields = { hits: 5, misses: 1, evictions: 0, expirations: 0, size: 3, maxsize: 10 }
  old.errors = { get: 2 }
  sink.detach(old)
  old.fields = { ...old.fields, hits: 999 } // not read any more
  let { samples } = await scrape(registry)
  t.is(sampleValue(samples, 'cache_hits_total', { cache: 'users' }), 5)
  t.is(sampleValue(samples, 'cache_misses_total', { cache: 'users' }), 1)
  t.is(sampleValue(samples, 'cache_errors_total', { cache: 'users', op: 'get' }), 2)
  t.is(sampleValue(samples, 'cache_size', { cache: 'users' }), undefined)

  // A new cache of the same name continues from the retired totals.
  const fresh = new FakeSource('users')
  fresh.fields = { hits: 2, misses: 0, evictions: 0, expirations: 0, size: 1, maxsize: 10 }
  sink.attach(fresh)
  ;({ samples } = await scrape(registry))
  t.is(sampleValue(samples, 'cache_hits_total', { cache: 'users' }), 7)
  t.is(sampleValue(samples, 'cache_size', { cache: 'users' }), 1)
})

test('a backend that cannot know its size (maxsize 0, like Redis) exports no cache_size', async (t) => {
  const registry = new Registry()
  const source = new FakeSource('redis')
  source.fields = { hits: 1, misses: 0, evictions: 0, expirations: 0, size: 0, maxsize: 0 }
  new PrometheusSink({ registry }).attach(source)
  const { samples } = await scrape(registry)
  t.is(sampleValue(samples, 'cache_hits_total', { cache: 'redis' }), 1)
  t.is(sampleValue(samples, 'cache_size', { cache: 'redis' }), undefined)
})

test('detach of a source whose stats() already throws keeps its last scraped counts', async (t) => {
  const registry = new Registry()
  const sink = new PrometheusSink({ registry })
  const source = new FakeSource('a')
  source.fields.hits = 4
  sink.attach(source)
  await scrape(registry)
  source.broken = true
  sink.detach(source)
  const { samples } = await scrape(registry)
  t.is(sampleValue(samples, 'cache_hits_total', { cache: 'a' }), 4)
})

test('detach of a source never attached does nothing', async (t) => {
  const registry = new Registry()
  const sink = new PrometheusSink({ registry })
  const source = new FakeSource('ghost')
  source.fields.hits = 3
  sink.detach(source)
  const { samples } = await scrape(registry)
  t.is(sampleValue(samples, 'cache_hits_total', { cache: 'ghost' }), undefined)
})

test('a source whose stats() throws does not break the scrape of the others', async (t) => {
  const registry = new Registry()
  const sink = new PrometheusSink({ registry })
  const broken = new FakeSource('broken')
  broken.broken = true
  const fine = new FakeSource('fine')
  fine.fields.misses = 2
  sink.attach(broken)
  sink.attach(fine)
  const { samples } = await scrape(registry)
  t.is(sampleValue(samples, 'cache_misses_total', { cache: 'fine' }), 2)
  t.is(sampleValue(samples, 'cache_misses_total', { cache: 'broken' }), undefined)
})

test('nonsense counts from a source export as 0 instead of failing the scrape', async (t) => {
  const registry = new Registry()
  const source = new FakeSource('odd')
  source.fields = { hits: NaN, misses: -1, evictions: Infinity, expirations: 2, size: 0, maxsize: 1 }
  new PrometheusSink({ registry }).attach(source)
  const { samples } = await scrape(registry)
  t.is(sampleValue(samples, 'cache_hits_total', { cache: 'odd' }), 0)
  t.is(sampleValue(samples, 'cache_misses_total', { cache: 'odd' }), 0)
  t.is(sampleValue(samples, 'cache_evictions_total', { cache: 'odd' }), 0)
  t.is(sampleValue(samples, 'cache_expirations_total', { cache: 'odd' }), 2)
})

test('observeLatency fills cache_latency_ms per cache and op, from sub-microsecond to seconds', async (t) => {
  const registry = new Registry()
  const sink = new PrometheusSink({ registry })
  sink.observeLatency('users', 'get', 0.0003)
  sink.observeLatency('users', 'get', 2)
  sink.observeLatency('users', 'set', 2000)
  sink.observeLatency('users', 'get', -1) // ignored: a clock step must not throw into a cache call
  sink.observeLatency('users', 'get', NaN)
  const { samples } = await scrape(registry)
  t.is(sampleValue(samples, 'cache_latency_ms_count', { cache: 'users', op: 'get' }), 2)
  t.is(sampleValue(samples, 'cache_latency_ms_bucket', { cache: 'users', op: 'get', le: '0.0005' }), 1)
  t.is(sampleValue(samples, 'cache_latency_ms_bucket', { cache: 'users', op: 'get', le: '2.5' }), 2)
  t.is(sampleValue(samples, 'cache_latency_ms_sum', { cache: 'users', op: 'get' }), 2.0003)
  t.is(sampleValue(samples, 'cache_latency_ms_bucket', { cache: 'users', op: 'set', le: '1000' }), 0)
  t.is(sampleValue(samples, 'cache_latency_ms_bucket', { cache: 'users', op: 'set', le: '2500' }), 1)
})

test('cache_latency_ms renders cumulative buckets, +Inf, _sum and _count like a prom-client Histogram', async (t) => {
  const registry = new Registry()
  const sink = new PrometheusSink({ registry })
  for (const ms of [0.0002, 0.003, 0.003, 40, 9999]) sink.observeLatency('c', 'get', ms)
  const { samples } = await scrape(registry)
  const bucket = (le: string) => sampleValue(samples, 'cache_latency_ms_bucket', { cache: 'c', op: 'get', le })
  t.is(bucket('0.0005'), 1)
  t.is(bucket('0.0025'), 1)
  t.is(bucket('0.005'), 3)
  t.is(bucket('50'), 4)
  t.is(bucket('2500'), 4)
  t.is(bucket('+Inf'), 5)
  t.is(sampleValue(samples, 'cache_latency_ms_count', { cache: 'c', op: 'get' }), 5)
  t.is(samples.filter((s) => s.name === 'cache_latency_ms_bucket').length, 22)
  // Buckets never decrease along le.
  const values = samples.filter((s) => s.name === 'cache_latency_ms_bucket').map((s) => s.value)
  t.deepEqual(values, [...values].sort((a, b) => a - b))
})

test('registry.resetMetrics() empties the latency histogram; counters come back from stats()', async (t) => {
  const registry = new Registry()
  const sink = new PrometheusSink({ registry })
  const source = new FakeSource('r')
  source.fields.hits = 3
  sink.attach(source)
  sink.observeLatency('r', 'get', 1)
  registry.resetMetrics()
  const { samples } = await scrape(registry)
  t.is(sampleValue(samples, 'cache_latency_ms_count', { cache: 'r', op: 'get' }), undefined)
  t.is(sampleValue(samples, 'cache_hits_total', { cache: 'r' }), 3)
})

test('cluster aggregation (AggregatorRegistry) sums counters and histograms of several workers', async (t) => {
  const workers = [new Registry(), new Registry()]
  for (const [i, registry] of workers.entries()) {
    const sink = new PrometheusSink({ registry })
    const source = new FakeSource('w')
    source.fields.hits = i + 1
    sink.attach(source)
    sink.observeLatency('w', 'get', 0.01)
  }
  const merged = AggregatorRegistry.aggregate(await Promise.all(workers.map((r) => r.getMetricsAsJSON())))
  const { samples } = parsePrometheusText(await merged.metrics())
  t.is(sampleValue(samples, 'cache_hits_total', { cache: 'w' }), 3)
  t.is(sampleValue(samples, 'cache_latency_ms_count', { cache: 'w', op: 'get' }), 2)
  t.is(sampleValue(samples, 'cache_latency_ms_bucket', { cache: 'w', op: 'get', le: '0.01' }), 2)
})

test('latencySampleRate defaults to 0.01 and accepts 0 and 1', (t) => {
  const registry = new Registry()
  t.is(new PrometheusSink({ registry }).latencySampleRate, 0.01)
  t.is(new PrometheusSink({ registry, latencySampleRate: 0 }).latencySampleRate, 0)
  t.is(new PrometheusSink({ registry, latencySampleRate: 1 }).latencySampleRate, 1)
})

test('bad options throw CacheOptionError naming the option and the value', (t) => {
  const registry = new Registry()
  for (const [rate, shown] of [
    [-0.1, '-0.1'],
    [1.5, '1.5'],
    [NaN, 'NaN'],
    ['0.5', '"0.5"'],
  ] as const) {
    const err = t.throws(() => new PrometheusSink({ registry, latencySampleRate: rate as number }), { instanceOf: CacheOptionError })
    t.regex(err!.message, /latencySampleRate/)
    t.true(err!.message.includes(shown), err!.message)
    t.is((err as CacheOptionError).code, 'ERR_CACHE_INVALID_OPTION')
  }
  t.throws(() => new PrometheusSink({ registry, prefix: 'bad-prefix' }), { instanceOf: CacheOptionError, message: /prefix.*bad-prefix/ })
  t.throws(() => new PrometheusSink({ registry: {} as Registry }), { instanceOf: CacheOptionError, message: /registry/ })
  t.throws(() => new PrometheusSink({ registry, latencySampleRat: 0 } as never), {
    instanceOf: CacheOptionError,
    message: /latencySampleRat/,
  })
  t.throws(() => new PrometheusSink(null as never), { instanceOf: CacheOptionError, message: /null/ })
  t.throws(() => new PrometheusSink({ registry }).attach(null as never), { instanceOf: CacheOptionError, message: /attach/ })
})

test('prefix renames every metric; two prefixes coexist on one registry', async (t) => {
  const registry = new Registry()
  const source = new FakeSource('a')
  source.fields.hits = 1
  new PrometheusSink({ registry, prefix: 'app1_' }).attach(source)
  new PrometheusSink({ registry, prefix: 'app2_' }).attach(new FakeSource('b'))
  const { samples, types } = await scrape(registry)
  t.is(sampleValue(samples, 'app1_cache_hits_total', { cache: 'a' }), 1)
  t.is(sampleValue(samples, 'app2_cache_hits_total', { cache: 'b' }), 0)
  t.is(types.get('app1_cache_latency_ms'), 'histogram')
  t.false(types.has('cache_hits_total'))
})

test('a metric of the same name registered by someone else is a clear conflict', (t) => {
  const registry = new Registry()
  new Counter({ name: 'cache_hits_total', help: 'mine', registers: [registry] })
  t.throws(() => new PrometheusSink({ registry }), { instanceOf: CacheOptionError, message: /cache_hits_total.*prefix/ })
})

test('after registry.clear() a new sink registers the metrics again, keeping attached caches', async (t) => {
  const registry = new Registry()
  const source = new FakeSource('a')
  source.fields.hits = 2
  new PrometheusSink({ registry }).attach(source)
  registry.clear()
  t.is(await registry.metrics(), '\n')
  new PrometheusSink({ registry })
  const { samples } = await scrape(registry)
  t.is(sampleValue(samples, 'cache_hits_total', { cache: 'a' }), 2)
})

test('the default registry is prom-client global register', async (t) => {
  const sink = new PrometheusSink({ prefix: 'astra_default_test_' })
  t.is(sink.registry, globalRegister)
  const source = new FakeSource('g')
  source.fields.hits = 9
  sink.attach(source)
  const { samples } = parsePrometheusText(await globalRegister.metrics())
  t.is(sampleValue(samples, 'astra_default_test_cache_hits_total', { cache: 'g' }), 9)
  sink.detach(source)
})

test('OpenMetrics registries export the counters with their _total names', async (t) => {
  const registry = new Registry<OpenMetricsContentType>()
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE)
  const source = new FakeSource('a')
  source.fields.hits = 3
  new PrometheusSink({ registry }).attach(source)
  const text = await registry.metrics()
  t.regex(text, /^cache_hits_total\{cache="a"\} 3$/m)
  t.regex(text, /^# TYPE cache_hits counter$/m)
})
