/**
 * KeyvAstraStore keeps the order of operations and loses no write: operations fired without
 * awaiting on a fresh namespace (the case cache-manager's nonBlocking mode creates) each give
 * the result a Map would, over the memory cache and a real Redis; each costs one round trip
 * to the cache once the generation is known, after a clear() in this process too; a clear() by
 * another process is noticed by the next operation; a lost generation entry resurrects nothing.
 */
import test from 'ava'
import fc from 'fast-check'
import type { Cache, Loader } from '../src/contract/cache'
import { KeyvAstraStore } from '../src/keyv/index'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { RedisCache } from '../src/redis/redis-cache'
import { redisTestsOrSkip, startRedis, type RedisServer } from './helpers/redis-server'

let namespaces = 0
const freshNamespace = () => `ord${process.pid}x${++namespaces}`

function storeIn(cache: Cache<unknown>, namespace: string): KeyvAstraStore {
  const store = new KeyvAstraStore(cache)
  store.namespace = namespace // what Keyv does
  return store
}

// ---- a model: what each operation must return, applied in issue order ------------------------

type Op =
  | { kind: 'set'; key: string; value: string }
  | { kind: 'get'; key: string }
  | { kind: 'delete'; key: string }
  | { kind: 'has'; key: string }
  | { kind: 'setMany'; entries: { key: string; value: string }[] }
  | { kind: 'getMany'; keys: string[] }
  | { kind: 'deleteMany'; keys: string[] }
  | { kind: 'hasMany'; keys: string[] }
  | { kind: 'clear' }

const key = fc.constantFrom('a', 'b', 'c')
const value = fc.string({ minLength: 1, maxLength: 3 })
const keys = fc.array(key, { minLength: 1, maxLength: 3 })
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), key, value }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('get' as const), key }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('has' as const), key }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('setMany' as const), entries: fc.uniqueArray(fc.record({ key, value }), { selector: (e) => e.key, minLength: 1, maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('getMany' as const), keys }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteMany' as const), keys }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('hasMany' as const), keys }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const) }) },
)

function expected(ops: Op[]): unknown[] {
  const map = new Map<string, string>()
  return ops.map((o) => {
    switch (o.kind) {
      case 'set':
        map.set(o.key, o.value)
        return true
      case 'get':
        return map.get(o.key)
      case 'delete':
        return map.delete(o.key)
      case 'has':
        return map.has(o.key)
      case 'setMany':
        for (const e of o.entries) map.set(e.key, e.value)
        return o.entries.map(() => true)
      case 'getMany':
        return o.keys.map((k) => map.get(k))
      case 'deleteMany': {
        // Each key is removed once; a key listed twice is reported as removed if it was there.
        let removed = false
        for (const k of new Set(o.keys)) removed = map.delete(k) || removed
        return removed
      }
      case 'hasMany':
        return o.keys.map((k) => map.has(k))
      case 'clear':
        map.clear()
        return undefined
    }
  })
}

/** Issues every operation at once (nothing awaited in between), on one of `stores` each. */
function fire(stores: KeyvAstraStore[], namespace: string, ops: Op[], pick: number[]): Promise<unknown[]> {
  const k = (name: string) => `${namespace}:${name}`
  return Promise.all(
    ops.map((o, i) => {
      const s = stores[(pick[i] ?? 0) % stores.length]
      switch (o.kind) {
        case 'set':
          return s.set(k(o.key), o.value)
        case 'get':
          return s.get(k(o.key))
        case 'delete':
          return s.delete(k(o.key))
        case 'has':
          return s.has(k(o.key))
        case 'setMany':
          return s.setMany(o.entries.map((e) => ({ key: k(e.key), value: e.value })))
        case 'getMany':
          return s.getMany(o.keys.map(k))
        case 'deleteMany':
          return s.deleteMany(o.keys.map(k))
        case 'hasMany':
          return s.hasMany(o.keys.map(k))
        case 'clear':
          return s.clear()
      }
    }),
  )
}

/** Some operations, on up to two stores sharing the cache and namespace (as two Keyv instances would). */
const scenario = fc.array(op, { minLength: 1, maxLength: 14 }).chain((ops) => fc.tuple(fc.constant(ops), fc.array(fc.nat(1), { minLength: ops.length, maxLength: ops.length })))

