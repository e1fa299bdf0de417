/**
 * The facade's own behaviour, proved once over a fake store: since every backend
 * (InMemoryLRUCache, RedisCache, TieredCache, NullCache) is this facade over its store, what
 * holds here holds for each of them (the last test checks that they are). The fake store keeps
 * a Map, records every call, and answers either at once (a synchronous store, like the memory
 * engine) or through promises it settles when told (an asynchronous one, like Redis).
 */
import test from 'ava'
import type { CacheOp, MetricsSink } from '../src/contract/metrics'
import { CacheClosedError } from '../src/errors'
import { isEnvelope } from '../src/facade/envelope'
import { AsyncStoreFacade } from '../src/facade/async-store-facade'
import { CacheFacade } from '../src/facade/cache-facade'
import { SyncStoreFacade } from '../src/facade/sync-store-facade'
import type { ReadFailure, StoreStats, StoreTraits, WriteOrigin } from '../src/facade/store'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { NullCache } from '../src/null/null-cache'
import { RedisCache } from '../src/redis/redis-cache'
import { TieredCache } from '../src/tiered/tiered-cache'
import { FakeClock } from './helpers/fake-clock'

const tick = () => new Promise((r) => setImmediate(r))

interface Call {
  op: string
  key?: string
  ttlMs?: number
  origin?: WriteOrigin
}

/** A Map with a call log. `hold` makes the next calls of one operation wait until released; `fail` makes reads fail (as a backend outage would). */
class FakeStore {
  readonly data = new Map<string, unknown>()
  readonly calls: Call[] = []
  readonly traits: StoreTraits
  held: { op: string; release: () => void }[] = []
  holding = new Set<string>()
  failReads = false
  failWrites = false
  lookups = { hits: 0, misses: 0 }

  constructor(traits: Partial<StoreTraits> = {}) {
    this.traits = { sync: false, countsLookups: false, sharedEnvelopes: false, wellFormedKeys: false, ...traits }
  }

  private answer<T>(op: string, compute: () => T): T | Promise<T> {
    if (this.traits.sync) return compute()
    if (!this.holding.has(op)) return Promise.resolve().then(compute)
    return new Promise<T>((resolve, reject) => {
      this.held.push({
        op,
        release: () => {
          try {
            resolve(compute())
          } catch (err) {
            reject(err)
          }
        },
      })
    })
  }

  /** Releases every held call of `op`. */
  release(op: string): void {
    const now = this.held.filter((h) => h.op === op)
    this.held = this.held.filter((h) => h.op !== op)
    for (const h of now) h.release()
  }

  get(key: string, failure?: ReadFailure) {
    this.calls.push({ op: 'get', key })
    return this.answer('get', () => {
      if (this.failReads) {
        if (failure) failure.failed = true
        return undefined
      }
      const value = this.data.get(key)
      if (value === undefined) this.lookups.misses++
      else this.lookups.hits++
      return value
    })
  }
  getMany(keys: readonly string[]) {
    this.calls.push({ op: 'getMany' })
    return this.answer('getMany', () => keys.map((k) => this.data.get(k)))
  }
  set(key: string, value: unknown, ttlMs: number, origin?: WriteOrigin) {
    this.calls.push({ op: 'set', key, ttlMs, origin })
    return this.answer('set', () => {
      if (this.failWrites) throw new Error('write refused')
      this.data.set(key, value)
    })
  }
  setMany(entries: readonly (readonly [string, unknown, ...unknown[]])[], ttlsMs: readonly number[]) {
    this.calls.push({ op: 'setMany' })
    return this.answer('setMany', () => entries.forEach(([k, v], i) => (this.data.set(k, v), ttlsMs[i])))
  }
  delete(key: string) {
    this.calls.push({ op: 'delete', key })
    return this.answer('delete', () => this.data.delete(key))
  }
  has(key: string) {
    this.calls.push({ op: 'has', key })
    return this.answer('has', () => this.data.has(key))
  }
  clear() {
    this.calls.push({ op: 'clear' })
    return this.answer('clear', () => this.data.clear())
  }
  stats(): StoreStats {
    return { evictions: 0, expirations: 0, size: this.data.size, maxsize: 0, ...(this.traits.countsLookups ? this.lookups : {}) }
  }
  closed = false
  close() {
    this.closed = true
  }
  count(op: string): number {
    return this.calls.filter((c) => c.op === op).length
  }
}

interface FakeOptions {
  clock?: () => number
  metricsSink?: MetricsSink
  defaultTtl?: number
}

const settings = (options: FakeOptions) => ({ name: 'fake', defaultTtlMs: (options.defaultTtl ?? 60) * 1000, clock: options.clock ?? Date.now, metricsSink: options.metricsSink, warningCode: 'TEST' })

/** The facade over the fake store, as the memory cache is over its engine... */
class SyncFakeCache<V = unknown> extends SyncStoreFacade<V> {
  constructor(fake: FakeStore, options: FakeOptions = {}) {
    super(fake as never, settings(options))
  }
}

