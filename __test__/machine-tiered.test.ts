/**
 * TieredCache with a machine-wide L1 (InMemoryLRUCache.shared(name, { scope: 'machine' }))
 * over a real redis-server L2: reads and writes through both tiers, and invalidation between
 * instances in the two layouts a deployment has. Two machines: each has its own segment, and
 * Redis pub/sub drops the other's L1 copy. Two processes of one machine: both use one segment,
 * so a write by one is in the other's L1 at once. (Two instances in this test process stand
 * for them: each has its own TieredCache, Redis connections and segment attachment.)
 * Linux only, like machine-cache.test.ts; segments get pid-unique names in a temporary
 * directory removed after the file.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import test from 'ava'
import { Redis } from 'ioredis'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { RedisCache } from '../src/redis/redis-cache'
import { TieredCache } from '../src/tiered/tiered-cache'
import { eventually } from './helpers/eventually'
import { RedisServer, redisTestsOrSkip, startRedis } from './helpers/redis-server'
import { subscribed } from './helpers/subscribed'

const within10s = (check: () => Promise<boolean> | boolean) => eventually(check, 10_000, 20)

if (process.platform !== 'linux') {
  test('off Linux, a machine-wide L1 is refused with a coded error', (t) => {
    const err = t.throws(() => InMemoryLRUCache.shared(`tiered${process.pid}`, { scope: 'machine' }))
    t.is((err as { code?: string }).code, 'ERR_CACHE_UNSUPPORTED_PLATFORM')
  })
} else if (redisTestsOrSkip(test, 'TieredCache with a machine-wide L1 on a real redis-server')) {
  const dir = mkdtempSync(join(tmpdir(), 'astra-machine-tiered-'))
  let server: RedisServer
  let raw: Redis
  let counter = 0
  const fresh = (label: string) => `${label}${process.pid}-${counter++}`
  const open: TieredCache<any>[] = []

  /** A TieredCache whose L1 is the machine-wide (or thread-shared) cache `segment`, over Redis keys under `keyPrefix`. */
  function tiered(segment: string, keyPrefix: string, channel?: string, scope: 'machine' | 'process' = 'machine') {
    const l1 =
      scope === 'machine'
        ? InMemoryLRUCache.shared<any>(segment, { scope: 'machine', dir, maxsize: 100, maxBytes: 1 << 20 })
        : InMemoryLRUCache.shared<any>(segment, { scope: 'process', maxsize: 100, maxBytes: 1 << 20 })
    const l2 = new RedisCache<any>({ redisUrl: server.url, keyPrefix, defaultTtl: 60, commandTimeoutMs: 5000 })
    l2.on('error', () => {})
    const cache = new TieredCache<any>({ l1, l2, l1Ttl: 30, ...(channel === undefined ? {} : { channel }) })
    cache.on('error', () => {})
    open.push(cache)
    return cache
  }

  test.before(async () => {
    server = await startRedis()
    raw = new Redis(server.port, server.host)
  })
  test.after.always(async () => {
    await Promise.all(open.map((c) => c.close()))
    raw?.disconnect()
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  test('get, set and getOrSet go through both tiers; an L2 hit fills the machine-wide L1', async (t) => {
    const prefix = fresh('astra:mtiered:')
    const cache = tiered(fresh('seg'), prefix)
    await subscribed(cache)
    await cache.set('user:1', { id: 1, name: 'Ada' })
    t.deepEqual(JSON.parse((await raw.get(`${prefix}user:1`))!), { id: 1, name: 'Ada' }, 'L2 holds the write')
    t.deepEqual(await cache.l1.get('user:1'), { id: 1, name: 'Ada' }, 'L1 holds the write')
    t.deepEqual(await cache.get('user:1'), { id: 1, name: 'Ada' })
    t.is(cache.tierStats().l1Hits, 1)

    // A value only Redis has: read from L2, then served from L1.
    await raw.set(`${prefix}only-l2`, JSON.stringify('from-redis'))
    t.is(await cache.get('only-l2'), 'from-redis')
    t.is(await cache.l1.get('only-l2'), 'from-redis', 'the L2 hit filled the segment')
    t.is(cache.tierStats().l2Hits, 1)

    let loads = 0
    const load = async () => (loads++, { loaded: true })
    t.deepEqual(await cache.getOrSet('report', load), { loaded: true })
    t.deepEqual(await cache.getOrSet('report', load), { loaded: true })
    t.is(loads, 1)
    t.deepEqual(JSON.parse((await raw.get(`${prefix}report`))!), { loaded: true }, 'the loaded value reached L2')
    t.deepEqual(await cache.l1.get('report'), { loaded: true }, 'and the segment')
    t.is(await cache.get('absent'), undefined)
    t.is(cache.tierStats().misses, 2, 'the first getOrSet and the absent get')
    t.deepEqual((cache.l1 as InMemoryLRUCache<any>).verify(), [])
  })

  test('two machines (one segment each): a write or invalidation on one drops the copy in the other machine L1', async (t) => {
    const prefix = fresh('astra:mtiered:')
    const a = tiered(fresh('machineA'), prefix)
    const b = tiered(fresh('machineB'), prefix)
    await Promise.all([subscribed(a), subscribed(b)])
    await a.set('k', 'v1')
    // A's write message reaches B (which had no copy) first: a fill racing it would be dropped.
    t.true(await within10s(() => b.tierStats().remoteInvalidations >= 1))
    t.is(await b.get('k'), 'v1', 'B reads it from Redis')
    t.is(await b.l1.get('k'), 'v1', "and keeps a copy in its own machine's segment")
    t.is(await a.l1.get('k'), 'v1')

    await a.set('k', 'v2')
    t.true(await within10s(async () => b.tierStats().remoteInvalidations >= 2 && (await b.l1.get('k')) === undefined), "A's write dropped B's L1 copy")
    t.is(await b.get('k'), 'v2')

    t.true(await a.invalidate('k'))
    t.true(await within10s(async () => b.tierStats().remoteInvalidations >= 3 && (await b.l1.get('k')) === undefined), "A's invalidation dropped B's L1 copy")
    t.is(await b.get('k'), undefined)
    t.is(await a.get('k'), undefined)
  })

  /** Client ids of the subscriber connections Redis has now. */
  async function subscriberIds(): Promise<string[]> {
    const list = (await raw.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string
    return [...list.matchAll(/^id=(\d+) /gm)].map((m) => m[1])
  }
  const resyncs = (c: TieredCache<any>) => [c.tierStats().resyncs, c.tierStats().resyncsVouched]

  for (const scope of ['machine', 'process'] as const) {
    const what = scope === 'machine' ? 'a process (re)subscribing keeps the machine-wide L1' : 'a thread (re)subscribing keeps the thread-shared L1'
    test.serial(`${what} another stayed subscribed to; with nobody listening throughout it clears it`, async (t) => {
      const prefix = fresh('astra:mtiered:')
      const segment = fresh('watched')
      const a = tiered(segment, prefix, undefined, scope)
      await subscribed(a)
      t.deepEqual(resyncs(a), [1, 0], 'alone: the first subscription clears L1')
      await a.set('k', 'v1')

      const before = await subscriberIds()
      const b = tiered(segment, prefix, undefined, scope)
      await subscribed(b)
      t.deepEqual(resyncs(b), [0, 1], 'a vouches for the segment')
      t.is(await a.l1.get('k'), 'v1', "b's start did not empty the machine's L1")

      // b alone loses its subscription: a heard every message meanwhile.
      const bSubscriber = (await subscriberIds()).filter((id) => !before.includes(id))
      t.is(bSubscriber.length, 1)
      await raw.call('CLIENT', 'KILL', 'ID', bSubscriber[0])
      t.true(await within10s(() => b.tierStats().resyncsVouched === 2), 'b resubscribed, vouched for by a')
      t.deepEqual(resyncs(b), [0, 2])
      t.is(await b.l1.get('k'), 'v1')

      // Both lose it: whoever is back first was vouched for by nobody, and clears.
      await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
      t.true(await within10s(() => resyncs(a)[0] + resyncs(a)[1] === 2 && resyncs(b)[0] + resyncs(b)[1] === 3), 'both resubscribed')
      t.true(resyncs(a)[0] + resyncs(b)[0] >= 2, 'at least one of them cleared the L1 after the outage')
      t.is(await a.l1.get('k'), undefined)

      // Another channel is another topic: its instance clears, though a and b listen.
      const other = tiered(segment, prefix, fresh('other-channel'), scope)
      await subscribed(other)
      t.deepEqual(resyncs(other), [1, 0])

      // Nobody listening: closed instances gave up their leases at once.
      await Promise.all([a.close(), b.close(), other.close()])
      const c = tiered(segment, prefix, undefined, scope)
      await subscribed(c)
      t.deepEqual(resyncs(c), [1, 0], 'nobody vouches: c clears')
      t.deepEqual((c.l1 as InMemoryLRUCache<any>).verify(), [])
    })
  }

  test.serial('a worker thread subscribed over the thread-shared L1 vouches for it to the main thread until it closes', async (t) => {
    const prefix = fresh('astra:mtiered:')
    const name = fresh('threads')
    // The main thread's attachment keeps the cache alive while the worker comes and goes.
    const before = await subscriberIds()
    const main = tiered(name, prefix, undefined, 'process')
    await subscribed(main)
    const mainSubscriber = (await subscriberIds()).filter((id) => !before.includes(id))
    t.is(mainSubscriber.length, 1)
    await main.set('k', 'v1')
    const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(join(__dirname, 'helpers', 'tiered-thread.ts'))})`, {
      eval: true,
      workerData: { name, redisUrl: server.url, keyPrefix: prefix },
    })
    try {
      const first = await new Promise<{ resyncs: number; resyncsVouched: number }>((resolve, reject) => {
        worker.once('message', resolve)
        worker.once('error', reject)
      })
      t.deepEqual(first, { resyncs: 0, resyncsVouched: 1 }, 'the main thread vouches to the worker')
      t.is(await main.l1.get('k'), 'v1', "the worker's start kept the entry")

      // The main thread alone loses its subscription: the worker heard every message meanwhile.
      t.deepEqual(resyncs(main), [1, 0])
      await raw.call('CLIENT', 'KILL', 'ID', mainSubscriber[0])
      t.true(await within10s(() => resyncs(main)[1] === 1), 'main resubscribed, vouched for by the worker')
      t.deepEqual(resyncs(main), [1, 1])
      t.is(await main.l1.get('k'), 'v1')

      // The worker closes: its lease goes with it, and the next resubscription of main clears.
      worker.postMessage('close')
      await new Promise((resolve) => worker.once('message', resolve))
      await main.set('k', 'v2')
      const cleared = resyncs(main)[0]
      await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
      t.true(await within10s(() => resyncs(main)[0] === cleared + 1), 'nobody vouches: main clears')
      t.is(await main.l1.get('k'), undefined)
    } finally {
      await worker.terminate()
    }
  })

  test('two processes of one machine (one segment): a write by one is in the other L1 at once; an invalidation removes it for both', async (t) => {
    const prefix = fresh('astra:mtiered:')
    const segment = fresh('oneMachine')
    const a = tiered(segment, prefix)
    const b = tiered(segment, prefix)
    // Wait for both subscriptions (the first clears the shared L1, the other is vouched for) before filling it.
    await Promise.all([subscribed(a), subscribed(b)])
    await a.set('k', 'v1')
    t.is(await b.l1.get('k'), 'v1', "B's L1 is A's segment: no Redis read needed")
    // A's message then tells B to drop k from its L1, which is the same segment: the next
    // read goes to Redis and fills it again (a value never outlives a newer write).
    t.true(await within10s(async () => b.tierStats().remoteInvalidations >= 1 && !(await a.l1.has('k'))), "B's drop removed A's copy too")
    t.is(await b.get('k'), 'v1')
    t.is(b.tierStats().l2Hits, 1)
    t.is(await a.l1.get('k'), 'v1', "B's fill from Redis is in A's L1 too")

    t.true(await a.invalidate('k'))
    t.is(await b.l1.get('k'), undefined, 'the invalidation removed the one copy of the machine at once')
    t.is(await b.get('k'), undefined)
    t.is(await raw.exists(`${prefix}k`), 0)
    t.deepEqual((a.l1 as InMemoryLRUCache<any>).verify(), [])
  })
}