async function checkOrdering(t: { deepEqual(a: unknown, b: unknown, m?: string): void; true(v: boolean, m?: string): void }, cache: Cache<unknown>, runs: number) {
  await fc.assert(
    fc.asyncProperty(scenario, async ([ops, pick]) => {
      const namespace = freshNamespace()
      const stores = [storeIn(cache, namespace), storeIn(cache, namespace)]
      const results = await fire(stores, namespace, ops, pick)
      const want = expected(ops)
      if (JSON.stringify(results) !== JSON.stringify(want)) {
        throw new Error(`ops ${JSON.stringify(ops)}\ngot  ${JSON.stringify(results)}\nwant ${JSON.stringify(want)}`)
      }
      // And afterwards, read back one by one: the final state is the model's.
      const map = new Map<string, string>()
      for (const o of ops) {
        if (o.kind === 'set') map.set(o.key, o.value)
        else if (o.kind === 'setMany') for (const e of o.entries) map.set(e.key, e.value)
        else if (o.kind === 'delete') map.delete(o.key)
        else if (o.kind === 'deleteMany') for (const k of o.keys) map.delete(k)
        else if (o.kind === 'clear') map.clear()
      }
      for (const name of ['a', 'b', 'c']) {
        const got = await stores[0].get(`${namespace}:${name}`)
        if (got !== map.get(name)) throw new Error(`after ${JSON.stringify(ops)}: ${name} is ${String(got)}, want ${String(map.get(name))}`)
      }
    }),
    { numRuns: runs },
  )
  t.true(true)
}

test('memory (js engine): operations fired without awaiting give Map results, in issue order', async (t) => {
  await checkOrdering(t, new InMemoryLRUCache<unknown>({ engine: 'js', maxsize: 10_000 }), 200)
})

test('memory (auto engine): operations fired without awaiting give Map results, in issue order', async (t) => {
  await checkOrdering(t, new InMemoryLRUCache<unknown>({ maxsize: 10_000 }), 100)
})

test('memory: a clear or a lost generation from outside, between operations in flight, acts at its place in the order', async (t) => {
  const cache = new InMemoryLRUCache<unknown>({ engine: 'js', maxsize: 10_000 })
  const outside = fc.constantFrom('cleared elsewhere', 'generation lost')
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), fc.nat(12), outside, async (ops, at, what) => {
      const namespace = freshNamespace()
      const store = storeIn(cache, namespace)
      await store.get(`${namespace}:a`) // the generation is known: every operation below is sent at once
      const position = Math.min(at, ops.length)
      const generationKey = `${namespace}:~generation`
      const before = fire([store], namespace, ops.slice(0, position), [])
      // Another process's clear (a new generation) or an eviction, at exactly this point of the cache's order.
      if (what === 'cleared elsewhere') void cache.set(generationKey, `other${position}`, 0)
      else void cache.invalidate(generationKey)
      const after = fire([store], namespace, ops.slice(position), [])
      const results = [...(await before), ...(await after)]
      const want = expected([...ops.slice(0, position), { kind: 'clear' }, ...ops.slice(position)])
      want.splice(position, 1)
      if (JSON.stringify(results) !== JSON.stringify(want)) {
        throw new Error(`${what} after ${position} of ${JSON.stringify(ops)}\ngot  ${JSON.stringify(results)}\nwant ${JSON.stringify(want)}`)
      }
    }),
    { numRuns: 200 },
  )
  t.pass()
})

test('set, get, delete, clear fired together on a fresh namespace: the get sees the set, the delete is not undone, the clear clears', async (t) => {
  const cache = new InMemoryLRUCache<unknown>({ engine: 'js' })
  const ns = freshNamespace()
  const store = storeIn(cache, ns)
  const results = await Promise.all([
    store.set(`${ns}:k`, 'v1'),
    store.get(`${ns}:k`),
    store.setMany([{ key: `${ns}:a`, value: 'A' }, { key: `${ns}:b`, value: 'B' }]),
    store.getMany([`${ns}:a`, `${ns}:b`, `${ns}:k`]),
    store.delete(`${ns}:k`),
    store.get(`${ns}:k`),
    store.clear(),
    store.getMany([`${ns}:a`, `${ns}:b`]),
    store.set(`${ns}:k`, 'v2'),
    store.get(`${ns}:k`),
  ])
  t.deepEqual(results, [true, 'v1', [true, true], ['A', 'B', 'v1'], true, undefined, undefined, [undefined, undefined], true, 'v2'])
})

// ---- round trips ------------------------------------------------------------------------------

/**
 * Wraps a cache and counts rounds: calls issued without waiting for a reply in between share a
 * round. Replies are delivered in a later macrotask, so a call that waits for one starts a new round.
 */
class RoundCounter implements Cache<unknown> {
  readonly name = 'rounds'
  rounds = 0
  private roundOpen = false
  setIfAbsent?: (key: string, value: unknown, ttl?: number) => Promise<unknown>

