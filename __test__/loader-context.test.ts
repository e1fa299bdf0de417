/**
 * The loader's context ({ signal, stale, setTtl }) and the loader timeouts ({ soft, hard }) of
 * getOrSet and cached(), on every backend: both memory engines, RedisCache on a real
 * redis-server, TieredCache over both. Time is injected: a FakeClock for TTLs and envelopes,
 * FakeTimers (the LOADER_TIMERS option) for the timeouts, so nothing here waits for a timeout.
 */
import test, { type ExecutionContext } from 'ava'
import { Redis } from 'ioredis'
import type { Cache, LoaderContext } from '../src/contract/cache'
import { cached, loaderContext } from '../src/decorators'
import { CacheLoaderTimeoutError, CacheOptionError, CacheTtlError } from '../src/errors'
import { makeEnvelope } from '../src/facade/envelope'
import { resolveGetOrSetOptions } from '../src/facade/get-or-set-options'
import { LOADER_TIMERS, realTimers } from '../src/facade/loader-timers'
import { InMemoryLRUCache, type InMemoryLRUCacheOptions } from '../src/memory/memory-cache'
import { NullCache } from '../src/null/null-cache'
import { RedisCache, type RedisCacheOptions } from '../src/redis/redis-cache'
import { TieredCache, type TieredCacheOptions } from '../src/tiered/tiered-cache'
import { enginesUnderTest } from './helpers/engines'
import { FakeClock } from './helpers/fake-clock'
import { eventually } from './helpers/eventually'
import { FakeTimers } from './helpers/fake-timers'
import { RedisServer, redisTestsOrSkip, startRedis } from './helpers/redis-server'

/** Lets promise chains and (for Redis) replies run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
}


/** A loader whose calls are recorded (with their context) and settled by hand. */
function gatedLoader<T>() {
  const calls: { context: LoaderContext<T>; resolve: (v: T) => void; reject: (e: Error) => void }[] = []
  return {
    calls,
    load: (context: LoaderContext<T>) => new Promise<T>((resolve, reject) => calls.push({ context, resolve, reject })),
    /** Waits (bounded) until the loader has been called `n` times. */
    async called(n = 1): Promise<void> {
      if (!(await eventually(() => calls.length >= n))) throw new Error(`the loader was called ${calls.length} times, expected ${n}`)
    },
  }
}

/** Whether a promise has settled, observed without awaiting it. */
function watch<T>(promise: Promise<T>): { readonly settled: boolean } {
  const state = { settled: false }
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  )
  return state
}

interface Backend {
  cache: Cache<string>
  clock: FakeClock
  timers: FakeTimers
}

type MakeBackend = () => Promise<Backend>

const timeoutError = (key: string, ms: number) => ({
  instanceOf: CacheLoaderTimeoutError,
  code: 'ERR_CACHE_LOADER_TIMEOUT',
  message: new RegExp(`"${key}".*${ms} ms`),
})

