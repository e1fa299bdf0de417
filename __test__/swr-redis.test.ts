/**
 * Stale-while-revalidate and grace through RedisCache.getOrSet on a real redis-server, and
 * TieredCache taking its invalidation channel's connection from the RedisCache L2.
 * SWR freshness follows an injected fake clock (RedisCache `clock` option); Redis' own PX
 * expiry is real time, so every entry here lives far longer than a test.
 */
import test from 'ava'
import { Redis } from 'ioredis'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { RedisCache, type RedisCacheOptions } from '../src/redis/redis-cache'
import { msgpackSerializer } from '../src/serializer'
import { rawGet } from '../src/contract/capabilities'
import { isEnvelope } from '../src/facade/envelope'
import { cacheStore } from '../src/facade/swr'
import { TieredCache } from '../src/tiered/tiered-cache'
import { FakeClock } from './helpers/fake-clock'
import { eventually } from './helpers/eventually'
import { RedisServer, redisTestsOrSkip, startRedis } from './helpers/redis-server'
import { subscribed } from './helpers/subscribed'

const tick = () => new Promise((r) => setImmediate(r))

/** A loader whose calls are counted and whose results are released by hand. */
function gatedLoader<T>() {
  const pending: { resolve: (v: T) => void; reject: (e: Error) => void }[] = []
  let calls = 0
  return {
    load: () => {
      calls++
      return new Promise<T>((resolve, reject) => pending.push({ resolve, reject }))
    },
    get calls() {
      return calls
    },
    get waiting() {
      return pending.length
    },
    /** Waits (bounded) for the loader to be called, then settles its oldest call. */
    async resolveNext(v: T) {
      if (!(await eventually(() => pending.length > 0))) throw new Error('the loader was not called')
      pending.shift()!.resolve(v)
    },
  }
}