  constructor(readonly inner: Cache<unknown>) {
    const withSetIfAbsent = inner as Cache<unknown> & { setIfAbsent?: (key: string, value: unknown, ttl?: number) => Promise<unknown> }
    if (typeof withSetIfAbsent.setIfAbsent === 'function') this.setIfAbsent = (k, v, ttl) => this.call(() => withSetIfAbsent.setIfAbsent!(k, v, ttl))
  }

  private call<T>(run: () => Promise<T>): Promise<T> {
    if (!this.roundOpen) {
      this.roundOpen = true
      this.rounds++
      setImmediate(() => (this.roundOpen = false)) // queued before any reply of this round
    }
    const result = run()
    return new Promise((resolve, reject) => result.then((v) => setImmediate(() => resolve(v)), (e) => setImmediate(() => reject(e))))
  }

  get = (k: string) => this.call(() => this.inner.get(k))
  set = (k: string, v: unknown, ttl?: number) => this.call(() => this.inner.set(k, v, ttl))
  invalidate = (k: string) => this.call(() => this.inner.invalidate(k))
  clear = () => this.call(() => this.inner.clear())
  has = (k: string) => this.call(() => this.inner.has(k))
  getMany = (ks: readonly string[]) => this.call(() => this.inner.getMany(ks))
  setMany = (entries: readonly (readonly [string, unknown, number?])[]) => this.call(() => this.inner.setMany(entries))
  getOrSet = (k: string, load: Loader<unknown>) => this.call(() => this.inner.getOrSet(k, load))
  stats = () => this.inner.stats()
  close = () => this.inner.close()
}

async function roundsOf(counter: RoundCounter, run: () => Promise<unknown>): Promise<number> {
  const before = counter.rounds
  await run()
  return counter.rounds - before
}

test('one round trip per operation once the generation is known, and after a clear() in this process', async (t) => {
  const counter = new RoundCounter(new InMemoryLRUCache<unknown>({ engine: 'js' }))
  const ns = freshNamespace()
  const store = storeIn(counter, ns)
  // First use: read the generation (none), create it, then the operation.
  t.is(await roundsOf(counter, () => store.set(`${ns}:a`, '1')), 3)
  for (const [name, run] of [
    ['get', () => store.get(`${ns}:a`)],
    ['set', () => store.set(`${ns}:b`, '2')],
    ['getMany', () => store.getMany([`${ns}:a`, `${ns}:b`])],
    ['setMany', () => store.setMany([{ key: `${ns}:c`, value: '3' }])],
    ['has', () => store.has(`${ns}:a`)],
    ['hasMany', () => store.hasMany([`${ns}:a`])],
    ['delete', () => store.delete(`${ns}:a`)],
    ['deleteMany', () => store.deleteMany([`${ns}:b`])],
    ['clear', () => store.clear()],
    ['get after clear', () => store.get(`${ns}:c`)],
    ['set after clear', () => store.set(`${ns}:c`, '4')],
  ] as const) {
    t.is(await roundsOf(counter, run), 1, name)
  }
  t.is(await store.get(`${ns}:c`), '4')
  // Another store of this process on the same cache shares the known generation.
  t.is(await roundsOf(counter, () => storeIn(counter, ns).get(`${ns}:c`)), 1)
})

test("another process's clear(): the next operation notices it (one extra round trip) and later ones are back to one", async (t) => {
  const shared = new InMemoryLRUCache<unknown>({ engine: 'js' })
  // Two wrappers over one cache: two processes' views (each has its own known generation).
  const here = new RoundCounter(shared)
  const there = new RoundCounter(shared)
  const ns = freshNamespace()
  const a = storeIn(here, ns)
  const b = storeIn(there, ns)
  await a.set(`${ns}:k`, 'old')
  t.is(await b.get(`${ns}:k`), 'old', 'both processes use the one generation')
  await b.clear()

  t.is(await roundsOf(here, async () => t.is(await a.get(`${ns}:k`), undefined, 'cleared elsewhere')), 2)
  t.is(await roundsOf(here, () => a.set(`${ns}:k`, 'new')), 1)
  t.is(await b.get(`${ns}:k`), 'new', 'written in the generation the other process uses')

  // Fired together right after another clear elsewhere: every result as if in order.
  await b.clear()
  const results = await Promise.all([a.set(`${ns}:x`, '1'), a.get(`${ns}:x`), a.delete(`${ns}:x`), a.get(`${ns}:x`), a.set(`${ns}:y`, '2'), a.get(`${ns}:k`)])
  t.deepEqual(results, [true, '1', true, undefined, true, undefined])
  t.is(await b.get(`${ns}:y`), '2')
  t.is(await b.get(`${ns}:x`), undefined)
})