/** What every backend must do alike. */
function loaderSuite(name: string, make: MakeBackend): void {
  test(`[${name}] hard timeout: the signal aborts with the CacheLoaderTimeoutError; a load in time is never aborted`, async (t) => {
    const { cache, timers } = await make()
    const slow = gatedLoader<string>()
    const pending = cache.getOrSet('slow', slow.load, { timeouts: { hard: 100 } })
    await slow.called()
    const { signal } = slow.calls[0].context
    t.false(signal.aborted)
    timers.advance(99)
    await flush()
    t.false(signal.aborted)
    timers.advance(1)
    const error = await t.throwsAsync(pending, timeoutError('slow', 100))
    t.true(signal.aborted)
    t.is(signal.reason, error)
    t.is(error?.key, 'slow')
    t.is(error?.timeoutMs, 100)

    let seen: AbortSignal | undefined
    t.is(await cache.getOrSet('quick', ({ signal }) => ((seen = signal), 'v'), { timeouts: { hard: 100 } }), 'v')
    timers.advance(1_000)
    t.false(seen?.aborted)
    t.is(timers.pending, 0, 'the timer is cleared when the loader settles')
  })

  test(`[${name}] hard timeout rejects every waiter, frees the flight for a new load, and the late result is not stored`, async (t) => {
    const { cache, timers } = await make()
    const loader = gatedLoader<string>()
    const options = { timeouts: { hard: '50ms' } }
    const waiters = [cache.getOrSet('k', loader.load, options), cache.getOrSet('k', loader.load, options), cache.getOrSet('k', loader.load, options)]
    await loader.called()
    await flush()
    t.is(loader.calls.length, 1, 'one load for the concurrent callers')
    timers.advance(50)
    await Promise.all(waiters.map((waiter) => t.throwsAsync(waiter, timeoutError('k', 50))))

    loader.calls[0].resolve('late')
    await flush()
    t.is(await cache.get('k'), undefined, 'the late result is not stored')

    const next = cache.getOrSet('k', loader.load, options)
    await loader.called(2)
    loader.calls[1].resolve('fresh')
    t.is(await next, 'fresh')
    t.true(await eventually(async () => (await cache.get('k')) === 'fresh'))
    t.is(timers.pending, 0)
  })

  test(`[${name}] soft timeout: every waiter gets the graced value, and the load that goes on is stored`, async (t) => {
    const { cache, clock, timers } = await make()
    const options = { ttl: 10, grace: 600, timeouts: { soft: 100 } }
    t.is(await cache.getOrSet('g', () => 'v1', options), 'v1')
    t.true(await eventually(async () => (await cache.get('g')) === 'v1'))
    clock.advance(11_000) // past ttl, inside grace

    const loader = gatedLoader<string>()
    const waiters = [cache.getOrSet('g', loader.load, options), cache.getOrSet('g', loader.load, options), cache.getOrSet('g', loader.load, options)]
    await loader.called()
    t.is(loader.calls[0].context.stale, 'v1', 'the loader is told the old value')
    const watched = waiters.map(watch)
    timers.advance(99)
    await flush()
    t.false(watched.some((w) => w.settled), 'before soft, the callers wait')
    timers.advance(1)
    t.deepEqual(await Promise.all(waiters), ['v1', 'v1', 'v1'])
    t.false(loader.calls[0].context.signal.aborted)

    loader.calls[0].resolve('v2')
    t.true(await eventually(async () => (await cache.get('g')) === 'v2'), 'the background result is stored')
    t.is(loader.calls.length, 1)
    t.is(timers.pending, 0)
  })

  test(`[${name}] hard timeout with a graced value: the callers get it, as for a failed load, and the timeout is an 'error' event`, async (t) => {
    const { cache, clock, timers } = await make()
    const errors: unknown[] = []
    ;(cache as unknown as NodeJS.EventEmitter).on('error', (error) => errors.push(error))
    const options = { ttl: 10, grace: 600, timeouts: { hard: 100 } }
    await cache.getOrSet('h', () => 'v1', options)
    t.true(await eventually(async () => (await cache.get('h')) === 'v1'))
    clock.advance(11_000)
    const loader = gatedLoader<string>()
    const waiter = cache.getOrSet('h', loader.load, options)
    await loader.called()
    timers.advance(100)
    t.is(await waiter, 'v1')
    t.true(loader.calls[0].context.signal.aborted)
    t.true(errors.some((e) => e instanceof CacheLoaderTimeoutError))
    loader.calls[0].resolve('late')
    await flush()
    const next = gatedLoader<string>()
    const again = cache.getOrSet('h', next.load, options)
    await next.called()
    t.is(next.calls[0].context.stale, 'v1', 'the late value was not stored: still the graced one')
    next.calls[0].resolve('v2')
    t.is(await again, 'v2')
  })

  test(`[${name}] soft timeout without a stale value: the callers wait for the load`, async (t) => {
    const { cache, timers } = await make()
    const loader = gatedLoader<string>()
    const pending = cache.getOrSet('cold', loader.load, { grace: 600, timeouts: { soft: 10 } })
    await loader.called()
    t.is(loader.calls[0].context.stale, undefined)
    const watched = watch(pending)
    timers.advance(1_000)
    await flush()
    t.false(watched.settled)
    loader.calls[0].resolve('loaded')
    t.is(await pending, 'loaded')
  })

  test(`[${name}] staleTtl: the background refresh is told the stale value`, async (t) => {
    const { cache, clock } = await make()
    const options = { ttl: 10, staleTtl: 600 }
    await cache.getOrSet('s', () => 'old', options)
    t.true(await eventually(async () => (await cache.get('s')) === 'old'))
    clock.advance(11_000)
    const loader = gatedLoader<string>()
    t.is(await cache.getOrSet('s', loader.load, options), 'old')
    await loader.called()
    t.is(loader.calls[0].context.stale, 'old')
    loader.calls[0].resolve('new')
    t.true(await eventually(async () => (await cache.get('s')) === 'new'))
  })

  test(`[${name}] setTtl sets the fresh window of an envelope`, async (t) => {
    const { cache, clock } = await make()
    const options = { ttl: 600, staleTtl: 3600 }
    t.is(await cache.getOrSet('e', ({ setTtl }) => (setTtl('5s'), 'v1'), options), 'v1')
    t.true(await eventually(async () => (await cache.get('e')) === 'v1'))
    clock.advance(4_999)
    t.is(await cache.get('e'), 'v1')
    clock.advance(1) // past the 5 s set by the loader (the call said 600)
    t.is(await cache.get('e'), undefined, 'a plain read sees no fresh value')
    const loader = gatedLoader<string>()
    t.is(await cache.getOrSet('e', loader.load, options), 'v1', 'served stale, refreshed in the background')
    await loader.called()
    loader.calls[0].resolve('v2')
    t.true(await eventually(async () => (await cache.get('e')) === 'v2'))
  })

  test(`[${name}] setTtl with a bad ttl throws a CacheTtlError naming setTtl; nothing is stored`, async (t) => {
    const { cache } = await make()
    for (const bad of [-1, Number.NaN, '5 parsecs', null]) {
      await t.throwsAsync(
        cache.getOrSet('bad', ({ setTtl }) => {
          setTtl(bad as never)
          return 'v'
        }),
        { instanceOf: CacheTtlError, code: 'ERR_CACHE_INVALID_TTL', message: /^setTtl/ },
      )
    }
    t.is(await cache.get('bad'), undefined)
  })

  test(`[${name}] a loader that takes no argument works as before, and no timer outlives it`, async (t) => {
    const { cache, timers } = await make()
    t.is(await cache.getOrSet('plain', () => 'v', { timeouts: { soft: 10, hard: 20 } }), 'v')
    t.is(await cache.getOrSet('plain', async () => 'other'), 'v')
    t.is(timers.pending, 0)
  })
}

