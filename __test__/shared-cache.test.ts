import test from 'ava'
import fc from 'fast-check'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import { CacheOptionError } from '../src/errors'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { Registry } from 'prom-client'
import { PrometheusSink } from '../src/metrics/prometheus'
import { exportedStats, parsePrometheusText } from './helpers/prometheus-text'
import type { SharedOp, SharedWorkerInput, SharedWorkerResult } from './helpers/shared-worker'

const WORKER = path.join(__dirname, 'helpers', 'shared-worker.ts')

function runWorker(input: SharedWorkerInput): Promise<SharedWorkerResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(`require('tsx/cjs'); require(${JSON.stringify(WORKER)})`, { eval: true, workerData: input })
    let result: SharedWorkerResult | undefined
    w.once('message', (m: SharedWorkerResult & { error?: string }) => {
      if (m.error) reject(new Error(m.error))
      else result = m
    })
    w.once('error', reject)
    w.once('exit', (code) => (result ? resolve(result) : reject(new Error(`worker exited with ${code} and no result`))))
  })
}

async function hammer(name: string, options: Record<string, unknown>, inputs: Omit<SharedWorkerInput, 'name' | 'options'>[]) {
  const barrier = new Int32Array(new SharedArrayBuffer(8))
  barrier[1] = inputs.length
  const results = await Promise.all(inputs.map((i) => runWorker({ name, options, barrier, ...i })))
  const sum = (f: (r: SharedWorkerResult) => number) => results.reduce((a, r) => a + f(r), 0)
  return { gets: sum((r) => r.gets), hits: sum((r) => r.hits), sets: sum((r) => r.sets), foreign: sum((r) => r.foreign) }
}

let unique = 0
const fresh = (base: string) => `${base}-${process.pid}-${unique++}`

test('4 workers hammering overlapping keys: counters add up exactly, values never cross keys', async (t) => {
  const name = fresh('hammer')
  const options = { maxsize: 500, defaultTtl: 0, maxBytes: 20_000, shards: 8 }
  // The main thread holds a reference too, so the cache outlives the workers' close().
  const main = InMemoryLRUCache.shared(name, options)
  const random = (seed: number) => ({ random: { seed, count: 20_000, keys: 800, setShare: 0.3, invalidateShare: 0.05 } })
  const issued = await hammer(name, options, [random(1), random(2), random(3), random(4)])
  const s = main.stats()
  t.is(issued.foreign, 0)
  t.is(s.hits + s.misses, issued.gets)
  t.is(s.hits, issued.hits)
  t.is((main as unknown as { impl: { counters(): { sets: number } } }).impl.counters().sets, issued.sets)
  t.true(s.size <= 500)
  t.true(s.bytes! <= 20_000)
  t.true(s.evictions > 0, 'the budget was exercised')
  await main.close()
})

test('fast-check: random op mixes from 3 workers keep the counters exact', async (t) => {
  const op: fc.Arbitrary<SharedOp> = fc.tuple(fc.constantFrom('get' as const, 'get' as const, 'set' as const, 'invalidate' as const, 'has' as const), fc.integer({ min: 0, max: 30 }))
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(op, { maxLength: 300 }), { minLength: 3, maxLength: 3 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 8 }), async (lists, maxsize, shards) => {
      const name = fresh('prop')
      const options = { maxsize, defaultTtl: 0, shards }
      const main = InMemoryLRUCache.shared(name, options)
      try {
        const issued = await hammer(name, options, lists.map((ops) => ({ ops })))
        const s = main.stats()
        t.is(issued.foreign, 0)
        t.is(s.hits + s.misses, issued.gets)
        t.is(s.hits, issued.hits)
        t.true(s.size <= maxsize)
      } finally {
        await main.close()
      }
    }),
    { numRuns: 8 },
  )
})

