/**
 * The Cache contract (SPEC section 1), run against every backend and engine.
 * A target supplies a factory and says how time moves: memory backends advance an
 * injected fake clock, Redis sleeps for real (so TTLs here are kept short).
 */
import type { TestFn } from 'ava'
import type { Cache } from '../../src/contract/cache'
import { CacheClosedError, CacheError } from '../../src/errors'
import { MAX_KEY_LENGTH } from '../../src/validate'
import { eventually } from '../helpers/eventually'
import { FakeClock } from '../helpers/fake-clock'

export interface ContractTarget {
  name: string
  /** A fresh empty cache; `clock` is a fake ms clock the suite controls (ignore it if the backend cannot take one). */
  create(opts: { maxsize: number; defaultTtl: number; clock: () => number }): Promise<Cache<unknown>>
  /** Move time forward: memory backends advance the fake clock; Redis sleeps for real. */
  advance(ms: number, clock: { advance(ms: number): void }): Promise<void>
  /**
   * counters: hits/misses. sizeInStats (default true): stats().size is exact. expirationCount
   * (default true): stats().expirations counts expired reads (Redis expires keys out of sight).
   */
  capabilities: { lruEviction: boolean; counters: boolean; maxsizeInStats: boolean; sizeInStats?: boolean; expirationCount?: boolean }
  teardown?(): Promise<void>
}

// Short enough for a backend that must really wait (Redis), long enough to be unambiguous.
const TTL_S = 0.2
const PAST_TTL_MS = 300