function memoryOptions(engine: 'js' | 'native', clock: FakeClock, timers: FakeTimers, extra: InMemoryLRUCacheOptions<string> = {}): InMemoryLRUCacheOptions<string> {
  return { engine, maxsize: 100, defaultTtl: 60, clock: clock.now, ...extra, [LOADER_TIMERS]: timers } as InMemoryLRUCacheOptions<string>
}

for (const engine of enginesUnderTest()) {
  const name = `memory/${engine}`
  loaderSuite(name, async () => {
    const clock = new FakeClock()
    const timers = new FakeTimers()
    return { cache: new InMemoryLRUCache<string>(memoryOptions(engine, clock, timers)), clock, timers }
  })

  test(`[${name}] setTtl sets when a plain value expires; 0 and Infinity never expire`, async (t) => {
    const clock = new FakeClock()
    const cache = new InMemoryLRUCache<string>(memoryOptions(engine, clock, new FakeTimers()))
    await cache.getOrSet('short', ({ setTtl }) => (setTtl(5), 'v'), 600)
    await cache.getOrSet('never', ({ setTtl }) => (setTtl(0), 'v'))
    await cache.getOrSet('endless', ({ setTtl }) => (setTtl(Infinity), 'v'))
    clock.advance(4_999)
    t.is(await cache.get('short'), 'v')
    clock.advance(1)
    t.is(await cache.get('short'), undefined)
    clock.advance(365 * 24 * 3600 * 1000)
    t.is(await cache.get('never'), 'v')
    t.is(await cache.get('endless'), 'v')
  })

  test(`[${name}] the cache's timeouts apply to every getOrSet; a call's own override them one by one`, async (t) => {
    const timers = new FakeTimers()
    const cache = new InMemoryLRUCache<string>(memoryOptions(engine, new FakeClock(), timers, { timeouts: { hard: '1s' } }))
    const loader = gatedLoader<string>()
    const byDefault = cache.getOrSet('a', loader.load)
    const withTtl = cache.getOrSet('b', loader.load, 30)
    const unbounded = cache.getOrSet('c', loader.load, { timeouts: { hard: Infinity } })
    const shorter = cache.getOrSet('d', loader.load, { timeouts: { soft: 5, hard: 200 } })
    const settled = [shorter, byDefault, withTtl].map(watch)
    timers.advance(200)
    await t.throwsAsync(shorter, timeoutError('d', 200))
    await flush()
    t.false(settled[1].settled || settled[2].settled)
    timers.advance(800)
    await Promise.all([t.throwsAsync(byDefault, timeoutError('a', 1000)), t.throwsAsync(withTtl, timeoutError('b', 1000))])
    const watched = watch(unbounded)
    timers.advance(10_000_000)
    await flush()
    t.false(watched.settled)
    loader.calls[2].resolve('c')
    t.is(await unbounded, 'c')
    t.is(timers.pending, 0)
  })
}