test('same name, same cache across threads; close releases only that thread; last close frees it', async (t) => {
  const name = fresh('refs')
  const a = InMemoryLRUCache.shared<string>(name, { maxsize: 10, defaultTtl: 0 })
  await a.set('from-main', 'hello')
  // A worker writes, reads main's entry, and closes its own reference.
  await runWorker({ name, options: { maxsize: 10, defaultTtl: 0 }, ops: [['set', 7], ['get', 7]] })
  t.truthy(await a.get('key:7'), 'the worker wrote into the same cache')
  t.is(await a.get('from-main'), 'hello', "the worker's close did not free it")
  const b = InMemoryLRUCache.shared<string>(name, { maxsize: 10, defaultTtl: 0 })
  await b.close()
  t.is(await a.get('from-main'), 'hello')
  await a.close()
  // Every reference closed: the name opens a new, empty cache (other options allowed now).
  const c = InMemoryLRUCache.shared<string>(name, { maxsize: 20, defaultTtl: 0 })
  t.is(await c.get('from-main'), undefined)
  await c.close()
})

test('opening an existing name with other options throws, naming the mismatch', async (t) => {
  const name = fresh('mismatch')
  const a = InMemoryLRUCache.shared(name, { maxsize: 10, defaultTtl: 0, maxBytes: 100 })
  t.throws(() => InMemoryLRUCache.shared(name, { maxsize: 11, defaultTtl: 0, maxBytes: 100 }), { instanceOf: CacheOptionError, message: /maxsize 10 \(this call asked for 11\)/ })
  t.throws(() => InMemoryLRUCache.shared(name, { maxsize: 10, defaultTtl: 0, maxBytes: 99 }), { instanceOf: CacheOptionError, message: /maxBytes 100/ })
  t.throws(() => InMemoryLRUCache.shared(name, { maxsize: 10, defaultTtl: 5, maxBytes: 100 }), { instanceOf: CacheOptionError, message: /defaultTtl 0 s/ })
  t.throws(() => InMemoryLRUCache.shared(name, { maxsize: 10, defaultTtl: 0, maxBytes: 100, shards: 2 }), { instanceOf: CacheOptionError, message: /shards/ })
  t.throws(() => InMemoryLRUCache.shared(name, { maxsize: 10, defaultTtl: 0, maxBytes: 100, policy: 'tinylfu' }), {
    instanceOf: CacheOptionError,
    message: /already open with policy 'lru' \(this call asked for 'tinylfu'\)/,
  })
  await t.throwsAsync(runWorker({ name, options: { maxsize: 12, defaultTtl: 0, maxBytes: 100 }, ops: [] }), { message: /CacheOptionError.*maxsize 10/ })
  await a.close()
})

test('shared() refuses what cannot be shared', (t) => {
  const err = (name: unknown, opts: Record<string, unknown>) => t.throws(() => InMemoryLRUCache.shared(name as string, opts as never), { instanceOf: CacheOptionError })!.message
  t.regex(err('x', { storage: 'reference' }), /needs storage: 'serialized'.*cannot be shared/)
  t.regex(err('x', { engine: 'js' }), /native engine/)
  t.regex(err('x', { clock: () => 0 }), /clock cannot be set on a shared cache/)
  t.regex(err('x', { shards: 0 }), /shards.*0/)
  t.regex(err('', {}), /name/)
  t.regex(err(42, {}), /name.*42/)
  // a typo of a scope option lists the scope's options among the known ones
  t.regex(err('x', { scop: 'machine' }), /unknown InMemoryLRUCache\.shared option "scop": did you mean scope\? \(known: maxsize, .*shards, scope, dir, mode, lockTimeout\)/)
})

test('a shared cache expires entries on the engine clock', async (t) => {
  const name = fresh('ttl')
  const a = InMemoryLRUCache.shared<string>(name, { maxsize: 10, defaultTtl: 0 })
  // A shared cache takes no injected clock (each worker's performance.now() has its own
  // origin), so this waits for real: 1 s leaves room for a loaded machine before the first read.
  await a.set('short', 'v', 1)
  await a.set('long', 'v')
  t.is(await a.get('short'), 'v')
  await new Promise((r) => setTimeout(r, 1100))
  t.is(await a.get('short'), undefined)
  t.is(await a.get('long'), 'v')
  t.is(a.stats().expirations, 1)
  await a.close()
})