/** ...and as RedisCache, TieredCache and NullCache are over theirs. */
class AsyncFakeCache<V = unknown> extends AsyncStoreFacade<V> {
  constructor(fake: FakeStore, options: FakeOptions = {}) {
    super(fake as never, settings(options))
  }
}

/** The same behaviour from a synchronous and an asynchronous store. */
const kinds = [
  { name: 'async store', traits: { sync: false } },
  { name: 'sync store', traits: { sync: true } },
]

for (const kind of kinds) {
  const title = (s: string) => `[${kind.name}] ${s}`
  const open = (options: FakeOptions = {}, traits: Partial<StoreTraits> = {}) => {
    const store = new FakeStore({ ...kind.traits, ...traits })
    return { store, cache: kind.traits.sync ? new SyncFakeCache<string>(store, options) : new AsyncFakeCache<string>(store, options) }
  }

  test(title('validated input reaches the store as ms TTLs; bad input never reaches it'), async (t) => {
    const { store, cache } = open({ defaultTtl: 30 })
    await cache.set('a', 'x')
    await cache.set('b', 'y', 1.5)
    await cache.set('c', 'z', Infinity)
    t.deepEqual(store.calls.map((c) => c.ttlMs), [30_000, 1500, 0])
    await t.throwsAsync(cache.set('k', 'v', -1), { code: 'ERR_CACHE_INVALID_TTL' } as never)
    await t.throwsAsync(cache.get(5 as never), { code: 'ERR_CACHE_INVALID_KEY' } as never)
    await t.throwsAsync(cache.setMany([['ok', 'v'], ['bad', undefined as never]]), { code: 'ERR_CACHE_INVALID_VALUE' } as never)
    t.is(store.calls.length, 3)
  })

  test(title('a hit is a value served; the facade counts unless the store counts itself'), async (t) => {
    const { cache } = open()
    await cache.set('a', 'x')
    await cache.get('a')
    await cache.get('nope')
    await cache.getMany(['a', 'nope', 'a'])
    await cache.has('a') // not a lookup
    t.like(cache.stats(), { hits: 3, misses: 2 })
    // A store that counts (the memory engine does, across threads): its counters are used.
    const counting = open({}, { countsLookups: true })
    await counting.cache.set('a', 'x')
    await counting.cache.get('a')
    await counting.cache.get('nope')
    t.like(counting.cache.stats(), { hits: 1, misses: 1 })
  })

  test(title('getOrSet: concurrent callers share one lookup (async store) and one load'), async (t) => {
    const { store, cache } = open()
    let loads = 0
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const calls = Array.from({ length: 5 }, () =>
      cache.getOrSet('k', async () => {
        loads++
        await gate
        return 'v'
      }),
    )
    await tick()
    release()
    t.deepEqual(await Promise.all(calls), ['v', 'v', 'v', 'v', 'v'])
    t.is(loads, 1)
    t.is(store.count('get'), kind.traits.sync ? 1 : 1, 'one lookup for five callers')
    t.is(store.count('set'), 1)
    t.like(cache.stats(), { hits: 0, misses: 1 })
    t.is(await cache.getOrSet('k', () => 'other'), 'v')
    t.like(cache.stats(), { hits: 1, misses: 1 })
  })

  test(title('getOrSet: the caller gets the loaded value before the write is done; a failed write goes to the error event'), async (t) => {
    const { store, cache } = open()
    const errors: Error[] = []
    cache.on('error', (e) => errors.push(e))
    store.holding.add('set')
    t.is(await cache.getOrSet('k', () => 'v'), 'v', 'resolved while the write is held')
    t.is(store.count('set'), kind.traits.sync ? 1 : 1)
    t.deepEqual(store.calls.find((c) => c.op === 'set'), { op: 'set', key: 'k', ttlMs: 60_000, origin: 'fill' })
    store.holding.delete('set')
    store.release('set')
    // A write that fails is reported, never thrown to the caller.
    store.failWrites = true
    t.is(await cache.getOrSet('k2', () => 'w'), 'w')
    for (let i = 0; i < 10 && errors.length === 0; i++) await tick()
    t.is(errors.length, 1)
    t.is(errors[0].message, 'write refused')
    t.is(cache.errorCounts().set, 1)
  })

  test(title('getOrSet after a failed lookup writes with origin fill-after-failure'), async (t) => {
    const { store, cache } = open()
    store.failReads = true
    t.is(await cache.getOrSet('k', () => 'v'), 'v')
    await tick()
    const set = store.calls.find((c) => c.op === 'set')
    // A synchronous store has no failure to report (it cannot be unreachable).
    t.is(set?.origin, kind.traits.sync ? 'fill' : 'fill-after-failure')
  })

  test(title('getOrSet: a rejection is not cached and reaches every concurrent caller; undefined is not stored'), async (t) => {
    const { store, cache } = open()
    let loads = 0
    const failing = async () => {
      loads++
      throw new Error('db down')
    }
    const [a, b] = await Promise.allSettled([cache.getOrSet('k', failing), cache.getOrSet('k', failing)])
    t.is(a.status, 'rejected')
    t.is(b.status, 'rejected')
    t.is(loads, 1)
    t.is(await cache.getOrSet('none', (() => undefined) as never), undefined as never)
    t.is(store.count('set'), 0)
  })

  test(title('stale-while-revalidate: stale served at once, one background refresh; get() sees a miss'), async (t) => {
    const clock = new FakeClock()
    const { store, cache } = open({ clock: clock.now })
    const opts = { ttl: 10, staleTtl: 30 }
    t.is(await cache.getOrSet('k', () => 'v1', opts), 'v1')
    await tick()
    t.true(isEnvelope(store.data.get('k')), 'stored as an envelope')
    t.is(store.calls.find((c) => c.op === 'set')?.ttlMs, 40_000, 'physical ttl covers the stale window')
    clock.advance(15_000)
    let refreshes = 0
    let finish!: (v: string) => void
    const refresh = () => {
      refreshes++
      return new Promise<string>((r) => (finish = r))
    }
    const stale = await Promise.all([1, 2, 3].map(() => cache.getOrSet('k', refresh, opts)))
    t.deepEqual(stale, ['v1', 'v1', 'v1'])
    t.is(refreshes, 1)
    t.is(await cache.get('k'), undefined, 'a plain read does not serve stale')
    const before = cache.stats()
    finish('v2')
    for (let i = 0; i < 10 && (await cache.get('k')) !== 'v2'; i++) await tick()
    t.is(await cache.get('k'), 'v2')
    // Stale served by getOrSet is a hit: one per lookup (the three callers share one on an asynchronous store).
    t.is(before.hits, kind.traits.sync ? 3 : 1)
    t.is(before.misses, 2, 'the first getOrSet and the plain read of the stale entry')
  })

  test(title('grace: the expired value is served when the loader fails, reported; a success replaces it'), async (t) => {
    const clock = new FakeClock()
    const { cache } = open({ clock: clock.now })
    const errors: Error[] = []
    cache.on('error', (e) => errors.push(e))
    const opts = { ttl: 10, grace: 60 }
    await cache.getOrSet('k', () => 'v1', opts)
    clock.advance(20_000)
    t.is(await cache.getOrSet('k', () => Promise.reject(new Error('db down')), opts), 'v1')
    t.is(errors[0]?.message, 'db down')
    t.deepEqual(cache.errorCounts(), {}, 'a loader failure is not a cache failure')
    t.is(await cache.getOrSet('k', () => 'v2', opts), 'v2')
    clock.advance(100_000)
    await t.throwsAsync(cache.getOrSet('k', () => Promise.reject(new Error('still down')), opts), { message: 'still down' })
  })

  test(title('a counting store: a stale envelope it counted as a hit is a miss for get()'), async (t) => {
    const clock = new FakeClock()
    const { cache } = open({ clock: clock.now }, { countsLookups: true })
    await cache.getOrSet('k', () => 'v1', { ttl: 10, staleTtl: 30 })
    await tick()
    const start = cache.stats()
    clock.advance(15_000)
    t.is(await cache.get('k'), undefined)
    const end = cache.stats()
    t.is(end.hits - start.hits, 0)
    t.is(end.misses - start.misses, 1)
  })

  test(title('metrics: the first operation of each kind is observed at once, then 1 in N overall'), async (t) => {
    const observed: CacheOp[] = []
    const sink: MetricsSink = { attach: () => {}, latencySampleRate: 0.25, observeLatency: (_name, op) => observed.push(op) }
    const { cache } = open({ metricsSink: sink })
    await cache.set('k', 'v')
    await cache.get('k')
    await cache.has('k')
    t.deepEqual(observed, ['set', 'get', 'has'], 'each series exists after its first operation')
    for (let i = 0; i < 37; i++) await cache.get('k')
    // 40 operations at 1 in 4: 10 observations, the three early ones included.
    t.is(observed.length, 10)
  })

  test(title('closed: every operation rejects with ERR_CACHE_CLOSED and the store is closed once'), async (t) => {
    const { store, cache } = open()
    await cache.close()
    await cache.close()
    t.true(store.closed)
    for (const op of [() => cache.get('k'), () => cache.set('k', 'v'), () => cache.getOrSet('k', () => 'v'), () => cache.clear(), () => cache.getMany(['k'])]) {
      await t.throwsAsync(op(), { instanceOf: CacheClosedError })
    }
    t.throws(() => cache.stats(), { instanceOf: CacheClosedError })
  })
}

test('every backend is this facade (so the tests above hold for each)', async (t) => {
  const memory = new InMemoryLRUCache({ engine: 'js' })
  const memory2 = new InMemoryLRUCache({ engine: 'js' })
  const nothing = new NullCache()
  const redis = new RedisCache({ redisUrl: 'redis://127.0.0.1:1', fallback: false })
  redis.on('error', () => {})
  const tiered = new TieredCache({ l1: memory2, l2: new InMemoryLRUCache({ engine: 'js' }), bus: false })
  try {
    for (const cache of [memory, nothing, redis, tiered]) t.true(cache instanceof CacheFacade, cache.constructor.name)
  } finally {
    await Promise.all([memory.close(), nothing.close(), redis.close(), tiered.close()])
  }
})