test('getOrSet timeouts: bad values and unknown keys are coded errors naming the option', async (t) => {
  const cache = new InMemoryLRUCache<string>({ engine: 'js' })
  const cases: [unknown, RegExp][] = [
    [{ soft: -1 }, /getOrSet timeouts\.soft .*-1/],
    [{ hard: Number.NaN }, /getOrSet timeouts\.hard .*NaN/],
    [{ hard: 0 }, /getOrSet timeouts\.hard/],
    [{ hard: 2 ** 31 }, /getOrSet timeouts\.hard .*at most/],
    [{ hard: 'soon' }, /getOrSet timeouts\.hard .*"soon"/],
    [{ hard: '10' }, /getOrSet timeouts\.hard/],
    [{ soft: true }, /getOrSet timeouts\.soft/],
    [{ medium: 5 }, /unknown getOrSet timeouts option "medium"/],
    [5_000, /getOrSet timeouts must be an object/],
    [null, /getOrSet timeouts must be an object/],
  ]
  for (const [timeouts, message] of cases) {
    await t.throwsAsync(cache.getOrSet('k', () => 'v', { timeouts } as never), { instanceOf: CacheOptionError, code: 'ERR_CACHE_INVALID_OPTION', message })
  }
  t.is(await cache.getOrSet('k', () => 'v', { timeouts: { soft: '1.5s', hard: 2_000 } }), 'v')
})

test('cache-level timeouts are validated by every constructor', (t) => {
  const option = { instanceOf: CacheOptionError, code: 'ERR_CACHE_INVALID_OPTION' }
  t.throws(() => new InMemoryLRUCache({ timeouts: { hard: -5 } }), { ...option, message: /InMemoryLRUCache timeouts\.hard .*-5/ })
  t.throws(() => new InMemoryLRUCache({ timeouts: { later: 1 } as never }), { ...option, message: /unknown InMemoryLRUCache timeouts option "later"/ })
  t.throws(() => new RedisCache({ redisUrl: 'redis://127.0.0.1:1', timeouts: { soft: Number.NaN } }), { ...option, message: /RedisCache timeouts\.soft/ })
  const l1 = new InMemoryLRUCache({ engine: 'js' })
  const l2 = new InMemoryLRUCache({ engine: 'js' })
  t.throws(() => new TieredCache({ l1, l2, bus: false, timeouts: 'fast' as never }), { ...option, message: /TieredCache timeouts must be an object/ })
})

test('real timeout timers do not keep the process alive', (t) => {
  const handle = realTimers.start(() => {}, 60_000) as NodeJS.Timeout
  t.false(handle.hasRef())
  realTimers.clear(handle)
})

test('NullCache: every call runs its own load, bounded by its hard timeout', async (t) => {
  const cache = new NullCache<string>()
  await t.throwsAsync(
    cache.getOrSet('n', () => new Promise<string>(() => {}), { timeouts: { hard: 5 } }),
    timeoutError('n', 5),
  )
  t.is(await cache.getOrSet('n', ({ stale, setTtl }) => (setTtl(1), `stale=${String(stale)}`)), 'stale=undefined')
})

