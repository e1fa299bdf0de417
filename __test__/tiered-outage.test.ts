/**
 * TieredCache while Redis is down and after it comes back (killed and restarted on the same
 * port): L1 keeps serving, invalidations are kept, and an instance whose subscriber was
 * disconnected clears its L1 on reconnect (it may have missed messages).
 */
import test from 'ava'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { RedisCache } from '../src/redis/redis-cache'
import { TieredCache } from '../src/tiered/tiered-cache'
import { eventually } from './helpers/eventually'
import { RedisServer, redisTestsOrSkip, startRedis } from './helpers/redis-server'

/** This file's bound for a condition to come true: an outage and a reconnect take a while. */
const WITHIN_MS = 15_000

if (redisTestsOrSkip(test, 'TieredCache outage on a real redis-server')) {
  let server: RedisServer
  test.before(async () => {
    server = await startRedis()
  })
  test.after.always(() => server?.stop())

  function tiered(keyPrefix: string) {
    const l2 = new RedisCache<string>({ redisUrl: server.url, keyPrefix, commandTimeoutMs: 2000, breakerOpenMs: 100 })
    l2.on('error', () => {})
    const cache = new TieredCache<string>({ l1: new InMemoryLRUCache<string>({ engine: 'js' }), l2, redisUrl: server.url, l1Ttl: 60 })
    cache.on('error', () => {})
    return cache
  }

  test.serial('L2 down: L1 serves; after the restart the L1 that missed messages is cleared and nothing stale is served', async (t) => {
    const keyPrefix = `astra:outage:${process.pid}:`
    const a = tiered(keyPrefix)
    const b = tiered(keyPrefix)
    t.teardown(() => Promise.all([a.close(), b.close()]))
    t.true(await eventually(() => a.tierStats().resyncs > 0 && b.tierStats().resyncs > 0, WITHIN_MS), 'both subscribed')

    await a.set('k', 'v1')
    await a.set('other', 'o1')
    t.true(await eventually(() => b.tierStats().remoteInvalidations >= 2, WITHIN_MS), 'b heard both of a\'s writes')
    t.is(await b.get('k'), 'v1')

    await server.kill()
    // Redis is gone: both instances keep answering from L1.
    t.is(await a.get('k'), 'v1')
    t.is(await b.get('k'), 'v1')
    t.is(await a.get('other'), 'o1')
    // b invalidates during the outage: its own L1 drops it at once; Redis and a's L1 cannot hear it yet.
    t.true(await b.invalidate('k'), 'removed from L1')
    t.is(await b.get('k'), undefined)
    t.true(b.tierStats().pendingPublishes >= 1, 'the message is kept for later')
    t.is(await a.get('k'), 'v1', 'a serves its L1 copy during the outage (bounded by l1Ttl)')

    await server.restart()
    // a's subscriber reconnects: a may have missed messages, so its L1 is cleared.
    t.true(await eventually(() => a.tierStats().resyncs >= 2, WITHIN_MS), 'a resynced after the reconnect')
    t.true(await eventually(() => b.tierStats().pendingPublishes === 0, WITHIN_MS), "b published what it kept")
    t.is(await a.l1.get('k'), undefined)
    t.is(await a.l1.get('other'), undefined, 'the whole L1 was cleared, not only the keys we know about')
    t.is(await a.get('k'), undefined, 'no stale value after recovery')
    // And the cache works normally again across instances, once b's L2 is back on Redis (until
    // then a set only reaches b's local fallback, by design, and is queued as an invalidation).
    const bL2 = b.l2 as RedisCache<string>
    t.true(
      await eventually(() => {
        const h = bL2.health()
        return h.connected && h.breaker === 'closed' && h.pendingInvalidations === 0
      }, WITHIN_MS),
      "b's L2 is back on Redis with its invalidations replayed",
    )
    await b.set('k', 'v2')
    t.true(await eventually(async () => (await a.get('k')) === 'v2', WITHIN_MS), 'a reads the new value from L2')
  })
}