for (const policy of ['s3fifo', 'tinylfu'] as const) {
  test(`${policy}: 4 workers on one shared cache, counters add up, budget holds, the policy runs in every shard`, async (t) => {
    const name = fresh(`hammer-${policy}`)
    const options = { maxsize: 400, defaultTtl: 0, maxBytes: 16_000, shards: 4, policy }
    const main = InMemoryLRUCache.shared(name, options)
    t.is(main.policy, policy)
    // Far more keys than fit: every shard's policy evicts all along.
    const random = (seed: number) => ({ random: { seed, count: 15_000, keys: 1500, setShare: 0.35, invalidateShare: 0.03 } })
    const issued = await hammer(name, options, [random(11), random(12), random(13), random(14)])
    const s = main.stats()
    t.is(issued.foreign, 0)
    t.is(s.hits + s.misses, issued.gets)
    t.is(s.hits, issued.hits)
    t.is((main as unknown as { impl: { counters(): { sets: number } } }).impl.counters().sets, issued.sets)
    t.true(s.size <= 400)
    t.true(s.bytes! <= 16_000)
    t.true(s.evictions > 0, 'the budget was exercised')
    // A different policy cannot open it, from this thread or a worker.
    t.throws(() => InMemoryLRUCache.shared(name, { ...options, policy: 'lru' }), { instanceOf: CacheOptionError, message: new RegExp(`policy '${policy}'`) })
    await t.throwsAsync(runWorker({ name, options: { ...options, policy: 'lru' }, ops: [] }), { message: new RegExp(`CacheOptionError.*policy '${policy}'`) })
    await main.close()
  })
}

test('a stale-while-revalidate value written by one attachment is never handed raw to another', async (t) => {
  const name = fresh('envelopes')
  const a = InMemoryLRUCache.shared<string>(name, { maxsize: 10, defaultTtl: 0 })
  const b = InMemoryLRUCache.shared<string>(name, { maxsize: 10, defaultTtl: 0 })
  t.teardown(async () => {
    await a.close()
    await b.close()
  })
  await a.getOrSet('fresh', () => 'v1', { ttl: 60, staleTtl: 60 })
  t.is(await b.get('fresh'), 'v1', 'b reads the value inside the envelope a wrote')
  t.is(b.sync.get('fresh'), 'v1')
  t.deepEqual(await b.getMany(['fresh']), ['v1'])
  await a.getOrSet('stale', () => 'v2', { ttl: 0.05, staleTtl: 60 })
  await new Promise((resolve) => setTimeout(resolve, 120)) // past its 50 ms fresh window
  t.is(await b.get('stale'), undefined, 'a stale value is a miss for a plain read')
  t.is(await b.getOrSet('stale', () => 'unused', { ttl: 60, staleTtl: 60 }), 'v2', 'getOrSet serves it stale while it reloads')
})

test('a PrometheusSink counts the attachments of one shared cache once, and a name made again anew', async (t) => {
  const registry = new Registry()
  const sink = new PrometheusSink({ registry, latencySampleRate: 0 })
  const scrape = async () => exportedStats(parsePrometheusText(await registry.metrics()).samples, 'threads')
  const name = fresh('metrics')
  const options = { name: 'threads', maxsize: 10, defaultTtl: 0, metricsSink: sink }
  const a = InMemoryLRUCache.shared<string>(name, options)
  const b = InMemoryLRUCache.shared<string>(name, options)
  await a.set('k', 'v')
  await a.get('k')
  await b.get('k')
  await b.get('nope')
  // A worker thread's lookups land on the same counters (its sink is its own).
  await runWorker({ name, options: { maxsize: 10, defaultTtl: 0 }, ops: [['get', 1]] })
  t.like(a.stats(), { hits: 2, misses: 2, size: 1 })
  t.deepEqual(await scrape(), { hits: 2, misses: 2, evictions: 0, expirations: 0, size: 1 })
  await a.close()
  t.deepEqual(await scrape(), { hits: 2, misses: 2, evictions: 0, expirations: 0, size: 1 })
  await b.close()
  // Every reference closed: the name opens a new cache, whose counts add to the old one's.
  const c = InMemoryLRUCache.shared<string>(name, options)
  t.teardown(() => c.close())
  await c.get('k')
  t.like(c.stats(), { hits: 0, misses: 1 })
  t.deepEqual(await scrape(), { hits: 2, misses: 3, evictions: 0, expirations: 0, size: 0 })
})
