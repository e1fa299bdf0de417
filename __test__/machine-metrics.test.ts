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
