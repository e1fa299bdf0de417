import { inspect } from 'node:util'
import test from 'ava'
import { Redis } from 'ioredis'
import type { CacheStats } from '../src/contract/cache'
import { CacheOptionError, CacheSerializationError, CacheTtlError, CacheUnavailableError } from '../src/errors'
import type { CacheOp, MetricsSink, MetricsSource } from '../src/contract/metrics'
import { RedisCache } from '../src/redis/redis-cache'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { msgpackSerializer } from '../src/serializer'
import { contractSuite } from './contract/suite'
import { freePort, RedisServer, redisTestsOrSkip, sleep, startRedis } from './helpers/redis-server'

if (redisTestsOrSkip(test, 'RedisCache on a real redis-server')) {
  let server: RedisServer
  let raw: Redis
  let prefixes = 0
  const freshPrefix = (label = 't') => `astra:test:${label}:${process.pid}:${++prefixes}:`
  const open: RedisCache<any>[] = []
  const cache = (options: ConstructorParameters<typeof RedisCache>[0] = {}) => {
    const c = new RedisCache<any>({ redisUrl: server.url, keyPrefix: freshPrefix(), ...options })
    open.push(c)
    return c
  }

  test.before(async () => {
    server = await startRedis()
    raw = new Redis(server.port, server.host)
  })
  test.after.always(async () => {
    await Promise.all(open.map((c) => c.close()))
    raw?.disconnect()
    await server?.stop()
  })

  contractSuite(test, {
    name: 'redis',
    create: async ({ defaultTtl }) => cache({ defaultTtl }),
    advance: (ms) => sleep(ms),
    capabilities: { lruEviction: false, counters: true, maxsizeInStats: false, sizeInStats: false, expirationCount: false },
  })

  const commandCalls = async (command: string): Promise<number> => {
    const info = await raw.info('commandstats')
    return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0)
  }

  test.serial('set uses PX for a ttl and no expiry for 0/Infinity; getMany is one MGET; setMany one MULTI', async (t) => {
    const c = cache({ defaultTtl: 30 })
    await c.set('ttl', 1, 10)
    await c.set('default', 1)
    await c.set('forever', 1, 0)
    await c.set('inf', 1, Infinity)
    const pttl = await raw.pttl(`${c.keyPrefix}ttl`)
    t.true(pttl > 9000 && pttl <= 10_000, String(pttl))
    const pttlDefault = await raw.pttl(`${c.keyPrefix}default`)
    t.true(pttlDefault > 29_000 && pttlDefault <= 30_000, String(pttlDefault))
    t.is(await raw.pttl(`${c.keyPrefix}forever`), -1)
    t.is(await raw.pttl(`${c.keyPrefix}inf`), -1)
    // Past 2^53 ms a TTL means no expiry (Redis refused PX 1e+303, and the failure counted against the breaker).
    const errors: unknown[] = []
    c.on('error', (e) => errors.push(e))
    await c.set('huge', 1, 1e300)
    await c.set('far', 1, 9e12)
    t.deepEqual(errors, [])
    t.is(await raw.pttl(`${c.keyPrefix}huge`), -1)
    t.true((await raw.pttl(`${c.keyPrefix}far`)) > 8.9e15, 'just below 2^53 ms is still a TTL')
    t.is(await raw.get(`${c.keyPrefix}huge`), '1')

    const mgetBefore = await commandCalls('mget')
    const getBefore = await commandCalls('get')
    t.deepEqual(await c.getMany(['ttl', 'forever', 'nope']), [1, 1, undefined])
    t.is(await commandCalls('mget'), mgetBefore + 1)
    t.is(await commandCalls('get'), getBefore)

    const execBefore = await commandCalls('exec')
    await c.setMany([['a', 1, 5], ['b', 2, 0]])
    t.is(await commandCalls('exec'), execBefore + 1)
    const pttlA = await raw.pttl(`${c.keyPrefix}a`)
    t.true(pttlA > 4000 && pttlA <= 5000, String(pttlA))
    t.is(await raw.pttl(`${c.keyPrefix}b`), -1)
  })

  test.serial('clear uses SCAN + UNLINK, never KEYS or FLUSHDB, and keeps other prefixes', async (t) => {
    const mine = cache()
    const other = cache()
    await mine.setMany(Array.from({ length: 1200 }, (_, i) => [`k${i}`, i] as [string, number]))
    await other.set('keep', 'yes')
    await raw.set('unrelated', 'yes')
    const keysBefore = await commandCalls('keys')
    const flushBefore = (await commandCalls('flushdb')) + (await commandCalls('flushall'))
    const scanBefore = await commandCalls('scan')
    await mine.clear()
    t.is((await raw.scan('0', 'MATCH', `${mine.keyPrefix}*`, 'COUNT', 10_000))[1].length, 0)
    t.is(await other.get('keep'), 'yes')
    t.is(await raw.get('unrelated'), 'yes')
    t.is(await commandCalls('keys'), keysBefore)
    t.is((await commandCalls('flushdb')) + (await commandCalls('flushall')), flushBefore)
    t.true((await commandCalls('scan')) > scanBefore + 1, 'several SCAN batches')
    t.true((await commandCalls('unlink')) > 0)
  })

  test.serial('a prefix with glob characters clears only itself', async (t) => {
    const base = freshPrefix('glob')
    // Each glob prefix would, unescaped, also match the "victim" prefixes beside it.
    const cases: [string, string[]][] = [
      [`${base}*`, [`${base}x`, `${base}`]],
      [`${base}?:`, [`${base}a:`, `${base}?a:`]],
      [`${base}[ab]:`, [`${base}a:`, `${base}b:`]],
      [`${base}\\`, [`${base}*`]],
      [`${base}[^x]:`, [`${base}a:`, `${base}^:`]],
      [`${base}\\*:`, [`${base}*:`]],
    ]
    for (const [globPrefix, victims] of cases) {
      const victimCaches = victims.map((p) => cache({ keyPrefix: p }))
      for (const v of victimCaches) await v.set('key', 'victim')
      const g = cache({ keyPrefix: globPrefix })
      await g.set('key', 'glob')
      await g.clear()
      t.is(await g.get('key'), undefined, globPrefix)
      for (const v of victimCaches) t.is(await v.get('key'), 'victim', `${globPrefix} must not clear ${v.keyPrefix}`)
    }
  })

  test.serial("clear() with keyPrefix '' is refused and removes nothing (it would have removed the whole database)", async (t) => {
    const other = cache()
    await other.set('kept', 'other cache')
    await raw.set(`queue:${process.pid}:job`, 'not a cache key')
    const bare = cache({ keyPrefix: '' })
    const own = `bare:${process.pid}`
    await bare.set(own, 1)
    await t.throwsAsync(bare.clear(), { instanceOf: CacheOptionError, message: /^clear\(\) is refused with keyPrefix '': it would remove every key of the Redis database, not only this cache's/ })
    t.is(await bare.get(own), 1, 'nothing was cleared')
    t.is(await other.get('kept'), 'other cache')
    t.is(await raw.get(`queue:${process.pid}:job`), 'not a cache key')
    t.true(await bare.invalidate(own), 'the cache itself still works')
    await raw.del(`queue:${process.pid}:job`)
  })

  test.serial('values JSON cannot carry fail at set with a coded error, and nothing is stored', async (t) => {
    const c = cache()
    // A Buffer would come back as { type: 'Buffer', data: [...] }: refused too (msgpack carries it).
    for (const bad of [{ n: 1n }, { f: () => 1 }, [undefined], Buffer.from('bytes'), { b: new Uint8Array(1) }]) {
      const err = await t.throwsAsync(c.set('bad', bad as never))
      t.true(err instanceof CacheSerializationError)
      t.is((err as CacheSerializationError).code, 'ERR_CACHE_SERIALIZE')
    }
    await t.throwsAsync(c.setMany([['ok', 1], ['bad', { n: 1n }]]), { code: 'ERR_CACHE_SERIALIZE', message: /^value of key "bad" not stored: JSON cannot store a BigInt \(1n \(bigint\), at property "n"\)/ } as never)
    t.is(await raw.exists(`${c.keyPrefix}bad`, `${c.keyPrefix}ok`), 0)
  })

  test.serial('bytes the serializer cannot read are a miss and an error event', async (t) => {
    const c = cache()
    const errors: Error[] = []
    c.on('error', (e) => errors.push(e))
    await raw.set(`${c.keyPrefix}corrupt`, '{not json')
    t.is(await c.get('corrupt'), undefined)
    t.is(errors.length, 1)
    t.true(errors[0] instanceof CacheSerializationError)
    t.is(c.stats().misses, 1)
    const strict = cache({ keyPrefix: c.keyPrefix, failOpen: false })
    await t.throwsAsync(strict.get('corrupt'), { code: 'ERR_CACHE_SERIALIZE' } as never)
  })

  test.serial('the msgpack serializer works end to end', async (t) => {
    const c = cache({ serializer: msgpackSerializer() })
    await c.set('k', { n: 12345678901234567890n, d: new Date(5) })
    const back = await c.get('k')
    t.is(back.n, 12345678901234567890n)
    t.is(back.d.getTime(), 5)
  })

  test.serial('keys with a lone surrogate are rejected (they would collide in UTF-8)', async (t) => {
    const c = cache()
    await t.throwsAsync(c.set('a\uD800', 1), { code: 'ERR_CACHE_INVALID_KEY' } as never)
    await c.set('a\uD83D\uDD11', 1)
    t.is(await c.get('a\uD83D\uDD11'), 1)
  })

  test('bad options throw CacheOptionError naming the option and value', (t) => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ redisUrl: 'http://localhost:6379' }, /redisUrl.*redis:\/\/ or rediss:\/\/.*http:\/\/localhost:6379/],
      [{ redisUrl: 'not a url' }, /redisUrl/],
      [{ redisUrl: 42 }, /redisUrl.*42/],
      [{ redisUrl: 'redis://localhost/abc' }, /database.*abc/],
      [{ commandTimeoutMs: 0 }, /commandTimeoutMs.*0/],
      [{ commandTimeoutMs: 1.5 }, /commandTimeoutMs.*1\.5/],
      [{ defaultTtl: -1 }, /defaultTtl.*-1/],
      [{ keyPrefix: 5 }, /keyPrefix.*5/],
      [{ failOpen: 'yes' }, /failOpen.*yes/],
      [{ fallback: {} }, /fallback/],
      [{ fallbackTtl: 0 }, /fallbackTtl/],
      [{ invalidationQueueSize: 0 }, /invalidationQueueSize.*0/],
      [{ breakerThreshold: -2 }, /breakerThreshold.*-2/],
      [{ serializer: { serialize: 1 } }, /serializer/],
      [{ client: {} }, /client/],
      [{ redisOptions: { keyPrefix: 'x:' } }, /keyPrefix/],
      [{ nope: 1 }, /unknown RedisCache option "nope"/],
    ]
    for (const [options, message] of bad) {
      // A bad TTL keeps its own code (ERR_CACHE_INVALID_TTL), as in every backend.
      const expected = 'defaultTtl' in options ? CacheTtlError : CacheOptionError
      const err = t.throws(() => new RedisCache(options as never), { instanceOf: expected }, JSON.stringify(options))
      t.regex(err!.message, message)
    }
  })

  test('options that would be ignored are refused: connection options beside a client, fallback options with no fallback', (t) => {
    const client = new Redis({ lazyConnect: true })
    t.teardown(() => client.disconnect())
    const refused: [Record<string, unknown>, string][] = [
      [{ client, redisUrl: 'redis://127.0.0.1:6380' }, 'redisUrl would be ignored beside client: it configures the client RedisCache makes; configure your client instead'],
      [{ client, redisUrl: 'redis://127.0.0.1:6380', redisOptions: {} }, 'redisUrl and redisOptions would be ignored beside client: they configure the client RedisCache makes; configure your client instead'],
      [{ fallback: false, fallbackMaxsize: 10 }, 'fallbackMaxsize would be ignored with fallback: false (no fallback)'],
      [{ fallback: false, fallbackTtl: 1, fallbackMaxsize: 10 }, 'fallbackMaxsize and fallbackTtl would be ignored with fallback: false (no fallback)'],
      [{ failOpen: false, fallbackTtl: 1 }, 'fallbackTtl would be ignored with failOpen: false, which rejects on a Redis failure instead of falling back'],
      [{ failOpen: false, fallback: new InMemoryLRUCache({ maxsize: 10 }) }, 'fallback would be ignored with failOpen: false, which rejects on a Redis failure instead of falling back'],
    ]
    for (const [options, message] of refused) t.throws(() => new RedisCache(options as never), { instanceOf: CacheOptionError, message }, message)
    // Saying "no fallback" twice is not a conflict.
    const strict = new RedisCache({ redisUrl: 'redis://127.0.0.1:1', failOpen: false, fallback: false, redisOptions: { lazyConnect: true } })
    t.teardown(() => strict.close())
  })

  test('a client with an ioredis keyPrefix is refused (clear() could not see its keys)', (t) => {
    const client = new Redis({ lazyConnect: true, keyPrefix: 'x:' })
    t.throws(() => new RedisCache({ client }), { instanceOf: CacheOptionError, message: /keyPrefix/ })
    client.disconnect()
  })

  test('the password never appears in an option error', (t) => {
    for (const url of ['http://user:s3cr3t-pw@localhost:6379', 'redis://user:s3cr3t-pw@localhost/nodb', 'redis//user:s3cr3t-pw@x']) {
      const err = t.throws(() => new RedisCache({ redisUrl: url }))
      t.false(err!.message.includes('s3cr3t-pw'), err!.message)
      t.false(inspect(err).includes('s3cr3t-pw'))
    }
  })

  test.serial('a passed-in client is used and left open by close()', async (t) => {
    const client = new Redis(server.port, server.host)
    const c = new RedisCache<number>({ client, keyPrefix: freshPrefix() })
    await c.set('k', 7)
    t.is(await client.get(`${c.keyPrefix}k`), '7')
    await c.close()
    t.is(await client.ping(), 'PONG')
    client.disconnect()
  })

  test.serial('metrics: attach at construction, detach at close, latency per op, errors per op', async (t) => {
    const attached: MetricsSource[] = []
    const detached: MetricsSource[] = []
    const observed: [string, CacheOp, number][] = []
    const sink: MetricsSink = {
      attach: (s) => attached.push(s),
      detach: (s) => detached.push(s),
      observeLatency: (name, op, ms) => observed.push([name, op, ms]),
    }
    const c = cache({ metricsSink: sink, name: 'users' })
    t.is(attached[0], c)
    await c.set('a', 1)
    await c.get('a')
    await c.getMany(['a'])
    t.deepEqual(observed.map((o) => [o[0], o[1]]), [['users', 'set'], ['users', 'get'], ['users', 'getMany']])
    t.true(observed.every((o) => o[2] >= 0))
    const s: CacheStats = (attached[0] as RedisCache).stats()
    t.is(s.hits, 2)
    t.deepEqual(c.errorCounts(), {})
    await c.close()
    t.is(detached[0], c)
  })

  test.serial('AUTH with a password and a database number from the URL', async (t) => {
    const secured = await startRedis({ password: 'pw-Xy7-secret' })
    t.teardown(() => secured.stop())
    const c = new RedisCache<string>({ redisUrl: `redis://:pw-Xy7-secret@${secured.host}:${secured.port}/3`, keyPrefix: 'auth:' })
    t.teardown(() => c.close())
    await c.set('k', 'v')
    t.is(await c.get('k'), 'v')
    t.is(secured.cli(['-n', '3', 'GET', 'auth:k'], 'pw-Xy7-secret'), '"v"')
    t.is(secured.cli(['-n', '0', 'EXISTS', 'auth:k'], 'pw-Xy7-secret'), '0')
  })

  test.serial('AUTH with an ACL user and password', async (t) => {
    const secured = await startRedis({ args: ['--user', 'default', 'off', '--user', 'app', 'on', '>app-Secret-9', '~*', '+@all'] })
    t.teardown(() => secured.stop())
    const c = new RedisCache<number>({ redisUrl: `redis://app:app-Secret-9@${secured.host}:${secured.port}/1`, keyPrefix: 'acl:' })
    t.teardown(() => c.close())
    await c.set('k', 1)
    t.is(await c.get('k'), 1)
    t.deepEqual(c.errorCounts(), {})
  })

  test.serial('a wrong password: calls do not reject, and the password shows in no error, event, warning or inspect', async (t) => {
    const secured = await startRedis({ password: 'right-password' })
    t.teardown(() => secured.stop())
    const secret = 'Wr0ng-Pa55word'
    const seen: string[] = []
    const onWarning = (w: Error) => seen.push(inspect(w))
    process.on('warning', onWarning)
    t.teardown(() => process.off('warning', onWarning))
    // First without an 'error' listener (must not crash; prints one warning), then with one.
    const c = new RedisCache<number>({ redisUrl: `redis://someone:${secret}@${secured.host}:${secured.port}/2`, keyPrefix: 'x:', commandTimeoutMs: 200 })
    t.teardown(() => c.close())
    t.is(await c.get('k'), undefined)
    c.on('error', (e) => seen.push(inspect(e, { depth: 10 }), e.message, String((e.cause as Error)?.stack)))
    await c.set('k', 1)
    t.is(await c.get('k'), 1, 'served by the fallback')
    await sleep(300)
    await c.get('k')
    seen.push(inspect(c, { depth: 10 }), JSON.stringify(c.health()), JSON.stringify(c.errorCounts()))
    t.true(seen.length > 3)
    for (const text of seen) t.false(text.includes(secret), text)
    t.true(Object.values(c.errorCounts()).some((n) => n > 0))
  })

  test.serial('with nothing listening on the port: no hang, no rejection; starts degraded and recovers when Redis appears', async (t) => {
    const port = await freePort()
    const c = new RedisCache<string>({ redisUrl: `redis://127.0.0.1:${port}`, keyPrefix: 'late:' })
    t.teardown(() => c.close())
    // No 'error' listener on purpose: the process must not crash.
    t.is(await c.get('k'), undefined)
    await c.set('k', 'fallback-value')
    t.is(await c.get('k'), 'fallback-value')
    t.is(await c.invalidate('k'), true)
    t.is(await c.get('k'), undefined)
    t.is(c.health().breaker, 'open')
    const late = await startRedis({ port })
    t.teardown(() => late.stop())
    await waitFor(() => c.health().breaker === 'closed', 10_000)
    await c.set('k', 'redis-value')
    t.is(late.cli(['GET', 'late:k']), '"redis-value"')
    t.is(await c.get('k'), 'redis-value')
  })

  test.serial('failOpen: false rejects with CacheUnavailableError (with a cause) while Redis is down', async (t) => {
    const port = await freePort()
    const c = new RedisCache<string>({ redisUrl: `redis://127.0.0.1:${port}`, keyPrefix: 'strict:', failOpen: false, commandTimeoutMs: 200 })
    c.on('error', () => {})
    t.teardown(() => c.close())
    for (const op of [() => c.get('k'), () => c.set('k', 'v'), () => c.invalidate('k'), () => c.getMany(['k']), () => c.has('k'), () => c.clear()]) {
      const err = await t.throwsAsync(op())
      t.true(err instanceof CacheUnavailableError, String(err))
      t.is((err as CacheUnavailableError).code, 'ERR_CACHE_UNAVAILABLE')
    }
    // The invalidations are still queued for replay.
    t.true(c.health().pendingInvalidations >= 1)
  })

  test.serial('the invalidation queue is bounded: the oldest are dropped and counted', async (t) => {
    const port = await freePort()
    const c = new RedisCache<string>({ redisUrl: `redis://127.0.0.1:${port}`, keyPrefix: 'q:', invalidationQueueSize: 3, fallback: false })
    t.teardown(() => c.close())
    const drops: number[] = []
    c.on('invalidationDropped', (n) => drops.push(n))
    for (const k of ['a', 'b', 'c', 'd', 'e']) await c.invalidate(k)
    t.is(c.health().pendingInvalidations, 3)
    t.is(c.health().droppedInvalidations, 2)
    t.deepEqual(drops, [1, 2])
  })
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(50)
  }
}
