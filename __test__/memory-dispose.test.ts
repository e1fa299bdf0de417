import test from 'ava'
import { CacheOptionError, InMemoryLRUCache } from '../src'
import type { DisposeReason } from '../src'
import { enginesUnderTest } from './helpers/engines'
import { FakeClock } from './helpers/fake-clock'

type Call = [value: unknown, key: string, reason: DisposeReason]

interface Storage {
  name: string
  /** A cache of `maxsize` entries whose dispose records into `calls`; `clock` where the storage takes one. */
  make(maxsize: number, calls: Call[], clock: FakeClock, extra?: { onDispose?: (cache: InMemoryLRUCache, call: Call) => void }): InMemoryLRUCache
  /** Lets a 1-second TTL pass: the fake clock, or (shared caches run on the engine's clock) real time. */
  expire(clock: FakeClock, cache: InMemoryLRUCache, key: string): Promise<void>
}

let sharedSeq = 0
function recorder(calls: Call[], extra: { onDispose?: (cache: InMemoryLRUCache, call: Call) => void } | undefined, cache: () => InMemoryLRUCache) {
  return (value: unknown, key: string, reason: DisposeReason) => {
    const call: Call = [value, key, reason]
    calls.push(call)
    extra?.onDispose?.(cache(), call)
  }
}

const advance = async (clock: FakeClock) => clock.advance(1_000)