test('cached(): the function reads its context through loaderContext(); hard timeout rejects the call', async (t) => {
  const timers = new FakeTimers()
  const clock = new FakeClock()
  const cache = new InMemoryLRUCache<unknown>({ engine: 'js', clock: clock.now })
  const contexts: (LoaderContext<unknown> | undefined)[] = []
  const release: ((v: string) => void)[] = []
  const report = cached({ cache, ttl: 60, keyFn: (id: string) => `report:${id}`, timeouts: { hard: 300 }, [LOADER_TIMERS]: timers } as never)(async function report(id: string) {
    contexts.push(loaderContext())
    return new Promise<string>((resolve) => release.push(resolve)).then((v) => `${v}:${id}`)
  })
  const first = report('1')
  const second = report('1')
  await eventually(() => contexts.length === 1)
  await flush()
  t.is(contexts.length, 1, 'one call of the function for both callers')
  const { signal } = contexts[0]!
  timers.advance(300)
  await Promise.all([first, second].map((call) => t.throwsAsync(call, timeoutError('report:1', 300))))
  t.true(signal.aborted)
  release[0]('late')
  await flush()
  t.is(loaderContext(), undefined, 'outside a load there is no context')

  const third = report('1')
  await eventually(() => contexts.length === 2)
  release[1]('ok')
  t.is(await third, 'ok:1')
  t.is(await report('1'), 'ok:1', 'stored: the function is not called again')
  t.is(contexts.length, 2)
})

test("cached(): the cache's timeouts apply; the function's own replace them one by one", async (t) => {
  const timers = new FakeTimers()
  const cache = new InMemoryLRUCache<unknown>({ engine: 'js', timeouts: { hard: 100 } })
  const never = () => new Promise<string>(() => {})
  const plain = cached({ cache, keyFn: () => 'plain', [LOADER_TIMERS]: timers } as never)(async function plain() {
    return never()
  })
  const ownSoft = cached({ cache, keyFn: () => 'own-soft', timeouts: { soft: 5 }, [LOADER_TIMERS]: timers } as never)(async function ownSoft() {
    return never()
  })
  const ownHard = cached({ cache, keyFn: () => 'own-hard', timeouts: { hard: 300 }, [LOADER_TIMERS]: timers } as never)(async function ownHard() {
    return never()
  })
  const calls = [plain(), ownSoft(), ownHard()]
  const watched = calls.map(watch)
  await eventually(() => timers.pending >= 3)
  timers.advance(100)
  await Promise.all([t.throwsAsync(calls[0], timeoutError('plain', 100)), t.throwsAsync(calls[1], timeoutError('own-soft', 100))])
  t.false(watched[2].settled)
  timers.advance(200)
  await t.throwsAsync(calls[2], timeoutError('own-hard', 300))
})

test('setTtl after the load is over changes nothing and warns once per process, naming the key', async (t) => {
  const clock = new FakeClock()
  const cache = new InMemoryLRUCache<string>(memoryOptions('js', clock, new FakeTimers()))
  const warnings: string[] = []
  const listener = (w: Error & { code?: string }) => {
    if (w.code === 'ASTRA_CACHE_LATE_SET_TTL') warnings.push(w.message)
  }
  process.on('warning', listener)
  t.teardown(() => process.off('warning', listener))
  let keep: LoaderContext<string> | undefined
  t.is(await cache.getOrSet('late', (context) => ((keep = context), 'v'), 10), 'v')
  keep!.setTtl(0) // e.g. from a timer the loader left behind
  keep!.setTtl('1h')
  t.throws(() => keep!.setTtl(-1), { instanceOf: CacheTtlError }) // still checked
  await flush()
  t.deepEqual(warnings, [
    'setTtl was called after the load of key "late" was over: it changed nothing (the value, if any, was written with the call\'s ttl); call setTtl before the loader returns',
  ])
  clock.advance(10_000)
  t.is(await cache.get('late'), undefined, "stored with the call's 10 s, not the late 'never expires'")
})