export function contractSuite(test: TestFn, target: ContractTarget): void {
  const title = (s: string) => `[${target.name}] ${s}`
  const sizeInStats = target.capabilities.sizeInStats ?? true
  const expirationCount = target.capabilities.expirationCount ?? true

  async function open(t: { teardown(fn: () => unknown): void }, opts: { maxsize?: number; defaultTtl?: number } = {}) {
    const clock = new FakeClock()
    const cache = await target.create({ maxsize: opts.maxsize ?? 100, defaultTtl: opts.defaultTtl ?? 60, clock: clock.now })
    t.teardown(() => cache.close())
    return { cache, advance: (ms: number) => target.advance(ms, clock) }
  }

  if (target.teardown) test.after.always(() => target.teardown!())

  test(title('set then get returns the value; absent keys are undefined'), async (t) => {
    const { cache } = await open(t)
    await cache.set('a', { n: 1 })
    t.deepEqual(await cache.get('a'), { n: 1 })
    t.is(await cache.get('missing'), undefined)
  })

  test(title('null, false, 0 and empty string are values'), async (t) => {
    const { cache } = await open(t)
    for (const [k, v] of [['null', null], ['false', false], ['zero', 0], ['empty', '']] as const) {
      await cache.set(k, v)
      t.is(await cache.get(k), v, k)
      t.true(await cache.has(k), k)
    }
  })

  test(title('set overwrites an existing key'), async (t) => {
    const { cache } = await open(t)
    await cache.set('k', 1)
    await cache.set('k', 2)
    t.is(await cache.get('k'), 2)
    if (sizeInStats) t.is(cache.stats().size, 1)
  })

  test(title('defaultTtl applies when set gets no ttl'), async (t) => {
    const { cache, advance } = await open(t, { defaultTtl: TTL_S })
    await cache.set('k', 'v')
    t.is(await cache.get('k'), 'v')
    await advance(PAST_TTL_MS)
    t.is(await cache.get('k'), undefined)
    t.false(await cache.has('k'))
  })

  test(title('an explicit ttl overrides defaultTtl'), async (t) => {
    const { cache, advance } = await open(t, { defaultTtl: 3600 })
    await cache.set('short', 1, TTL_S)
    await cache.set('long', 2)
    await advance(PAST_TTL_MS)
    t.is(await cache.get('short'), undefined)
    t.is(await cache.get('long'), 2)
  })

  test(title('ttl 0 and Infinity never expire'), async (t) => {
    const { cache, advance } = await open(t, { defaultTtl: TTL_S })
    await cache.set('zero', 0, 0)
    await cache.set('inf', 'i', Infinity)
    await cache.set('default', 'd')
    await advance(PAST_TTL_MS)
    t.is(await cache.get('zero'), 0)
    t.is(await cache.get('inf'), 'i')
    t.is(await cache.get('default'), undefined)
  })

  test(title('defaultTtl 0 means entries never expire'), async (t) => {
    const { cache, advance } = await open(t, { defaultTtl: 0 })
    await cache.set('k', 'v')
    await advance(PAST_TTL_MS)
    t.is(await cache.get('k'), 'v')
  })

  test(title('fractional ttl in seconds'), async (t) => {
    const { cache, advance } = await open(t)
    await cache.set('k', 'v', 0.25)
    t.is(await cache.get('k'), 'v')
    await advance(350)
    t.is(await cache.get('k'), undefined)
  })

  test(title('invalidate returns true only when something was removed'), async (t) => {
    const { cache } = await open(t)
    await cache.set('k', 'v')
    t.true(await cache.invalidate('k'))
    t.false(await cache.invalidate('k'))
    t.false(await cache.invalidate('never-set'))
    t.is(await cache.get('k'), undefined)
  })

  test(title('invalidate of an expired entry returns false'), async (t) => {
    const { cache, advance } = await open(t)
    await cache.set('k', 'v', TTL_S)
    await advance(PAST_TTL_MS)
    t.false(await cache.invalidate('k'))
  })

  test(title('clear removes every entry of this cache'), async (t) => {
    const { cache } = await open(t)
    await cache.setMany([['a', 1], ['b', 2], ['c', 3]])
    await cache.clear()
    t.deepEqual(await cache.getMany(['a', 'b', 'c']), [undefined, undefined, undefined])
    if (sizeInStats) t.is(cache.stats().size, 0)
    await cache.set('a', 4)
    t.is(await cache.get('a'), 4)
  })

  test(title('getMany and setMany, with per-entry ttl'), async (t) => {
    const { cache, advance } = await open(t, { defaultTtl: 3600 })
    await cache.setMany([['a', 1], ['b', null, TTL_S], ['c', 'x', 0]])
    t.deepEqual(await cache.getMany(['a', 'b', 'c', 'zz']), [1, null, 'x', undefined])
    await advance(PAST_TTL_MS)
    t.deepEqual(await cache.getMany(['a', 'b', 'c']), [1, undefined, 'x'])
    t.deepEqual(await cache.getMany([]), [])
    // Misses are real undefined entries, not holes: map/forEach over the result see every key.
    const sparse = await cache.getMany(['zz1', 'a', 'zz2'])
    t.deepEqual(Object.keys(sparse), ['0', '1', '2'])
    t.deepEqual(sparse.map((v) => v === undefined), [true, false, true])
  })

  test(title('setMany validates every entry before storing any'), async (t) => {
    const { cache } = await open(t)
    await t.throwsAsync(cache.setMany([['ok', 1], ['bad', undefined as unknown]]), { code: 'ERR_CACHE_INVALID_VALUE' } as never)
    t.is(await cache.get('ok'), undefined)
    await t.throwsAsync(cache.setMany([['ok', 1], ['bad', 1, -1]]), { code: 'ERR_CACHE_INVALID_TTL' } as never)
    t.is(await cache.get('ok'), undefined)
  })

  test(title('has does not count as a lookup'), async (t) => {
    const { cache } = await open(t)
    await cache.set('k', 1)
    t.true(await cache.has('k'))
    t.false(await cache.has('nope'))
    if (target.capabilities.counters) {
      const s = cache.stats()
      t.is(s.hits + s.misses, 0)
    }
  })

  test(title('getOrSet loads once for concurrent callers and caches the result'), async (t) => {
    const { cache } = await open(t)
    let calls = 0
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const load = async () => {
      calls++
      await gate
      return { loaded: calls }
    }
    const pending = Array.from({ length: 10 }, () => cache.getOrSet('k', load))
    await new Promise((r) => setTimeout(r, 20))
    release()
    const results = await Promise.all(pending)
    t.is(calls, 1)
    for (const r of results) t.deepEqual(r, { loaded: 1 })
    t.deepEqual(await cache.getOrSet('k', load), { loaded: 1 })
    t.is(calls, 1)
  })

  test(title('a set, setMany, invalidate or clear while a getOrSet load runs keeps the older loaded value out'), async (t) => {
    const { cache } = await open(t)
    const writes = {
      invalidate: async (key: string) => void (await cache.invalidate(key)),
      set: (key: string) => cache.set(key, 'newer'),
      setMany: (key: string) => cache.setMany([[key, 'newer']]),
      clear: () => cache.clear(),
    }
    for (const [name, write] of Object.entries(writes)) {
      const key = `race-${name}`
      let release!: (v: string) => void
      let called = false
      const loading = cache.getOrSet(key, () => ((called = true), new Promise<string>((r) => (release = r))))
      t.true(await eventually(() => called), `${name}: the loader started`)
      // The source changes while the load runs (it read the row before): the writer updates the cache.
      await write(key)
      release('older')
      t.is(await loading, 'older', `${name}: the callers get what was loaded`)
      await new Promise((r) => setImmediate(r))
      t.is(await cache.get(key), name.startsWith('set') ? 'newer' : undefined, `${name}: the load's older value was not stored over the write`)
      // A load that starts after the write is stored as usual.
      await cache.invalidate(key)
      t.is(await cache.getOrSet(key, () => 'later'), 'later')
      t.true(await eventually(async () => (await cache.get(key)) === 'later'), `${name}: a later load is stored`)
    }
  })

  test(title('getOrSet does not cache a rejection, and propagates it'), async (t) => {
    const { cache } = await open(t)
    let calls = 0
    const failing = async () => {
      calls++
      throw new Error('boom')
    }
    await t.throwsAsync(cache.getOrSet('k', failing), { message: 'boom' })
    await t.throwsAsync(cache.getOrSet('k', failing), { message: 'boom' })
    t.is(calls, 2)
    t.is(await cache.getOrSet('k', () => 'ok'), 'ok')
    t.is(await cache.get('k'), 'ok')
  })

  test(title('getOrSet honours its ttl'), async (t) => {
    const { cache, advance } = await open(t, { defaultTtl: 3600 })
    await cache.getOrSet('k', () => 1, TTL_S)
    await advance(PAST_TTL_MS)
    t.is(await cache.get('k'), undefined)
  })

  test(title('Unicode, empty and long keys are distinct keys'), async (t) => {
    const { cache } = await open(t)
    const keys = ['', ' ', 'ключ', '键', '🔑', 'e\u0301', '\u00e9', 'a\u0000b', 'a', 'A', 'x'.repeat(MAX_KEY_LENGTH), 'x'.repeat(MAX_KEY_LENGTH - 1) + 'y']
    await cache.setMany(keys.map((k, i) => [k, i] as const))
    t.deepEqual(await cache.getMany(keys), keys.map((_, i) => i))
  })

  test(title('invalid keys, values and ttls reject with coded errors'), async (t) => {
    const { cache } = await open(t)
    const c = cache as Cache<unknown> & Record<string, (...a: unknown[]) => Promise<unknown>>
    for (const bad of [1, null, undefined, {}, Symbol('s'), ['a']]) {
      await t.throwsAsync(c.get(bad as never), { code: 'ERR_CACHE_INVALID_KEY' } as never)
      await t.throwsAsync(c.set(bad as never, 1), { code: 'ERR_CACHE_INVALID_KEY' } as never)
    }
    const tooLong = 'k'.repeat(MAX_KEY_LENGTH + 1)
    const err = await t.throwsAsync(cache.get(tooLong))
    t.true(err instanceof CacheError)
    t.regex(err!.message, new RegExp(String(MAX_KEY_LENGTH)))
    await t.throwsAsync(cache.set('k', undefined), { code: 'ERR_CACHE_INVALID_VALUE' } as never)
    for (const ttl of [-1, NaN, '5', null, -Infinity]) {
      const e = await t.throwsAsync(cache.set('k', 1, ttl as never), { code: 'ERR_CACHE_INVALID_TTL' } as never)
      t.true(e!.message.includes('ttl'), e!.message)
    }
    t.is(await cache.get('k'), undefined)
    // Batch and loader arguments of the wrong shape: the same coded error on every backend.
    await t.throwsAsync(cache.setMany('k' as never), { code: 'ERR_CACHE_INVALID_OPTION', message: /setMany expects an array/ } as never)
    await t.throwsAsync(cache.setMany([['k', 1], 'k2' as never]), { code: 'ERR_CACHE_INVALID_OPTION', message: /setMany entry 1/ } as never)
    await t.throwsAsync(cache.getOrSet('k', 'not a function' as never), { code: 'ERR_CACHE_INVALID_OPTION', message: /loader function/ } as never)
    t.is(await cache.get('k'), undefined)
  })

  test(title('every operation after close rejects with ERR_CACHE_CLOSED'), async (t) => {
    const { cache } = await open(t)
    await cache.set('k', 1)
    await cache.close()
    await cache.close() // idempotent
    const ops: (() => Promise<unknown>)[] = [
      () => cache.get('k'),
      () => cache.set('k', 2),
      () => cache.invalidate('k'),
      () => cache.clear(),
      () => cache.getMany(['k']),
      () => cache.setMany([['k', 1]]),
      () => cache.has('k'),
      () => cache.getOrSet('k', () => 1),
    ]
    for (const op of ops) {
      const e = await t.throwsAsync(op())
      t.true(e instanceof CacheClosedError)
      t.is((e as CacheClosedError).code, 'ERR_CACHE_CLOSED')
    }
    t.throws(() => cache.stats(), { code: 'ERR_CACHE_CLOSED' } as never)
  })

  if (target.capabilities.counters) {
    test(title('hits, misses and hitRate'), async (t) => {
      const { cache } = await open(t)
      t.is(cache.stats().hitRate(), 0)
      await cache.set('a', 1)
      await cache.get('a')
      await cache.get('a')
      await cache.get('b')
      await cache.getMany(['a', 'c'])
      const s = cache.stats()
      t.is(s.hits, 3)
      t.is(s.misses, 2)
      t.is(s.hitRate(), 3 / 5)
      if (sizeInStats) t.is(s.size, 1)
    })

    test(title('an expired read counts as a miss and an expiration, not an eviction'), async (t) => {
      const { cache, advance } = await open(t)
      await cache.set('k', 1, TTL_S)
      await advance(PAST_TTL_MS)
      t.is(await cache.get('k'), undefined)
      const s = cache.stats()
      t.is(s.misses, 1)
      if (expirationCount) t.is(s.expirations, 1)
      t.is(s.evictions, 0)
      if (sizeInStats) t.is(s.size, 0)
    })
  }

  if (target.capabilities.lruEviction) {
    test(title('evicts the least recently used entry at capacity, and counts it'), async (t) => {
      const { cache } = await open(t, { maxsize: 3 })
      await cache.set('a', 1)
      await cache.set('b', 2)
      await cache.set('c', 3)
      await cache.get('a') // a is now most recently used; b is least
      await cache.set('d', 4)
      t.deepEqual(await cache.getMany(['a', 'b', 'c', 'd']), [1, undefined, 3, 4])
      const s = cache.stats()
      t.is(s.evictions, 1)
      t.is(s.size, 3)
      if (target.capabilities.maxsizeInStats) t.is(s.maxsize, 3)
    })

    test(title('overwriting a key refreshes its recency without evicting'), async (t) => {
      const { cache } = await open(t, { maxsize: 2 })
      await cache.set('a', 1)
      await cache.set('b', 2)
      await cache.set('a', 10)
      await cache.set('c', 3)
      t.deepEqual(await cache.getMany(['a', 'b', 'c']), [10, undefined, 3])
      t.is(cache.stats().evictions, 1)
    })

    test(title('has and peek-like reads do not refresh recency'), async (t) => {
      const { cache } = await open(t, { maxsize: 2 })
      await cache.set('a', 1)
      await cache.set('b', 2)
      t.true(await cache.has('a'))
      await cache.set('c', 3)
      t.false(await cache.has('a'))
    })

    test(title('an expired entry at the LRU end is reclaimed as an expiration, not an eviction'), async (t) => {
      const { cache, advance } = await open(t, { maxsize: 2 })
      await cache.set('old', 1, TTL_S)
      await cache.set('b', 2, 0)
      await advance(PAST_TTL_MS)
      await cache.set('c', 3)
      const s = cache.stats()
      t.is(s.evictions, 0)
      t.is(s.expirations, 1)
      t.deepEqual(await cache.getMany(['b', 'c']), [2, 3])
    })

    test(title('maxsize 1 holds exactly one entry'), async (t) => {
      const { cache } = await open(t, { maxsize: 1 })
      await cache.set('a', 1)
      await cache.set('b', 2)
      t.deepEqual(await cache.getMany(['a', 'b']), [undefined, 2])
      t.is(cache.stats().evictions, 1)
    })
  }
}
