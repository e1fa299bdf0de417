/**
 * RedisCache operations issued without awaiting take effect in issue order, also right after an
 * outage (fallback dirty, invalidations queued) and around a clear() (several round trips).
 */
import test from 'ava'
import { RedisCache } from '../src/redis/redis-cache'
import { waitFor } from './helpers/call-stream'
import { redisTestsOrSkip, sleep, startRedis, type RedisServer } from './helpers/redis-server'

if (redisTestsOrSkip(test, 'RedisCache issue order on a real redis-server')) {
  let server: RedisServer
  let prefixes = 0
  test.before(async () => {
    server = await startRedis()
  })
  test.after.always(async () => {
    server?.resume()
    await server?.stop()
  })
  const open = (t: { teardown(f: () => unknown): void }) => {
    const keyPrefix = `order:${++prefixes}:`
    const cache = new RedisCache<string>({ redisUrl: server.url, keyPrefix, commandTimeoutMs: 150, breakerOpenMs: 100 })
    cache.on('error', () => {})
    t.teardown(() => cache.close())
    return { cache, redisGet: (key: string) => server.cli(['GET', keyPrefix + key]) }
  }

  test.serial('right after an outage, invalidate then set of one key leaves the set value', async (t) => {
    const { cache, redisGet } = open(t)
    await cache.set('k', 'old')
    server.pause()
    try {
      // Writes during the outage: the fallback takes them and their keys are queued for removal.
      await cache.set('k', 'during')
      await cache.set('other', 'during')
      await waitFor(() => cache.health().breaker === 'open', 5000, 'breaker open')
    } finally {
      server.resume()
    }
    await waitFor(() => cache.health().breaker === 'closed', 10_000, 'back on Redis')
    const ops = [cache.invalidate('k'), cache.set('k', 'new'), cache.set('other', 'x'), cache.invalidate('other')]
    await Promise.all(ops)
    t.is(await cache.get('k'), 'new')
    t.is(redisGet('k'), '"new"')
    t.is(await cache.get('other'), undefined)
    t.is(redisGet('other'), '')
    await waitFor(() => cache.health().pendingInvalidations === 0, 5000, 'queue drained')
    t.is(redisGet('k'), '"new"', 'the replay did not undo the later set')
  })

  test.serial('a clear() is not undone or overtaken by calls issued after it', async (t) => {
    const { cache, redisGet } = open(t)
    // Enough keys that the clear takes several SCAN/UNLINK round trips.
    await cache.setMany(Array.from({ length: 3000 }, (_, i) => [`k${i}`, 'old'] as [string, string]))
    const cleared = cache.clear()
    const readAfter = cache.get('k2999')
    const written = cache.set('k2999', 'new')
    const readLater = cache.get('k2999')
    await Promise.all([cleared, written])
    t.is(await readAfter, undefined, 'a read issued after the clear sees none of the old keys')
    t.is(await readLater, 'new', 'a read issued after the set sees it')
    t.is(redisGet('k2999'), '"new"', 'the clear did not remove a key set after it')
    t.is(redisGet('k0'), '')
    await sleep(50)
  })
}