test('a lost generation entry never resurrects old values, and the namespace keeps working', async (t) => {
  const cache = new InMemoryLRUCache<unknown>({ engine: 'js' })
  const ns = freshNamespace()
  const store = storeIn(cache, ns)
  await store.set(`${ns}:k`, 'v1')
  await cache.invalidate(`${ns}:~generation`) // evicted, or Redis flushed
  const results = await Promise.all([store.get(`${ns}:k`), store.set(`${ns}:k`, 'v2'), store.get(`${ns}:k`)])
  t.deepEqual(results, [undefined, true, 'v2'])
  t.is(typeof (await cache.get(`${ns}:~generation`)), 'string', 'a new generation was stored')
})

if (redisTestsOrSkip(test, 'KeyvAstraStore ordering over Redis')) {
  let server: RedisServer
  let cache: RedisCache<unknown>
  test.before(async () => {
    server = await startRedis()
    cache = new RedisCache<unknown>({ redisUrl: server.url, keyPrefix: 'keyv-order:', commandTimeoutMs: 5000 })
  })
  test.after.always(async () => {
    await cache?.close()
    await server?.stop()
  })

  test('redis: operations fired without awaiting give Map results, in issue order', async (t) => {
    await checkOrdering(t, cache, 60)
  })

  test('redis: first use is one SET NX + GET transaction, then one round trip per operation', async (t) => {
    const counter = new RoundCounter(cache)
    const ns = freshNamespace()
    const store = storeIn(counter, ns)
    t.is(await roundsOf(counter, () => store.set(`${ns}:a`, '1')), 2)
    t.is(await roundsOf(counter, () => store.get(`${ns}:a`)), 1)
    t.is(await roundsOf(counter, () => store.clear()), 1)
    t.is(await roundsOf(counter, () => store.get(`${ns}:a`)), 1)
    t.is(await store.get(`${ns}:a`), undefined)
  })

  test.serial('redis hung (SIGSTOP): operations resolve, the generation is kept, and data from before the outage is readable after it', async (t) => {
    const hung = await startRedis()
    t.teardown(() => hung.stop())
    const timeoutMs = 500
    const c = new RedisCache<unknown>({ redisUrl: hung.url, keyPrefix: 'keyv-hang:', commandTimeoutMs: timeoutMs, breakerOpenMs: 200 })
    c.on('error', () => {})
    t.teardown(() => c.close())
    const ns = freshNamespace()
    const store = storeIn(c, ns)
    await store.set(`${ns}:before`, 'kept')
    const generation = hung.cli(['GET', `keyv-hang:${ns}:~generation`])

    hung.pause()
    const timed = <T>(p: Promise<T>) => {
      const started = performance.now()
      return p.then((value) => ({ value, ms: performance.now() - started }))
    }
    const during = await Promise.all([
      timed(store.get(`${ns}:before`)),
      timed(store.set(`${ns}:during`, 'fallback')),
      timed(store.get(`${ns}:during`)),
      timed(store.delete(`${ns}:gone`)),
    ])
    t.log(`during the hang: ${during.map((d) => `${d.ms.toFixed(0)} ms`).join(', ')}`)
    t.deepEqual(
      during.map((d) => d.value),
      [undefined, true, 'fallback', false],
      'Redis is out of reach: reads miss or come from the fallback, in order',
    )
    for (const d of during) t.true(d.ms < 3 * timeoutMs, `${d.ms.toFixed(0)} ms`)

    hung.resume()
    const deadline = Date.now() + 15_000
    while (c.health().breaker !== 'closed' || c.health().pendingInvalidations > 0) {
      if (Date.now() > deadline) throw new Error('the cache did not recover')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    t.is(hung.cli(['GET', `keyv-hang:${ns}:~generation`]), generation, 'the outage did not replace the generation')
    t.is(await store.get(`${ns}:before`), 'kept')
    t.is(await store.get(`${ns}:during`), undefined, 'a set that only reached the fallback is dropped at recovery, as in RedisCache')
    await store.set(`${ns}:after`, 'x')
    t.is(await storeIn(c, ns).get(`${ns}:after`), 'x')
  })

  test("redis: another connection's clear() is seen by the next operation", async (t) => {
    const other = new RedisCache<unknown>({ redisUrl: server.url, keyPrefix: 'keyv-order:', commandTimeoutMs: 5000 })
    t.teardown(() => other.close())
    const ns = freshNamespace()
    const a = storeIn(cache, ns)
    const b = storeIn(other, ns)
    await a.set(`${ns}:k`, 'v')
    t.is(await b.get(`${ns}:k`), 'v')
    await b.clear()
    t.deepEqual(await Promise.all([a.get(`${ns}:k`), a.set(`${ns}:k`, 'w'), a.get(`${ns}:k`)]), [undefined, true, 'w'])
    t.is(await b.get(`${ns}:k`), 'w')
  })
}
