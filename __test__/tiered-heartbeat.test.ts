/**
 * The invalidation bus's heartbeat (src/tiered/heartbeat.ts) against a real redis-server: one
 * instance's bus goes through a fault proxy (helpers/fault-proxy.ts), the other's straight to
 * Redis, and both share the L2. A connection that dies without closing (strand) is replaced,
 * and the L1 that missed messages on it is cleared; a subscriber that is only silent for a
 * while (blackhole) stops vouching for a shared L1 and vouches again once it answers.
 */
import test from 'ava'
import { Redis } from 'ioredis'
import { watchShared } from '../src/contract/capabilities'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { RedisCache } from '../src/redis/redis-cache'
import { RedisInvalidationBus } from '../src/tiered/invalidation-bus'
import { TieredCache } from '../src/tiered/tiered-cache'
import { eventually } from './helpers/eventually'
import { FaultProxy } from './helpers/fault-proxy'
import { RedisServer, redisTestsOrSkip, startRedis } from './helpers/redis-server'
import { subscribed } from './helpers/subscribed'

const within10s = (check: () => Promise<boolean> | boolean) => eventually(check, 10_000, 20)

test('options are checked: heartbeatMs negative or not a number, maxPending, an unknown key, each refused by name', (t) => {
  for (const heartbeatMs of [-1, Number.NaN, 'soon', true] as unknown[]) {
    const err = t.throws(() => new RedisInvalidationBus({ redisUrl: 'redis://127.0.0.1:1', channel: 'c', heartbeatMs: heartbeatMs as number }))
    t.regex(err!.message, /heartbeatMs/)
  }
  const err = t.throws(() => new RedisInvalidationBus({ redisUrl: 'redis://127.0.0.1:1', channel: 'c', maxPending: -3 }))
  t.regex(err!.message, /maxPending must be an integer >= 0, got -3/)
  // a typo is named, not reported as the option it misspells being absent
  const typo = t.throws(() => new RedisInvalidationBus({ redisUrl: 'redis://127.0.0.1:1', chanel: 'c' } as never))
  t.regex(typo!.message, /unknown RedisInvalidationBus option "chanel": did you mean channel\? \(known: redisUrl, redisOptions, channel, /)
  t.throws(() => new RedisInvalidationBus(undefined as never), { message: /RedisInvalidationBus needs options \{ redisUrl, channel \}/ })
})

if (redisTestsOrSkip(test, 'invalidation heartbeat on a real redis-server')) {
  let server: RedisServer
  let raw: Redis
  let counter = 0
  const fresh = (label: string) => `${label}${process.pid}-${counter++}`
  test.before(async () => {
    server = await startRedis()
    raw = new Redis(server.port, server.host)
  })
  test.after.always(async () => {
    raw?.disconnect()
    await server?.stop()
  })

  /** Client ids of the subscriber connections Redis has now. */
  async function subscriberIds(): Promise<string[]> {
    const list = (await raw.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string
    return [...list.matchAll(/^id=(\d+) /gm)].map((m) => m[1])
  }

  /** A TieredCache over the L2 at keyPrefix; its bus connects to busUrl (a proxy, or Redis itself). */
  function tiered(t: { teardown(f: () => unknown): void }, l1: InMemoryLRUCache<string>, keyPrefix: string, channel: string, busUrl: string, heartbeatMs?: number) {
    const l2 = new RedisCache<string>({ redisUrl: server.url, keyPrefix, defaultTtl: 60, commandTimeoutMs: 5000 })
    l2.on('error', () => {})
    const bus = new RedisInvalidationBus({ redisUrl: busUrl, channel, ...(heartbeatMs === undefined ? {} : { heartbeatMs }) })
    const cache = new TieredCache<string>({ l1, l2, l1Ttl: 60, bus })
    cache.on('error', () => {})
    t.teardown(() => cache.close())
    return cache
  }

  test.serial('a bus connection that dies without closing is replaced: the L1 that missed messages is cleared, and what it kept is published', async (t) => {
    const prefix = fresh('astra:heartbeat:')
    const channel = fresh('hb-channel')
    const proxy = await FaultProxy.start(server.port)
    t.teardown(() => proxy.close())
    const a = tiered(t, new InMemoryLRUCache<string>({ engine: 'js' }), prefix, channel, proxy.url, 100)
    const b = tiered(t, new InMemoryLRUCache<string>({ engine: 'js' }), prefix, channel, server.url)
    await Promise.all([subscribed(a), subscribed(b)])
    await a.set('k', 'v1')
    t.true(await within10s(() => b.tierStats().remoteInvalidations === 1))
    const accepted = proxy.counts().accepted

    // Both of a's bus connections go silent for good; they never close by themselves.
    proxy.strand()
    await b.set('k', 'v2')
    await a.set('j', 'from-a') // L2 is reached directly; the message is kept for later
    t.is(await a.l1.get('k'), 'v1', "a missed b's message")

    t.true(await within10s(() => a.tierStats().resyncs === 2), 'the heartbeat replaced the subscriber connection, and a cleared its L1')
    t.true(proxy.counts().accepted >= accepted + 2, 'both bus connections were made again')
    t.true(a.tierStats().subscriptionLosses >= 1)
    t.is(await a.get('k'), 'v2', 'no stale value after the reconnect')
    t.true(await within10s(() => b.tierStats().remoteInvalidations === 2 && a.tierStats().pendingPublishes === 0), "a's kept message reached b over its new publisher")
  })

  test.serial('a silent subscriber stops vouching for a shared L1, and vouches again when it answers on the same connection', async (t) => {
    const prefix = fresh('astra:heartbeat:')
    const channel = fresh('hb-channel')
    const name = fresh('hb-l1')
    const proxy = await FaultProxy.start(server.port)
    t.teardown(() => proxy.close())
    const shared = () => InMemoryLRUCache.shared<string>(name, { scope: 'process', maxsize: 100, maxBytes: 1 << 20 })
    const a = tiered(t, shared(), prefix, channel, proxy.url, 100)
    await subscribed(a)
    const before = await subscriberIds()
    const b = tiered(t, shared(), prefix, channel, server.url)
    await subscribed(b)
    const bSubscriber = (await subscriberIds()).filter((id) => !before.includes(id))
    t.is(bSubscriber.length, 1)
    const resyncs = (c: TieredCache<string>) => [c.tierStats().resyncs, c.tierStats().resyncsVouched]
    t.deepEqual(resyncs(b), [0, 1], 'a vouches for the shared L1')
    // A third attachment counts the live leases on the channel (taken before its previous look).
    const probe = shared()
    t.teardown(() => probe.close())
    const watchers = () => {
      const n = probe[watchShared]('start', channel)
      probe[watchShared]('stop', channel)
      return n
    }
    t.is(watchers(), 2)
    await b.set('k', 'v1')

    // a hears nothing for a while (its connection stays open): after two periods it is deaf.
    proxy.blackhole()
    t.true(await within10s(() => a.tierStats().subscriptionLosses === 1), "a's heartbeat went unanswered")
    t.is(watchers(), 1, 'only b holds a lease now')
    await raw.call('CLIENT', 'KILL', 'ID', bSubscriber[0])
    t.true(await within10s(() => resyncs(b)[0] === 1), 'b resubscribed with nobody vouching, and cleared the L1')
    t.is(await b.l1.get('k'), undefined)
    await b.set('k', 'v2')

    // The partition ends before a's connection is given up: what was held arrives in order,
    // nothing was missed, so a keeps its L1 and, once its heartbeat is answered, vouches again.
    await proxy.heal()
    t.true(await within10s(() => a.tierStats().remoteInvalidations >= 1), "b's message reached a late")
    t.true(await within10s(() => watchers() === 2), 'a holds a lease again, beside b')
    const bNow = (await subscriberIds()).filter((id) => !before.includes(id))
    t.is(bNow.length, 1)
    await raw.call('CLIENT', 'KILL', 'ID', bNow[0])
    t.true(await within10s(() => resyncs(b)[1] === 2), 'b resubscribed and was vouched for by a')
    t.deepEqual(resyncs(b), [1, 2])
    t.deepEqual(resyncs(a), [1, 0], 'a never cleared: its connection was never lost')
  })
}