test('cached(): setTtl through loaderContext() sets the stored ttl', async (t) => {
  const clock = new FakeClock()
  const cache = new InMemoryLRUCache<unknown>({ engine: 'js', clock: clock.now })
  let calls = 0
  const version = cached({ cache, ttl: 600, keyFn: () => 'version' })(async function version() {
    loaderContext()!.setTtl('5s')
    return ++calls
  })
  t.is(await version(), 1)
  clock.advance(4_999)
  t.is(await version(), 1)
  clock.advance(1)
  t.is(await version(), 2, 'expired after the 5 s the function set, not the 600 s of the options')
})

test('cached(): soft timeout serves the graced result to every caller; the late result is stored', async (t) => {
  const timers = new FakeTimers()
  const cache = new InMemoryLRUCache<unknown>({ engine: 'js' })
  const options = { ttl: 10, grace: 3600 }
  // cached() stamps envelopes with the wall clock: store one written 20 s ago (past ttl, inside grace).
  const { envelope, ttlMs } = makeEnvelope(1, resolveGetOrSetOptions(options), 60_000, Date.now() - 20_000)
  await cache.set('count', envelope, ttlMs / 1000)
  const release: ((v: number) => void)[] = []
  const stale: unknown[] = []
  const count = cached({ cache, ...options, keyFn: () => 'count', timeouts: { soft: 50 }, [LOADER_TIMERS]: timers } as never)(async function count() {
    stale.push(loaderContext()!.stale)
    return new Promise<number>((resolve) => release.push(resolve))
  })
  const callers = [count(), count()]
  await eventually(() => release.length === 1)
  await flush()
  t.deepEqual(stale, [1], 'one call, told the old result')
  timers.advance(50)
  t.deepEqual(await Promise.all(callers), [1, 1])
  release[0](2)
  t.true(await eventually(async () => (await count()) === 2), 'the late result is stored')
  t.is(release.length, 1)
})

if (redisTestsOrSkip(test, 'loader context and timeouts on a real redis-server')) {
  let server: RedisServer
  let raw: Redis
  let prefixes = 0
  const open: { close(): Promise<void> }[] = []
  const freshPrefix = () => `astra:loader:${process.pid}:${++prefixes}:`

  function redis(clock: FakeClock, timers: FakeTimers, prefix = freshPrefix()): RedisCache<string> {
    // A generous command timeout: a busy shared machine must not turn a read into a fallback miss.
    const options = { redisUrl: server.url, keyPrefix: prefix, commandTimeoutMs: 5000, clock: clock.now, [LOADER_TIMERS]: timers }
    const cache = new RedisCache<string>(options as RedisCacheOptions<string>)
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

  loaderSuite('redis', async () => {
    const clock = new FakeClock(Date.now())
    const timers = new FakeTimers()
    return { cache: redis(clock, timers), clock, timers }
  })

  loaderSuite('tiered', async () => {
    const clock = new FakeClock(Date.now())
    const timers = new FakeTimers()
    const l1 = new InMemoryLRUCache<string>({ engine: 'js', clock: clock.now })
    const options = { l1, l2: redis(clock, new FakeTimers()), bus: false, clock: clock.now, [LOADER_TIMERS]: timers }
    const cache = new TieredCache<string>(options as TieredCacheOptions<string>)
    open.push(cache)
    return { cache, clock, timers }
  })

  test('[redis] setTtl is the PX of the stored value', async (t: ExecutionContext) => {
    const prefix = freshPrefix()
    const cache = redis(new FakeClock(Date.now()), new FakeTimers(), prefix)
    await cache.getOrSet('px', ({ setTtl }) => (setTtl('5s'), 'v'), 600)
    t.true(await eventually(async () => (await raw.pttl(`${prefix}px`)) > 0))
    const pttl = await raw.pttl(`${prefix}px`)
    t.true(pttl <= 5_000, `PX ${pttl} is the 5 s set by the loader, not the call's 600 s`)
    await cache.getOrSet('never', ({ setTtl }) => (setTtl(0), 'v'))
    t.true(await eventually(async () => (await raw.exists(`${prefix}never`)) === 1))
    t.is(await raw.pttl(`${prefix}never`), -1, 'no expiry')
  })
}
