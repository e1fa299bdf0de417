/** The decorator behaviour suite against RedisCache on a real redis-server, plus a real outage. */
import test from 'ava'
import { Redis } from 'ioredis'
import type { Cache } from '../src/contract/cache'
import { cacheInvalidate, cached, type CacheFailure } from '../src/decorators'
import { RedisCache } from '../src/redis/redis-cache'
import { decoratorSuite } from './decorators-suite'
import { redisTestsOrSkip, startRedis, type RedisServer } from './helpers/redis-server'

let server: RedisServer
const caches: Cache[] = []
let prefixes = 0

const canRun = redisTestsOrSkip(test, 'decorators against RedisCache')
test.before(async () => {
  if (canRun) server = await startRedis()
})
test.after.always(async () => {
  await Promise.allSettled(caches.map((cache) => cache.close()))
  await server?.stop()
})

function newRedisCache(url: string, extra: Record<string, unknown> = {}): RedisCache {
  // A prefix per cache keeps concurrent tests apart on one server.
  const cache = new RedisCache({ redisUrl: url, keyPrefix: `deco-test:${process.pid}:${prefixes++}:`, ...extra })
  caches.push(cache)
  return cache
}

if (canRun) decoratorSuite(test, { name: 'redis', create: async () => newRedisCache(server.url) })

if (canRun) test('[redis] keys land in Redis under the cache keyPrefix, with the ttl', async (t) => {
  const cache = newRedisCache(server.url)
  const getUser = cached({ cache, ttl: 300, keyFn: (id: string) => `user:${id}` })(async (id: string) => ({ id }))
  await getUser('1')
  const raw = new Redis(server.url)
  try {
    const ttlMs = await raw.pttl(`${cache.keyPrefix}user:1`)
    t.true(ttlMs > 290_000 && ttlMs <= 300_000, `pttl ${ttlMs}`)
    t.is(await raw.get(`${cache.keyPrefix}user:1`), JSON.stringify({ id: '1' }))
  } finally {
    raw.disconnect()
  }
})

if (canRun) test.serial('[redis] while redis-server is frozen (SIGSTOP) decorated calls still return their result', async (t) => {
  const frozen = await startRedis()
  const cache = newRedisCache(frozen.url, { fallback: false, commandTimeoutMs: 10_000 })
  const failures: CacheFailure[] = []
  let calls = 0
  const getUser = cached({ cache, timeoutMs: 1000, onError: (_e, failure) => failures.push(failure) })(async function getUser(id: string) {
    calls++
    return `user ${id}`
  })
  const updateUser = cacheInvalidate({ cache, timeoutMs: 1000, keyFn: (id: string) => `getUser(${JSON.stringify(id)})`, onError: (_e, failure) => failures.push(failure) })(async (id: string) => id)
  try {
    await cache.has('warm-up') // connected before the decorators' bounds apply
    t.is(await getUser('1'), 'user 1')
    t.is(await getUser('1'), 'user 1')
    t.is(calls, 1, 'cached while Redis answers')
    failures.length = 0
    frozen.pause()
    t.is(await getUser('2'), 'user 2')
    t.is(await updateUser('1'), '1')
    t.is(calls, 2)
    // The frozen server holds the socket open, so the decorator's 1 s bound (below RedisCache's 10 s command timeout) is what fired.
    t.deepEqual(
      failures.map((f) => `${f.op} ${f.key}`),
      ['get getUser("2")', 'set getUser("2")', 'invalidate getUser("1")'],
    )
  } finally {
    frozen.resume()
    await cache.close()
    await frozen.stop()
  }
})