if (redisTestsOrSkip(test, 'RedisCache stale-while-revalidate on a real redis-server')) {
  let server: RedisServer
  let raw: Redis
  let prefixes = 0
  const freshPrefix = () => `astra:swr:${process.pid}:${++prefixes}:`
  const open: { close(): Promise<void> }[] = []

  function redis<V = unknown>(options: RedisCacheOptions<V> = {}): RedisCache<V> {
    // A generous command timeout: a busy shared machine must not turn a read into a fallback miss.
    // A client of the test's own replaces the URL (both would be refused).
    const connection = options.client === undefined ? { redisUrl: server.url } : {}
    const cache = new RedisCache<V>({ ...connection, keyPrefix: freshPrefix(), commandTimeoutMs: 5000, ...options })
    open.push(cache)
    return cache
  }

  test.before(async () => {
    server = await startRedis()
    raw = new Redis(server.port, server.host)
  })
  test.after.always(async () => {
    await Promise.all(open.map((c) => c.close().catch(() => {})))
    raw?.disconnect()
    await server?.stop()
  })

  test('staleTtl: the old value is served while ONE background refresh runs for all concurrent callers', async (t) => {
    const clock = new FakeClock(Date.now())
    const cache = redis<string>({ clock: clock.now })
    const loader = gatedLoader<string>()
    const opts = { ttl: 10, staleTtl: 30 }
    const first = cache.getOrSet('k', loader.load, opts)
    await loader.resolveNext('v1')
    t.is(await first, 'v1')
    // The loaded value is written off the caller's path: the caller may have it before Redis does.
    const stored = async () => {
      const text = await raw.get(`${cache.keyPrefix}k`)
      return text !== null && isEnvelope(JSON.parse(text))
    }
    t.true(await eventually(stored), 'stored in Redis as an envelope')

    clock.advance(9_000)
    t.is(await cache.getOrSet('k', loader.load, opts), 'v1', 'fresh: no load')
    t.is(loader.calls, 1)

    clock.advance(6_000) // past ttl, inside staleTtl
    const stale = await Promise.all(Array.from({ length: 8 }, () => cache.getOrSet('k', loader.load, opts)))
    t.deepEqual(stale, Array(8).fill('v1'))
    t.is(loader.calls, 2, 'one refresh for eight stale readers')
    t.is(loader.waiting, 1)

    await loader.resolveNext('v2')
    t.true(await eventually(async () => (await cache.getOrSet('k', loader.load, opts)) === 'v2'), 'the refreshed value reaches Redis')
    t.is(loader.calls, 2)
    clock.advance(9_000)
    t.is(await cache.getOrSet('k', loader.load, opts), 'v2', 'fresh for a new ttl from the refresh')
    t.is(loader.calls, 2)
  })

  test('staleTtl: past the stale window the caller waits for the new value', async (t) => {
    const clock = new FakeClock(Date.now())
    const cache = redis<string>({ clock: clock.now })
    await cache.getOrSet('k', () => 'v1', { ttl: 10, staleTtl: 5 })
    clock.advance(16_000)
    const loader = gatedLoader<string>()
    const next = cache.getOrSet('k', loader.load, { ttl: 10, staleTtl: 5 })
    await loader.resolveNext('v2')
    t.is(await next, 'v2')
  })

  test('grace: an expired value is served when the loader fails, the failure is emitted, a success replaces it', async (t) => {
    const clock = new FakeClock(Date.now())
    const cache = redis<string>({ clock: clock.now })
    const errors: Error[] = []
    cache.on('error', (e) => errors.push(e))
    const opts = { ttl: 10, grace: 60 }
    t.is(await cache.getOrSet('k', () => 'v1', opts), 'v1')
    clock.advance(20_000) // expired, inside grace
    let calls = 0
    const failing = async (): Promise<string> => {
      calls++
      throw new Error('db down')
    }
    t.is(await cache.getOrSet('k', failing, opts), 'v1')
    t.is(calls, 1, 'grace still tries the loader first')
    t.is(errors.length, 1)
    t.is(errors[0].message, 'db down')
    t.is(await cache.getOrSet('k', async () => 'v2', opts), 'v2', 'a working loader wins')
    t.is(await cache.get('k'), 'v2')

    clock.advance(80_000) // past ttl + grace
    await t.throwsAsync(cache.getOrSet('k', failing, opts), { message: 'db down' }, 'beyond grace the failure propagates')
  })

  test('a plain get/getMany of an SWR-written key: the value while fresh, a miss afterwards, on any instance', async (t) => {
    const clock = new FakeClock(Date.now())
    const writer = redis<string>({ clock: clock.now })
    // Another instance (as in another process) that never used SWR itself.
    const reader = redis<string>({ keyPrefix: writer.keyPrefix, clock: clock.now })
    await writer.getOrSet('k', () => 'v1', { ttl: 10, staleTtl: 30, grace: 60 })
    await writer.set('plain', 'p')
    await writer.set('obj', { a: 1 } as never)
    t.is(await writer.get('k'), 'v1')
    t.is(await reader.get('k'), 'v1')
    t.deepEqual(await reader.getMany(['k', 'plain', 'obj', 'none']), ['v1', 'p', { a: 1 }, undefined])
    const before = reader.stats()

    clock.advance(11_000)
    t.is(await reader.get('k'), undefined, 'stale is a miss for a plain read')
    t.deepEqual(await reader.getMany(['k', 'plain']), [undefined, 'p'])
    const after = reader.stats()
    t.is(after.misses - before.misses, 2, 'counted as misses')
    t.is(after.hits - before.hits, 1)
    t.true(isEnvelope(await reader[rawGet]('k')), 'the raw read still sees the envelope')
    t.true(isEnvelope(await cacheStore(reader as never).read('k')), 'cacheStore (cached()) reads raw through the symbol')

    // A plain getOrSet treats the stale envelope as a miss and stores a plain value.
    t.is(await reader.getOrSet('k', () => 'v2', 10), 'v2')
    t.true(await eventually(async () => (await raw.get(`${writer.keyPrefix}k`)) === JSON.stringify('v2')), 'a plain value replaces the envelope in Redis')
  })

  test('getOrSet accepts { ttl, staleTtl, grace } and rejects bad ones naming the option', async (t) => {
    const cache = redis<string>()
    t.is(await cache.getOrSet('a', () => 'x', { staleTtl: 5 }), 'x')
    t.is(await cache.getOrSet('b', () => 'y', { grace: 5 }), 'y')
    t.is(await cache.getOrSet('c', () => 'z', { ttl: 3 }), 'z')
    t.is(await cache.getOrSet('d', () => 'w', 3), 'w')
    await t.throwsAsync(cache.getOrSet('e', () => 'v', { staleTtl: -1 }), { code: 'ERR_CACHE_INVALID_TTL', message: /staleTtl/ } as never)
    await t.throwsAsync(cache.getOrSet('e', () => 'v', { stale: 1 } as never), { message: /"stale"/ })
    await t.throwsAsync(cache.getOrSet('e', () => 'v', 'soon' as never), { message: /ttl/ })
    t.throws(() => redis({ clock: 5 as never }), { message: /clock must be a function/ })
  })

  test('the physical Redis TTL covers ttl plus the longer of staleTtl and grace', async (t) => {
    const cache = redis<string>()
    await cache.getOrSet('k', () => 'v', { ttl: 10, staleTtl: 30, grace: 100 })
    const pttl = await raw.pttl(`${cache.keyPrefix}k`)
    t.true(pttl > 100_000 && pttl <= 110_000, `PTTL ${pttl}`)
    await cache.getOrSet('forever', () => 'v', { ttl: 10, grace: Infinity })
    t.is(await raw.pttl(`${cache.keyPrefix}forever`), -1, 'an endless grace window never expires in Redis')
  })

  test('envelopes survive the msgpack serializer', async (t) => {
    const clock = new FakeClock(Date.now())
    const cache = redis<{ n: number }>({ clock: clock.now, serializer: msgpackSerializer() })
    t.deepEqual(await cache.getOrSet('k', () => ({ n: 1 }), { ttl: 10, staleTtl: 30 }), { n: 1 })
    t.deepEqual(await cache.get('k'), { n: 1 })
    clock.advance(15_000)
    t.is(await cache.get('k'), undefined)
    t.deepEqual(await cache.getOrSet('k', () => ({ n: 2 }), { ttl: 10, staleTtl: 30 }), { n: 1 }, 'stale served')
    t.true(await eventually(async () => (await cache.get('k'))?.n === 2))
  })

  test('connectionOptions(): the URL and options of its own client; undefined for a client you pass', async (t) => {
    const own = redis({ redisOptions: { connectionName: 'swr-test' } })
    t.deepEqual(own.connectionOptions(), { redisUrl: server.url, redisOptions: { connectionName: 'swr-test' }, commandTimeoutMs: 5000 })
    own.connectionOptions()!.redisOptions.connectionName = 'changed'
    t.is(own.connectionOptions()!.redisOptions.connectionName, 'swr-test', 'a copy')
    const client = new Redis(server.port, server.host)
    t.teardown(() => client.disconnect())
    t.is(redis({ client }).connectionOptions(), undefined)
  })

  test('TieredCache takes its invalidation channel from the RedisCache L2 (no redisUrl option)', async (t) => {
    const keyPrefix = freshPrefix()
    const make = () => {
      const l2 = new RedisCache<string>({ redisUrl: server.url, keyPrefix, commandTimeoutMs: 5000 })
      const cache = new TieredCache<string>({ l1: new InMemoryLRUCache<string>({ engine: 'js' }), l2, l1Ttl: 60 })
      cache.on('error', () => {})
      open.push(cache)
      return cache
    }
    const a = make()
    const b = make()
    await Promise.all([subscribed(a), subscribed(b)])
    // b hears of every write of a: wait for this one, or it could drop the copy read below.
    const heard = new Promise((r) => b.once('invalidated', r))
    await a.set('k', 'v1')
    await heard
    t.is(await b.get('k'), 'v1')
    t.is(await b.l1.get('k'), 'v1', 'held in b L1')
    await a.set('k', 'v2')
    t.true(await eventually(async () => (await b.l1.get('k')) === undefined), "a's write dropped b's L1 copy through the channel")
    t.is(await b.get('k'), 'v2')

    // With a client instead of a URL the L2 cannot tell its connection: redisUrl (or bus: false) is required.
    const client = new Redis(server.port, server.host)
    t.teardown(() => client.disconnect())
    const l2 = redis<string>({ client })
    t.throws(() => new TieredCache<string>({ l1: new InMemoryLRUCache<string>({ engine: 'js' }), l2 }), { message: /redisUrl/ })
  })

  test('TieredCache.getMany fills L1 with the envelope its Redis L2 holds, so L1 copies go stale on time', async (t) => {
    const clock = new FakeClock(Date.now())
    const l2 = redis<string>({ clock: clock.now })
    const l1 = new InMemoryLRUCache<string>({ engine: 'js' })
    const cache = new TieredCache<string>({ l1, l2, bus: false, clock: clock.now, l1Ttl: 600 })
    open.push(cache)
    await l2.getOrSet('k', () => 'v1', { ttl: 10, staleTtl: 30 })
    t.deepEqual(await cache.getMany(['k', 'none']), ['v1', undefined])
    t.true(isEnvelope(await l1[rawGet]('k')), 'L1 holds the envelope')
    clock.advance(11_000)
    t.deepEqual(await cache.getMany(['k']), [undefined], 'stale after ttl, although the L1 copy lives 600 s')
    await tick()
  })
}
