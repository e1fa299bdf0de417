/**
 * The Store interface (src/facade/store.ts) itself, run against every backend's store: raw
 * operations on validated keys with TTLs in milliseconds, values (stale-while-revalidate
 * envelopes included) stored and returned untouched, a synchronous store answering at once.
 * The facade's behaviour over any store is proved once in facade.test.ts.
 */
import test from 'ava'
import { makeEnvelope } from '../src/facade/envelope'
import { resolveGetOrSetOptions } from '../src/facade/get-or-set-options'
import type { Store } from '../src/facade/store'
import { createEngine } from '../src/memory/engine-choice'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { MemoryStore } from '../src/memory/memory-store'
import { createStorageEngine } from '../src/memory/storage'
import { resolveOptions } from '../src/redis/options'
import { RedisCache } from '../src/redis/redis-cache'
import { RedisStore } from '../src/redis/redis-store'
import { TieredStore } from '../src/tiered/tiered-store'
import { enginesUnderTest } from './helpers/engines'
import { FakeClock } from './helpers/fake-clock'
import { redisTestsOrSkip, sleep, startRedis, type RedisServer } from './helpers/redis-server'

interface StoreTarget {
  name: string
  create(clock: FakeClock): Store
  /** Moves time forward: a fake clock for memory, real time where Redis expires entries. */
  advance(ms: number, clock: FakeClock): Promise<void>
}

const SHORT_MS = 200
const PAST_MS = 300

function storeSuite(target: StoreTarget): void {
  const title = (s: string) => `[${target.name}] ${s}`
  const open = (t: { teardown(fn: () => unknown): void }) => {
    const clock = new FakeClock()
    const store = target.create(clock)
    t.teardown(() => store.close())
    return { store, clock }
  }
  /** The answer, checking it is a promise exactly when the store is asynchronous. */
  const answer = async <T>(store: Store, value: T | Promise<T>): Promise<T> => {
    if ((value instanceof Promise) === store.traits.sync) throw new Error(`a ${store.traits.sync ? 'sync' : 'async'} store answered ${value instanceof Promise ? 'a promise' : 'at once'}`)
    return value
  }

  test(title('set/get/has/delete on raw values with ttls in ms'), async (t) => {
    const { store } = open(t)
    await answer(store, store.set('a', { n: 1 }, 0))
    t.deepEqual(await answer(store, store.get('a')), { n: 1 })
    t.is(await answer(store, store.get('missing')), undefined)
    t.true(await answer(store, store.has('a')))
    t.true(await answer(store, store.delete('a')))
    t.false(await answer(store, store.delete('a')))
    t.false(await answer(store, store.has('a')))
  })

  test(title('an envelope is stored and returned untouched (the facade unwraps)'), async (t) => {
    const { store, clock } = open(t)
    const { envelope, ttlMs } = makeEnvelope('v', resolveGetOrSetOptions({ ttl: 10, staleTtl: 30 }), 60_000, clock.time)
    await answer(store, store.set('k', envelope, ttlMs))
    t.deepEqual(await answer(store, store.get('k')), envelope)
    t.deepEqual(await answer(store, store.getMany(['k'])), [envelope])
  })

  test(title('a ttl expires the entry; 0 never does'), async (t) => {
    const { store, clock } = open(t)
    await answer(store, store.set('short', 1, SHORT_MS))
    await answer(store, store.set('forever', 2, 0))
    await target.advance(PAST_MS, clock)
    t.is(await answer(store, store.get('short')), undefined)
    t.false(await answer(store, store.delete('short')), 'an expired entry is not removed "live"')
    t.is(await answer(store, store.get('forever')), 2)
  })

  test(title('getMany is dense and in order; setMany writes each entry with its own ttl'), async (t) => {
    const { store, clock } = open(t)
    await answer(store, store.setMany([['a', 1], ['b', 'x'], ['c', null]], [0, SHORT_MS, 0]))
    const values = await answer(store, store.getMany(['zz', 'a', 'b', 'c']))
    t.deepEqual(Object.keys(values), ['0', '1', '2', '3'])
    t.deepEqual(values, [undefined, 1, 'x', null])
    await target.advance(PAST_MS, clock)
    t.deepEqual(await answer(store, store.getMany(['a', 'b'])), [1, undefined])
  })

  test(title('clear removes everything; stats carry hits and misses only from a counting store'), async (t) => {
    const { store } = open(t)
    await answer(store, store.setMany([['a', 1], ['b', 2]], [0, 0]))
    await answer(store, store.get('a'))
    await answer(store, store.clear())
    t.deepEqual(await answer(store, store.getMany(['a', 'b'])), [undefined, undefined])
    const stats = store.stats()
    t.is(typeof stats.evictions, 'number')
    if (store.traits.countsLookups) t.true((stats.hits ?? -1) >= 1)
    else t.deepEqual([stats.hits, stats.misses], [undefined, undefined])
  })
}

const memoryAdvance = async (ms: number, clock: FakeClock) => clock.advance(ms)

for (const engine of enginesUnderTest()) {
  storeSuite({ name: `memory/${engine}`, create: (clock) => new MemoryStore(createEngine(engine, { capacity: 100, clock: clock.now }), 100), advance: memoryAdvance })
}
if (enginesUnderTest().includes('native')) {
  storeSuite({
    name: 'memory/serialized',
    create: (clock) => new MemoryStore(createStorageEngine({ storage: 'serialized', engine: 'native' }, { capacity: 100, clock: clock.now, defaultTtlMs: 0 })!, 100),
    advance: memoryAdvance,
  })
}
storeSuite({
  name: 'tiered (memory over memory)',
  create: (clock) => {
    const tier = () => new InMemoryLRUCache<unknown>({ engine: 'js', maxsize: 100, clock: clock.now })
    return new TieredStore(tier(), tier(), 10_000, undefined, true)
  },
  advance: memoryAdvance,
})

if (redisTestsOrSkip(test, 'the Redis stores against a real redis-server')) {
  let server: RedisServer | undefined
  let prefixes = 0
  const ready = startRedis().then((s) => (server = s))
  test.after.always(() => server?.stop())
  const redisStore = () => new RedisStore(resolveOptions({ redisUrl: server!.url, keyPrefix: `store:${process.pid}:${++prefixes}:`, fallback: false, commandTimeoutMs: 5000 }))
  const realTime = (ms: number) => sleep(ms)
  test.before(() => ready)
  storeSuite({ name: 'redis', create: () => redisStore(), advance: realTime })
  storeSuite({
    name: 'tiered (memory over redis)',
    create: (clock) => {
      const redis = new RedisCache<unknown>({ redisUrl: server!.url, keyPrefix: `store:${process.pid}:${++prefixes}:`, commandTimeoutMs: 5000 })
      // L1 follows the fake clock, L2 real time: advance moves both.
      return new TieredStore(new InMemoryLRUCache<unknown>({ engine: 'js', maxsize: 100, clock: clock.now }), redis, 10_000, undefined, true)
    },
    advance: async (ms, clock) => {
      clock.advance(ms)
      await sleep(ms)
    },
  })
}
