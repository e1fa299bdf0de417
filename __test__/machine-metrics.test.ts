/**
 * metricsSink on a machine-wide cache (InMemoryLRUCache.shared(name, { scope: 'machine' })):
 * the counters a sink exports are the segment's, so reads made by another process show up
 * in this process's sink. Linux only, like machine-cache.test.ts; segments get pid-unique
 * names in a temporary directory removed after the file.
 */
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { Registry } from 'prom-client'
import type { CacheStats } from '../src/contract/cache'
import type { CacheOp, MetricsSink, MetricsSource } from '../src/contract/metrics'
import { InMemoryLRUCache } from '../src/index'
import { PrometheusSink } from '../src/metrics/prometheus'
import { eventually } from './helpers/eventually'
import { exportedStats, parsePrometheusText } from './helpers/prometheus-text'

const CHILD = join(__dirname, 'helpers', 'machine-child.ts')
const dir = mkdtempSync(join(tmpdir(), 'astra-machine-metrics-'))
test.after.always(() => rmSync(dir, { recursive: true, force: true }))

let counter = 0
const fresh = () => `metrics${process.pid}-${counter++}`
const SEGMENT = { maxsize: 3, maxBytes: 1 << 16, shards: 1 }
const open = (name: string, extra: Record<string, unknown> = {}) => InMemoryLRUCache.shared<unknown>(name, { scope: 'machine', dir, ...SEGMENT, ...extra })

const counters = ({ hits, misses, evictions, expirations, size }: CacheStats) => ({ hits, misses, evictions, expirations, size })

/** Another process reading k0 and k1 `reads` times in all (machine-child.ts 'mix' without writes). */
function readInChild(name: string, reads: number): Promise<{ hits: number; misses: number }> {
  const config = JSON.stringify({ name, dir, ...SEGMENT, mode: 'mix', id: 'reader', keys: 2, writes: 0, reads })
  const child = fork(CHILD, [config], { execArgv: ['--import=tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as never))
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`child exited with ${code}`))))
  })
}

