/**
 * getOrSet and cached() over a real, SIGSTOPped redis-server: the caller gets a loaded value
 * without waiting for the cache write, and a call that saw Redis fail does not wait for Redis
 * again. Asserted by what has happened when the call resolves (no timing assertion): the write
 * is still pending (or was never sent), and its failure is reported afterwards.
 */
import test from 'ava'
import { Redis } from 'ioredis'
import { cached } from '../src/decorators'
import { RedisCache } from '../src/redis/redis-cache'
import { eventually } from './helpers/eventually'
import { redisTestsOrSkip, sleep, startRedis, type RedisServer } from './helpers/redis-server'

const TIMEOUT_MS = 150

if (redisTestsOrSkip(test, 'write-behind of getOrSet and cached() on a hung redis-server')) {
  let server: RedisServer
  let raw: Redis
  let prefixes = 0
  test.before(async () => {
    server = await startRedis()
    raw = new Redis(server.port, server.host)
  })
  test.after.always(async () => {
    server?.resume()
    raw?.disconnect()
    await server?.stop()
  })

  const open = () => {
    // A high breaker threshold keeps every call trying Redis (the breaker would otherwise skip it).
    const cache = new RedisCache<string>({ redisUrl: server.url, keyPrefix: `wb:${process.pid}:${++prefixes}:`, commandTimeoutMs: TIMEOUT_MS, breakerThreshold: 1000 })
    cache.on('error', () => {})
    return cache
  }
  const setCalls = async () => Number(/cmdstat_set:calls=(\d+)/.exec(await raw.info('commandstats'))?.[1] ?? 0)

  test.serial('getOrSet whose get timed out returns the loaded value and never sends the set to Redis', async (t) => {
    const cache = open()
    t.teardown(() => cache.close())
    await cache.set('warm', 'up')
    const setsBefore = await setCalls()
    server.pause()
    try {
      t.is(await cache.getOrSet('k', () => 'loaded'), 'loaded')
      t.is(cache.errorCounts().get, 1, 'the get timed out')
      t.is(cache.errorCounts().set ?? 0, 0, 'no set was tried')
      // A loaded value is a read, not an update: what Redis holds for the key is as good as before.
      t.is(cache.health().pendingInvalidations, 0, 'nothing is queued for removal')
      t.is(await cache.get('k'), 'loaded', 'the fallback serves it meanwhile')
    } finally {
      server.resume()
    }
    t.true(await eventually(() => cache.health().breaker === 'closed'))
    t.is(await setCalls(), setsBefore, 'Redis never received the set')
  })

  test.serial('getOrSet whose get answered returns before its set is answered; the set timing out is reported afterwards', async (t) => {
    const cache = open()
    t.teardown(() => cache.close())
    await cache.set('warm', 'up')
    // The get answers (a miss); Redis hangs while the loader runs, so only the set meets the hang.
    const value = await cache.getOrSet('k', () => {
      server.pause()
      return 'loaded'
    })
    try {
      t.is(value, 'loaded')
      t.is(cache.errorCounts().set ?? 0, 0, 'the set is still waiting when the caller has the value')
      t.true(await eventually(() => cache.errorCounts().set === 1), 'then it times out, reported on the error channel')
    } finally {
      server.resume()
    }
  })

  test.serial('cached() whose get timed out inside the cache does not wait for its set, nor send it', async (t) => {
    const cache = open()
    t.teardown(() => cache.close())
    await cache.set('warm', 'up')
    const setsBefore = await setCalls()
    let calls = 0
    const load = cached({ cache, keyFn: (id: string) => `user:${id}` })(async (id: string) => `user ${id} #${++calls}`)
    server.pause()
    try {
      t.is(await load('1'), 'user 1 #1')
      t.is(cache.errorCounts().get, 1, 'the get timed out in the cache (which answered a miss)')
      await sleep(3 * TIMEOUT_MS)
      t.is(cache.errorCounts().set ?? 0, 0, 'the write went to the fallback without trying Redis')
      t.is(cache.health().pendingInvalidations, 0, 'a loaded value queues no removal')
    } finally {
      server.resume()
    }
    t.is(await setCalls(), setsBefore, 'Redis never received the set')
  })
}
