/**
 * Recovery after an outage on a real redis-server (SIGSTOP: no connection is dropped, so no
 * reconnect event tells the cache Redis is back): only keys set or invalidated during the
 * outage are removed from Redis; a value getOrSet or cached() loaded during the outage is a
 * read and removes nothing; the breaker closes soon after Redis answers again even with a
 * breakerOpenMs far longer than the outage (the cache probes actively while open).
 */
import test from 'ava'
import { cached } from '../src/decorators'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { RedisCache } from '../src/redis/redis-cache'
import { waitFor } from './helpers/call-stream'
import { redisTestsOrSkip, sleep, startRedis, type RedisServer } from './helpers/redis-server'

const TIMEOUT_MS = 200

if (redisTestsOrSkip(test, 'RedisCache recovery after a hang')) {
  let server: RedisServer
  test.before(async () => {
    server = await startRedis()
  })
  test.after.always(async () => {
    server?.resume()
    await server?.stop()
  })

  test.serial('after a hang only keys set or invalidated during it are removed; loaded ones are not; the breaker closes without a reconnect', async (t) => {
    const keyPrefix = 'recovery:'
    // breakerOpenMs far above the outage: a cache that waited for it would stay open for 60 s.
    const cache = new RedisCache<string>({ redisUrl: server.url, keyPrefix, commandTimeoutMs: TIMEOUT_MS, breakerOpenMs: 60_000, breakerMaxOpenMs: 60_000 })
    cache.on('error', () => {})
    t.teardown(() => cache.close())
    const states: string[] = []
    cache.on('breaker', (state: string) => states.push(state))
    const disconnects: number[] = []
    const loadUser = cached({ cache, keyFn: (id: string) => `user:${id}`, onError: () => {} })(async (id: string) => `user ${id} (loaded during the outage)`)
    await cache.setMany([['kept', 'old'], ['set-during', 'old'], ['invalidated-during', 'old'], ['user:1', 'user 1 (in Redis)']])

    server.pause()
    try {
      // Calls fail until the breaker opens.
      await waitFor(async () => {
        await cache.get('kept')
        return cache.health().breaker === 'open'
      }, 10_000, 'breaker open')
      t.is(await cache.getOrSet('loaded', async () => 'loaded during the outage'), 'loaded during the outage')
      t.is(await loadUser('1'), 'user 1 (loaded during the outage)', 'Redis unreachable: cached() runs the function')
      await cache.set('set-during', 'new')
      await cache.invalidate('invalidated-during')
      t.is(cache.health().pendingInvalidations, 2, 'exactly the set and the invalidated key are queued')
      cache.once('disconnected' as never, () => disconnects.push(Date.now()))
      await sleep(1000)
    } finally {
      server.resume()
    }
    // Generous hang-catching bound: far below breakerOpenMs.
    await waitFor(() => cache.health().breaker === 'closed' && cache.health().pendingInvalidations === 0, 10_000, 'breaker closed after SIGCONT')
    t.true(cache.health().connected, 'the connection was never dropped')
    t.deepEqual(disconnects, [])
    t.true(states.includes('half-open') && states[states.length - 1] === 'closed')

    t.is(server.cli(['GET', `${keyPrefix}kept`]), '"old"', 'an untouched key stays')
    t.is(server.cli(['EXISTS', `${keyPrefix}set-during`]), '0', 'a key set during the outage is removed (Redis may hold an older value)')
    t.is(server.cli(['EXISTS', `${keyPrefix}invalidated-during`]), '0')
    t.is(server.cli(['GET', `${keyPrefix}user:1`]), '"user 1 (in Redis)"', "cached()'s load during the outage removed nothing")
    t.is(server.cli(['EXISTS', `${keyPrefix}loaded`]), '0', "getOrSet's load was not written late either")
    t.is(await cache.get('user:1'), 'user 1 (in Redis)', 'read from Redis again, not from the fallback')
    t.is(cache.health().fallbackEntries, 0, 'what the fallback took during the outage is dropped')
  })

  test.serial('a fallback you gave keeps its own entries on recovery; only the keys this cache wrote there are dropped', async (t) => {
    const fallback = new InMemoryLRUCache<string>({ engine: 'js' })
    t.teardown(() => fallback.close())
    await fallback.set('preloaded', 'mine')
    const cache = new RedisCache<string>({ redisUrl: server.url, keyPrefix: 'recovery-given:', commandTimeoutMs: TIMEOUT_MS, fallback })
    cache.on('error', () => {})
    t.teardown(() => cache.close())
    await cache.set('warm', 'up')
    server.pause()
    try {
      await waitFor(async () => {
        await cache.get('warm')
        return cache.health().breaker === 'open'
      }, 10_000, 'breaker open')
      await cache.set('during', 'x')
      t.is(await fallback.get('during'), 'x')
    } finally {
      server.resume()
    }
    await waitFor(() => cache.health().breaker === 'closed', 10_000, 'breaker closed')
    await waitFor(async () => (await fallback.get('during')) === undefined, 5_000, 'the outage-time entry is dropped')
    t.is(await fallback.get('preloaded'), 'mine', 'an entry this cache did not write stays')
  })
}