if (process.platform !== 'linux') {
  test('off Linux, scope machine is refused with a coded error', (t) => {
    const err = t.throws(() => open(fresh()))
    t.is((err as { code?: string }).code, 'ERR_CACHE_UNSUPPORTED_PLATFORM')
  })
} else {
  test('PrometheusSink exports the segment counters: hits of another process, misses, expirations and evictions', async (t) => {
    const registry = new Registry()
    const name = fresh()
    const cache = open(name, { name: 'users', defaultTtl: 0, metricsSink: new PrometheusSink({ registry, latencySampleRate: 0 }) })
    t.teardown(() => cache.close())
    const scrape = async () => exportedStats(parsePrometheusText(await registry.metrics()).samples, 'users')

    // Values shaped as machine-child.ts checks them ("<writer>:<n>").
    await cache.set('k0', 'parent:0')
    await cache.set('k1', 'parent:1')
    t.is(await cache.get('k0'), 'parent:0') // hit
    t.is(await cache.get('nope'), undefined) // miss
    t.deepEqual(await readInChild(name, 10), { hits: 10, misses: 0, wrong: [] } as never)
    t.deepEqual(await scrape(), { hits: 11, misses: 1, evictions: 0, expirations: 0, size: 2 }, "the other process's 10 hits are in this sink")

    await cache.set('short', 'x', 0.05)
    // Wait for the TTL on the machine's monotonic clock (has() is no lookup), bounded.
    t.true(await eventually(async () => !(await cache.has('short'))))
    t.is(await cache.get('short'), undefined) // miss + expiration
    // k0 and k1 were read: the second-chance pass spares them and evicts c, the one entry never read.
    await cache.set('c', 'c')
    await cache.set('d', 'd')
    t.is(await cache.get('c'), undefined) // miss
    t.deepEqual(await cache.getMany(['k0', 'k1', 'd']), ['parent:0', 'parent:1', 'd'])

    const stats = counters(cache.stats())
    t.deepEqual(stats, { hits: 14, misses: 3, evictions: 1, expirations: 1, size: 3 })
    t.deepEqual(await scrape(), stats)
    t.deepEqual(cache.verify(), [])
  })

  test('a sink label counts a segment once: two attachments, one closed, all closed and reopened, removed and made again', async (t) => {
    const registry = new Registry()
    const sink = new PrometheusSink({ registry, latencySampleRate: 0 })
    const scrape = async () => exportedStats(parsePrometheusText(await registry.metrics()).samples, 'pages')
    const name = fresh()
    const a = open(name, { name: 'pages', defaultTtl: 0, metricsSink: sink })
    const b = open(name, { name: 'pages', defaultTtl: 0, metricsSink: sink })
    await a.set('k', 'parent:0')
    await a.get('k')
    await b.get('k')
    await b.get('nope')
    t.deepEqual(counters(a.stats()), { hits: 2, misses: 1, evictions: 0, expirations: 0, size: 1 })
    t.deepEqual(counters(b.stats()), counters(a.stats()), 'both attachments report the segment')
    t.deepEqual(await scrape(), counters(a.stats()), 'not once per attachment')

    await a.close()
    await b.get('k')
    t.deepEqual(await scrape(), counters(b.stats()), 'the closed attachment adds nothing the open one does not report')
    await b.close()
    t.deepEqual(await scrape(), { hits: 3, misses: 1, evictions: 0, expirations: 0, size: undefined }, 'kept as the last attachment left them')

    const c = open(name, { name: 'pages', defaultTtl: 0, metricsSink: sink })
    await c.get('k')
    t.is(c.stats().hits, 4, 'the reopened segment kept its counters')
    t.deepEqual(await scrape(), counters(c.stats()), 'a reopened segment is not added to its own past')
    await c.close()

    t.true(InMemoryLRUCache.removeShared(name, { dir }))
    const d = open(name, { name: 'pages', defaultTtl: 0, metricsSink: sink })
    t.teardown(() => d.close())
    await d.get('k')
    t.deepEqual(counters(d.stats()), { hits: 0, misses: 1, evictions: 0, expirations: 0, size: 0 }, 'a new segment counts from zero')
    t.deepEqual(await scrape(), { hits: 4, misses: 2, evictions: 0, expirations: 0, size: 0 }, 'the removed segment\'s counts stay, the new one\'s add')
  })

  test("a sink adds each attachment's own corrections: a stale value one attachment served as a miss", async (t) => {
    const registry = new Registry()
    const sink = new PrometheusSink({ registry, latencySampleRate: 0 })
    const scrape = async () => exportedStats(parsePrometheusText(await registry.metrics()).samples, 'swr')
    const name = fresh()
    const a = open(name, { name: 'swr', metricsSink: sink })
    const b = open(name, { name: 'swr', metricsSink: sink })
    t.teardown(async () => {
      await a.close()
      await b.close()
    })
    t.is(await a.getOrSet('s', () => 'parent:1', { ttl: 0.05, staleTtl: 60 }), 'parent:1') // miss
    await new Promise((resolve) => setTimeout(resolve, 120)) // past the 50 ms fresh window (wall clock)
    t.is(await b.get('s'), undefined, 'a plain read does not serve a stale value')
    const sa = a.stats()
    const sb = b.stats()
    t.deepEqual([sa.hits, sa.misses], [1, 1], "a sees the segment's lookups: b's read found the entry")
    t.deepEqual([sb.hits, sb.misses], [0, 2], 'b counts its read as the miss it was for its caller')
    t.like(await scrape(), { hits: 0, misses: 2 }, 'the segment once, corrected by b')
  })

  test('a MetricsSink is attached with the cache, sees sampled latencies, and reads the final counters at detach', async (t) => {
    const observed: CacheOp[] = []
    const finals: CacheStats[] = []
    let attached: MetricsSource | undefined
    const sink: MetricsSink = {
      attach: (source) => (attached = source),
      detach: (source) => finals.push(source.stats()),
      latencySampleRate: 1,
      observeLatency: (cacheName, op) => observed.push(`${cacheName}:${op}` as CacheOp),
    }
    const cache = open(fresh(), { name: 'sessions', metricsSink: sink })
    t.is(attached?.name, 'sessions')
    await cache.set('a', { n: 1 })
    t.deepEqual(await cache.get('a'), { n: 1 })
    t.is(await cache.get('b'), undefined)
    t.deepEqual(await cache.getOrSet('b', () => 'loaded'), 'loaded')
    t.deepEqual(observed.slice(0, 4), ['sessions:set', 'sessions:get', 'sessions:get', 'sessions:getOrSet'])
    const live = attached!.stats()
    t.is(live.hits, 1)
    t.is(live.misses, 2, 'the getOrSet miss counts too')
    await cache.close()
    t.is(finals.length, 1)
    t.deepEqual(counters(finals[0]), counters(live))
  })
}