const storages: Storage[] = enginesUnderTest().map((engine) => ({
  name: engine,
  make(maxsize, calls, clock, extra) {
    const cache: InMemoryLRUCache = new InMemoryLRUCache({ maxsize, defaultTtl: 0, engine, clock: clock.now, dispose: recorder(calls, extra, () => cache) })
    return cache
  },
  expire: advance,
}))
if (enginesUnderTest().includes('native')) {
  storages.push({
    name: 'native serialized',
    make(maxsize, calls, clock, extra) {
      const cache: InMemoryLRUCache = new InMemoryLRUCache({ maxsize, defaultTtl: 0, engine: 'native', storage: 'serialized', clock: clock.now, dispose: recorder(calls, extra, () => cache) })
      return cache
    },
    expire: advance,
  })
  storages.push({
    name: 'native shared',
    make(maxsize, calls, _clock, extra) {
      const cache: InMemoryLRUCache = InMemoryLRUCache.shared(`dispose-test-${process.pid}-${sharedSeq++}`, { maxsize, defaultTtl: 0, shards: 1, dispose: recorder(calls, extra, () => cache) })
      return cache
    },
    async expire(_clock, cache, key) {
      // The engine's own clock: wait until the entry reads as expired (has() does not remove it).
      const until = Date.now() + 10_000
      while ((await cache.has(key)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
      await new Promise((r) => setTimeout(r, 20))
    },
  })
}

for (const s of storages) {
  test(`[${s.name}] evict: the least recently used entry, after the set that evicted it`, async (t) => {
    const calls: Call[] = []
    const sizes: number[] = []
    const cache = s.make(2, calls, new FakeClock(), { onDispose: (c) => sizes.push(c.stats().size) })
    await cache.set('a', { n: 1 })
    await cache.set('b', { n: 2 })
    await cache.get('a')
    await cache.set('c', { n: 3 })
    t.deepEqual(calls, [[{ n: 2 }, 'b', 'evict']])
    t.deepEqual(sizes, [2], 'the new entry is in and the victim out when dispose runs')
    await cache.close()
  })

  test(`[${s.name}] expire: an entry found expired, by get and by a set's sweep`, async (t) => {
    const calls: Call[] = []
    const clock = new FakeClock()
    const cache = s.make(10, calls, clock)
    await cache.set('a', 'one', 0.5)
    await cache.set('keep', 'forever')
    await s.expire(clock, cache, 'a')
    t.is(await cache.get('a'), undefined)
    t.deepEqual(calls, [['one', 'a', 'expire']])
    await cache.set('b', 'two', 0.5)
    await s.expire(clock, cache, 'b')
    // The sweep of the following sets walks the slots and removes 'b' (each set of 'keep' also replaces it).
    for (let i = 0; i < 4; i++) await cache.set('keep', 'forever')
    t.deepEqual(calls.filter((c) => c[2] === 'expire'), [['one', 'a', 'expire'], ['two', 'b', 'expire']])
    t.deepEqual(calls.filter((c) => c[2] !== 'expire'), Array(4).fill(['forever', 'keep', 'set']))
    t.is(cache.stats().size, 1)
    await cache.close()
  })

  test(`[${s.name}] delete: invalidate of a live entry, nothing for an absent one`, async (t) => {
    const calls: Call[] = []
    const cache = s.make(10, calls, new FakeClock())
    await cache.set('a', [1, 2])
    t.true(await cache.invalidate('a'))
    t.false(await cache.invalidate('a'))
    t.false(await cache.invalidate('never'))
    t.deepEqual(calls, [[[1, 2], 'a', 'delete']])
    await cache.close()
  })

  test(`[${s.name}] set: the replaced value, once per replacement`, async (t) => {
    const calls: Call[] = []
    const cache = s.make(10, calls, new FakeClock())
    await cache.set('a', 'first')
    await cache.set('a', 'second')
    await cache.setMany([['a', 'third'], ['b', 'x']])
    t.deepEqual(calls, [['first', 'a', 'set'], ['second', 'a', 'set']])
    t.is(await cache.get('a'), 'third')
    await cache.close()
  })

  test(`[${s.name}] clear: every entry, most to least recently used; close reports nothing`, async (t) => {
    const calls: Call[] = []
    const cache = s.make(10, calls, new FakeClock())
    await cache.set('a', 1)
    await cache.set('b', 2)
    await cache.set('c', 3)
    await cache.get('a')
    await cache.clear()
    t.deepEqual(calls, [[1, 'a', 'clear'], [3, 'c', 'clear'], [2, 'b', 'clear']])
    await cache.set('d', 4)
    await cache.close()
    t.is(calls.length, 3)
  })

  test(`[${s.name}] dispose may write to the cache: it runs after the operation`, async (t) => {
    const calls: Call[] = []
    const cache = s.make(2, calls, new FakeClock(), {
      onDispose: (c, [value, key, reason]) => {
        if (reason === 'evict' && key === 'a') void c.set('a-again', value)
      },
    })
    await cache.set('a', 'A')
    await cache.set('b', 'B')
    await cache.set('c', 'C') // evicts a; dispose puts it back as a-again, which evicts b
    t.deepEqual(calls, [['A', 'a', 'evict'], ['B', 'b', 'evict']])
    t.is(await cache.get('a-again'), 'A')
    t.is(await cache.get('c'), 'C')
    t.is(cache.stats().size, 2)
    await cache.close()
  })

  test(`[${s.name}] a throwing dispose rejects the operation, which has happened`, async (t) => {
    const calls: Call[] = []
    const cache = s.make(1, calls, new FakeClock(), {
      onDispose: () => {
        throw new Error('dispose failed')
      },
    })
    await cache.set('a', 'A')
    await t.throwsAsync(cache.set('b', 'B'), { message: 'dispose failed' })
    t.is(await cache.get('a'), undefined)
    t.is(await cache.get('b'), 'B')
    await t.throwsAsync(cache.clear(), { message: 'dispose failed' })
    t.is(cache.stats().size, 0)
    t.deepEqual(calls, [['A', 'a', 'evict'], ['B', 'b', 'clear']])
    await cache.close()
  })

  test(`[${s.name}] a stale-while-revalidate entry is disposed as its value`, async (t) => {
    const calls: Call[] = []
    const cache = s.make(10, calls, new FakeClock())
    t.is(await cache.getOrSet('k', async () => 'loaded', { ttl: 10, staleTtl: 10 }), 'loaded')
    t.true(await cache.invalidate('k'))
    t.deepEqual(calls, [['loaded', 'k', 'delete']])
    await cache.close()
  })
}

test('dispose must be a function', (t) => {
  for (const bad of [null, 1, 'fn', {}]) {
    t.throws(() => new InMemoryLRUCache({ dispose: bad as never }), { instanceOf: CacheOptionError, message: /dispose must be a function/ })
  }
})
