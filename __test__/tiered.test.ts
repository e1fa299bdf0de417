/**
 * TieredCache (memory L1 over Redis L2) on a real redis-server: the Cache contract, tier
 * behaviour, stale-while-revalidate through both tiers, and invalidation between two
 * separate Node processes.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import test from 'ava'
import { Redis } from 'ioredis'
import { CacheOptionError } from '../src/errors'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { RedisCache } from '../src/redis/redis-cache'
import { TieredCache } from '../src/tiered/tiered-cache'
import { contractSuite } from './contract/suite'
import { FakeClock } from './helpers/fake-clock'
import { eventually } from './helpers/eventually'
import { RedisServer, redisTestsOrSkip, sleep, startRedis } from './helpers/redis-server'
import { subscribed } from './helpers/subscribed'

/** This file's polls: up to 10 s, every 20 ms (generous: no timing assertion). */
const within10s = (check: () => Promise<boolean> | boolean) => eventually(check, 10_000, 20)

if (redisTestsOrSkip(test, 'TieredCache on a real redis-server')) {
  let server: RedisServer
  let raw: Redis
  let prefixes = 0
  const freshPrefix = () => `astra:tiered:${process.pid}:${++prefixes}:`
  const open: TieredCache<any>[] = []

  function tiered(options: { keyPrefix?: string; defaultTtl?: number; maxsize?: number; clock?: () => number; l1Ttl?: number; swrClock?: () => number } = {}) {
    const keyPrefix = options.keyPrefix ?? freshPrefix()
    // A generous command timeout: this file runs many instances and two child processes on a busy machine.
    const l2 = new RedisCache<any>({ redisUrl: server.url, keyPrefix, defaultTtl: options.defaultTtl ?? 60, commandTimeoutMs: 5000 })
    l2.on('error', () => {})
    const l1 = new InMemoryLRUCache<any>({ maxsize: options.maxsize ?? 100, defaultTtl: options.defaultTtl ?? 60, engine: 'js', clock: options.clock })
    const cache = new TieredCache<any>({ l1, l2, redisUrl: server.url, l1Ttl: options.l1Ttl ?? 30, clock: options.swrClock })
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
  })

  contractSuite(test, {
    name: 'tiered',
    // L1 follows the suite's fake clock, L2 (Redis) real time: advance moves both.
    create: async ({ defaultTtl, clock }) => tiered({ defaultTtl, clock }),
    advance: async (ms, clock) => {
      clock.advance(ms)
      await sleep(ms)
    },
    capabilities: { lruEviction: false, counters: true, maxsizeInStats: false, sizeInStats: false, expirationCount: false },
  })

  test('reads L1 first, fills L1 from L2, and bounds L1 entries by l1Ttl', async (t) => {
    const clock = new FakeClock()
    const cache = tiered({ clock: clock.now, l1Ttl: 5 })
    await subscribed(cache) // the first subscription clears L1 (see docs: resync)
    const prefix = (cache.l2 as RedisCache).keyPrefix
    await raw.set(`${prefix}shared`, JSON.stringify('from-redis'))
    t.is(await cache.l1.get('shared'), undefined)
    t.is(await cache.get('shared'), 'from-redis')
    t.is(await cache.l1.get('shared'), 'from-redis', 'an L2 hit fills L1')
    // L1 now answers even when Redis changed behind its back...
    await raw.set(`${prefix}shared`, JSON.stringify('changed'))
    t.is(await cache.get('shared'), 'from-redis')
    // ...but only for l1Ttl.
    clock.advance(5_001)
    t.is(await cache.get('shared'), 'changed')
    const s = cache.tierStats()
    t.is(s.l1Hits, 1)
    t.is(s.l2Hits, 2)

    await cache.set('long', 1, 3600)
    clock.advance(5_001)
    t.is(await cache.l1.get('long'), undefined, 'a long ttl is capped at l1Ttl in L1')
    t.is(await cache.get('long'), 1)
  })

  test('an L1 copy of an L2 hit ends when the L2 entry does, not l1Ttl later', async (t) => {
    const clock = new FakeClock()
    const cache = tiered({ clock: clock.now, l1Ttl: 30 })
    await subscribed(cache)
    const prefix = (cache.l2 as RedisCache).keyPrefix
    // Written by another instance: 2 s left in Redis, no expiry, and 2 s again for getMany.
    await raw.set(`${prefix}short`, JSON.stringify('s'), 'PX', 2000)
    await raw.set(`${prefix}forever`, JSON.stringify('f'))
    await raw.set(`${prefix}many`, JSON.stringify('m'), 'PX', 2000)
    t.is(await cache.get('short'), 's')
    t.is(await cache.get('forever'), 'f')
    t.deepEqual(await cache.getMany(['many', 'absent']), ['m', undefined])
    t.is(await cache.l1.get('short'), 's', 'the L2 hit filled L1')
    clock.advance(2_001)
    t.is(await cache.l1.get('short'), undefined, 'the L1 copy ended with the 2 s left in Redis (it lived l1Ttl, 30 s)')
    t.is(await cache.l1.get('many'), undefined, 'getMany fills end with the L2 entry too')
    t.is(await cache.l1.get('forever'), 'f', 'no expiry in L2: l1Ttl bounds the copy')
    clock.advance(28_000)
    t.is(await cache.l1.get('forever'), undefined)
  })

  test('operations issued without awaiting take effect in issue order in both tiers', async (t) => {
    const cache = tiered()
    const prefix = (cache.l2 as RedisCache).keyPrefix
    await cache.set('k', 'old')
    // set then delete: the set's L1 write (after L2 answered) must not bring the value back.
    const ops: Promise<unknown>[] = [cache.set('k', 'new'), cache.invalidate('k')]
    // set, set, then a read issued after both: the last write wins everywhere, and the read sees it.
    ops.push(cache.set('j', 'first'), cache.set('j', 'second'))
    const readJ = cache.get('j')
    await Promise.all(ops)
    t.is(await readJ, 'second')
    t.is(await cache.l1.get('j'), 'second')
    // set then clear: nothing survives the clear.
    ops.push(cache.set('c', 'x'), cache.clear())
    const readAfterClear = cache.get('c')
    ops.push(cache.set('m', 'before'), cache.setMany([['m', 'after']]))
    await Promise.all(ops)
    t.is(await readAfterClear, undefined)
    t.is(await cache.l1.get('k'), undefined, 'the delete issued last holds in L1')
    t.is(await cache.get('k'), undefined)
    t.is(await raw.exists(`${prefix}k`), 0)
    t.is(await cache.l1.get('j'), undefined, 'j was cleared by the clear issued after it')
    t.is(await cache.get('m'), 'after')
    t.is(await cache.l1.get('m'), 'after')
    // Issued after the clear: a set then a delete leave nothing; a delete then a set leave the value.
    await Promise.all([cache.set('p', 1), cache.invalidate('p'), cache.invalidate('q'), cache.set('q', 2)])
    t.is(await cache.l1.get('p'), undefined)
    t.is(await cache.get('p'), undefined)
    t.is(await cache.l1.get('q'), 2)
    t.is(await raw.get(`${prefix}q`), '2')
  })

  test('writes and invalidations reach both tiers', async (t) => {
    const cache = tiered()
    await subscribed(cache)
    const prefix = (cache.l2 as RedisCache).keyPrefix
    await cache.set('k', { a: 1 })
    t.deepEqual(await cache.l1.get('k'), { a: 1 })
    t.is(await raw.get(`${prefix}k`), JSON.stringify({ a: 1 }))
    t.true(await cache.invalidate('k'))
    t.is(await cache.l1.get('k'), undefined)
    t.is(await raw.exists(`${prefix}k`), 0)
    await cache.setMany([['a', 1], ['b', 2, 10]])
    t.deepEqual(await cache.getMany(['a', 'b', 'c']), [1, 2, undefined])
    await cache.clear()
    t.deepEqual(await cache.getMany(['a', 'b']), [undefined, undefined])
    t.is((await raw.keys(`${prefix}*`)).length, 0)
  })

  test('two instances in one process: a write on one drops the other L1 copy', async (t) => {
    const keyPrefix = freshPrefix()
    const a = tiered({ keyPrefix })
    const b = tiered({ keyPrefix })
    await Promise.all([subscribed(a), subscribed(b)])
    await a.set('k', 'v1')
    // Let a's message for that write reach b first, or it would drop the copy b is about to make.
    t.true(await within10s(() => b.tierStats().remoteInvalidations >= 1))
    t.is(await b.get('k'), 'v1')
    t.is(await b.l1.get('k'), 'v1')
    await a.set('k', 'v2')
    t.true(await within10s(async () => (await b.l1.get('k')) === undefined), 'b dropped its L1 copy')
    t.is(await b.get('k'), 'v2')
    await a.clear()
    t.true(await within10s(async () => (await b.l1.get('k')) === undefined))
    t.is(await b.get('k'), undefined)
  })

  test('another instance invalidating a key while this one loads it: the older load is stored in neither tier', async (t) => {
    const keyPrefix = freshPrefix()
    const a = tiered({ keyPrefix })
    const b = tiered({ keyPrefix })
    await Promise.all([subscribed(a), subscribed(b)])
    let release!: (v: string) => void
    let called = false
    const loading = b.getOrSet('user:42', () => ((called = true), new Promise<string>((r) => (release = r))))
    t.true(await within10s(() => called), 'b is loading')
    const heard = b.tierStats().remoteInvalidations
    // a's instance updated the row and invalidates; its message reaches b while b's load runs.
    await a.invalidate('user:42')
    t.true(await within10s(() => b.tierStats().remoteInvalidations > heard), "a's message reached b")
    release('older')
    t.is(await loading, 'older', "b's callers get what b loaded")
    // Ordered after b's write, had there been one (one connection per tier).
    t.is(await b.l1.get('user:42'), undefined, 'not in the L1')
    t.is(await b.l2.get('user:42'), undefined, 'not in Redis')
    t.is(await raw.exists(`${keyPrefix}user:42`), 0)
  })

  test('stale-while-revalidate and grace work through both tiers (envelopes survive Redis)', async (t) => {
    const clock = new FakeClock(Date.now())
    const keyPrefix = freshPrefix()
    const a = tiered({ keyPrefix, swrClock: clock.now })
    const b = tiered({ keyPrefix, swrClock: clock.now })
    await Promise.all([subscribed(a), subscribed(b)])
    await a.getOrSet('k', () => 'v1', { ttl: 10, staleTtl: 30, grace: 60 })
    t.is(await a.get('k'), 'v1')
    t.is(await b.get('k'), 'v1', 'read from Redis and unwrapped')
    clock.advance(15_000)
    t.is(await b.get('k'), undefined, 'a plain get does not serve stale')
    let loads = 0
    t.is(await b.getOrSet('k', () => `v${++loads + 1}`, { ttl: 10, staleTtl: 30, grace: 60 }), 'v1', 'stale served')
    t.true(await within10s(async () => (await b.get('k')) === 'v2'))
    t.is(loads, 1)
    t.true(await within10s(async () => (await a.get('k')) === 'v2'), "b's refresh reached a's L1 through the channel")
    clock.advance(50_000) // past stale, inside grace
    t.is(await a.getOrSet('k', () => Promise.reject(new Error('down')), { ttl: 10, staleTtl: 30, grace: 60 }), 'v2')
  })

  test('rejects bad options with messages naming them', (t) => {
    const l1 = new InMemoryLRUCache({ engine: 'js' })
    const l2 = new InMemoryLRUCache({ engine: 'js' })
    t.throws(() => new TieredCache({ l1, l2, bus: false, l1Ttl: 0 }), { code: 'ERR_CACHE_INVALID_OPTION', message: /l1Ttl/ } as never)
    t.throws(() => new TieredCache({ l1, l2: {} as never, bus: false }), { message: /l2 must be a Cache/ })
    t.throws(() => new TieredCache({ l1, l2, bus: false, nope: 1 } as never), { message: /unknown TieredCache option "nope" \(known: l1, l2, l1Ttl, / })
    t.throws(() => new TieredCache({ l1, l2, bus: false, closeTiers: 'no' as never }), { message: /closeTiers must be true or false, got "no"/ })
    t.throws(() => new TieredCache({ l1, l2 }), { message: /redisUrl/ })
    t.throws(() => new TieredCache({ l1, l2: l1, bus: false }), { message: /different/ })
    // bus: true used to fail later as "this.bus?.start is not a function".
    for (const bus of [true, 'redis', {}]) {
      t.throws(() => new TieredCache({ l1, l2, bus: bus as never }), {
        instanceOf: CacheOptionError,
        message: /^TieredCache bus must be an InvalidationBus \(such as new RedisInvalidationBus\(\{ redisUrl, channel \}\)\) or false for a single instance, got /,
      })
    }
    // The options of the bus TieredCache makes mean nothing beside bus: false or a bus of your own: refused, not dropped.
    t.throws(() => new TieredCache({ l1, l2, bus: false, channel: 'users' }), {
      message: 'TieredCache channel would be ignored with bus: false (no bus): it configures the bus TieredCache makes when bus is not given',
    })
    const own = { instanceId: 'x', start() {}, publishKeys() {}, publishClear() {}, pending: 0, close: async () => {} }
    t.throws(() => new TieredCache({ l1, l2, bus: own, redisUrl: 'redis://127.0.0.1:1', channel: 'users' }), {
      message: 'TieredCache redisUrl and channel would be ignored with a bus of your own: they configure the bus TieredCache makes when bus is not given; pass them to your bus',
    })
    t.notThrows(() => new TieredCache({ l1, l2, bus: own, closeTiers: false }))
  })

  // ---- two processes ------------------------------------------------------------------------

  class Child {
    private nextId = 0
    private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
    readonly ready: Promise<void>
    constructor(readonly proc: ChildProcess) {
      let markReady!: () => void
      this.ready = new Promise((r) => (markReady = r))
      createInterface({ input: proc.stdout! }).on('line', (line) => {
        const msg = JSON.parse(line)
        if (msg.ready) return markReady()
        const w = this.waiting.get(msg.id)
        this.waiting.delete(msg.id)
        if (msg.error) w?.reject(new Error(msg.error))
        else w?.resolve(msg.undefined ? undefined : msg.result)
      })
    }
    call(op: string, key?: string, value?: unknown): Promise<unknown> {
      const id = ++this.nextId
      return new Promise((resolve, reject) => {
        this.waiting.set(id, { resolve, reject })
        this.proc.stdin!.write(JSON.stringify({ id, op, key, value }) + '\n')
      })
    }
  }

  function child(keyPrefix: string): Child {
    const proc = spawn(process.execPath, ['--import=tsx', join(__dirname, 'helpers', 'tiered-child.ts'), server.url, keyPrefix], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    return new Child(proc)
  }

  test('two processes: B invalidates a key A holds in L1, and A stops serving the old value', async (t) => {
    const keyPrefix = freshPrefix()
    const a = child(keyPrefix)
    const b = child(keyPrefix)
    t.teardown(() => {
      a.proc.kill()
      b.proc.kill()
    })
    await Promise.all([a.ready, b.ready])

    await a.call('set', 'k', 'old')
    t.is(await a.call('get', 'k'), 'old')
    // Prove A answers from its L1: change Redis behind everyone's back, A still says 'old'.
    await raw.set(`${keyPrefix}k`, JSON.stringify('sneaky'))
    t.is(await a.call('get', 'k'), 'old')

    t.true(await b.call('invalidate', 'k'))
    t.true(await within10s(async () => (await a.call('peekL1', 'k')) === undefined), 'A dropped k from L1 on B\'s message')
    t.is(await a.call('get', 'k'), undefined)

    // A write on B replaces A's copy too.
    await a.call('set', 'k2', 'a-version')
    t.is(await a.call('get', 'k2'), 'a-version')
    await b.call('set', 'k2', 'b-version')
    t.true(await within10s(async () => (await a.call('get', 'k2')) === 'b-version'))
    const stats = (await a.call('tierStats')) as { remoteInvalidations: number }
    t.true(stats.remoteInvalidations >= 2)

    await Promise.all([a.call('close'), b.call('close')])
  })
}
