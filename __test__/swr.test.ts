/**
 * Stale-while-revalidate and grace (src/swr.ts), driven by an injected fake clock: through
 * InMemoryLRUCache.getOrSet, and through cacheStore() over a cache that knows nothing of SWR.
 */
import test from 'ava'
import type { Cache } from '../src/contract/cache'
import { cached } from '../src/decorators'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import type { GetOrSetOptions } from '../src/contract/cache'
import { isEnvelope, unwrapFresh } from '../src/facade/envelope'
import { cacheStore, Revalidator } from '../src/facade/swr'
import { FakeClock } from './helpers/fake-clock'
import { CacheOptionError } from '../src/errors'

/** A loader whose calls are counted and whose results are released by hand. */
function gatedLoader<T>() {
  const pending: { resolve: (v: T) => void; reject: (e: Error) => void }[] = []
  let calls = 0
  const next = async () => {
    for (let i = 0; i < 50 && pending.length === 0; i++) await tick()
    if (pending.length === 0) throw new Error('the loader was not called')
    return pending.shift()!
  }
  const load = () => {
    calls++
    return new Promise<T>((resolve, reject) => pending.push({ resolve, reject }))
  }
  return {
    load,
    get calls() {
      return calls
    },
    /** Waits (a few event-loop turns) for the loader to be called, then settles its oldest call. */
    resolveNext: async (v: T) => (await next()).resolve(v),
    get waiting() {
      return pending.length
    },
  }
}

const tick = () => new Promise((r) => setImmediate(r))

function memory(clock: FakeClock) {
  return new InMemoryLRUCache<unknown>({ maxsize: 100, defaultTtl: 60, engine: 'js', clock: clock.now })
}

test('fresh values are served without calling the loader', async (t) => {
  const clock = new FakeClock()
  const cache = memory(clock)
  let calls = 0
  const load = () => ++calls
  const opts = { ttl: 10, staleTtl: 30 }
  t.is(await cache.getOrSet('k', load, opts), 1)
  clock.advance(9_999)
  t.is(await cache.getOrSet('k', load, opts), 1)
  t.is(calls, 1)
})

test('staleTtl: a stale value is served at once while ONE background refresh runs', async (t) => {
  const clock = new FakeClock()
  const cache = memory(clock)
  const loader = gatedLoader<string>()
  const opts = { ttl: 10, staleTtl: 30 }
  const first = cache.getOrSet('k', loader.load, opts)
  await loader.resolveNext('v1')
  t.is(await first, 'v1')

  clock.advance(15_000) // past ttl, inside staleTtl
  const stale = await Promise.all(Array.from({ length: 5 }, () => cache.getOrSet('k', loader.load, opts)))
  t.deepEqual(stale, ['v1', 'v1', 'v1', 'v1', 'v1'])
  t.is(loader.calls, 2, 'one refresh for five stale readers')
  t.is(loader.waiting, 1)

  await loader.resolveNext('v2')
  for (let i = 0; i < 10 && (await cache.getOrSet('k', loader.load, opts)) !== 'v2'; i++) await tick()
  t.is(await cache.getOrSet('k', loader.load, opts), 'v2')
  t.is(loader.calls, 2)
  // The refreshed value is fresh for a new ttl from the refresh time.
  clock.advance(9_000)
  t.is(await cache.getOrSet('k', loader.load, opts), 'v2')
  t.is(loader.calls, 2)
})

test('staleTtl: past the stale window the caller waits for a new value', async (t) => {
  const clock = new FakeClock()
  const cache = memory(clock)
  const loader = gatedLoader<string>()
  const opts = { ttl: 10, staleTtl: 5 }
  const first = cache.getOrSet('k', loader.load, opts)
  await loader.resolveNext('v1')
  await first
  clock.advance(16_000)
  const next = cache.getOrSet('k', loader.load, opts)
  await tick()
  t.is(loader.waiting, 1)
  await loader.resolveNext('v2')
  t.is(await next, 'v2')
})

test('staleTtl: a failed background refresh keeps serving the stale value and is reported', async (t) => {
  const clock = new FakeClock()
  const errors: unknown[] = []
  const revalidator = new Revalidator<string>({ clock: clock.now, onError: (e) => errors.push(e) })
  const backing = memory(clock)
  const store = cacheStore(backing)
  const opts = { ttl: 10, staleTtl: 30 }
  await revalidator.getOrSet(store, 'k', () => 'v1', opts, 60)
  clock.advance(11_000)
  t.is(await revalidator.getOrSet(store, 'k', () => Promise.reject(new Error('db down')), opts, 60), 'v1')
  for (let i = 0; i < 10 && errors.length === 0; i++) await tick()
  t.is(errors.length, 1)
  t.is((errors[0] as Error).message, 'db down')
  t.is(await revalidator.getOrSet(store, 'k', () => 'v2', opts, 60), 'v1', 'still stale: the next read triggers another refresh')
  for (let i = 0; i < 10 && revalidator.refreshing > 0; i++) await tick()
  t.is(await revalidator.getOrSet(store, 'k', () => 'v3', opts, 60), 'v2')
})

test('grace: an expired value is served when the loader fails, and a success replaces it', async (t) => {
  const clock = new FakeClock()
  const cache = memory(clock)
  const opts = { ttl: 10, grace: 60 }
  t.is(await cache.getOrSet('k', () => 'v1', opts), 'v1')
  clock.advance(20_000) // expired, within grace
  let calls = 0
  const failing = async () => {
    calls++
    throw new Error('db down')
  }
  t.is(await cache.getOrSet('k', failing, opts), 'v1')
  t.is(calls, 1, 'grace still tries the loader first')
  t.is(await cache.getOrSet('k', async () => 'v2', opts), 'v2', 'a working loader wins')
  t.is(await cache.get('k'), 'v2')
})

test('grace: past the grace window the loader error propagates', async (t) => {
  const clock = new FakeClock()
  const cache = memory(clock)
  const opts = { ttl: 10, grace: 5 }
  await cache.getOrSet('k', () => 'v1', opts)
  clock.advance(16_000)
  await t.throwsAsync(cache.getOrSet('k', () => Promise.reject(new Error('db down')), opts), { message: 'db down' })
})

test('without staleTtl/grace nothing changes: an expired value is never served', async (t) => {
  const clock = new FakeClock()
  const cache = memory(clock)
  await cache.getOrSet('k', () => 'v1', { ttl: 10 })
  clock.advance(11_000)
  await t.throwsAsync(cache.getOrSet('k', () => Promise.reject(new Error('x')), 10), { message: 'x' })
  t.is(await cache.getOrSet('k', () => 'v2', 10), 'v2')
})

test('get() sees the value while fresh and a miss once stale; invalidate removes it', async (t) => {
  const clock = new FakeClock()
  const cache = memory(clock)
  await cache.getOrSet('k', () => ({ n: 1 }), { ttl: 10, staleTtl: 30 })
  t.deepEqual(await cache.get('k'), { n: 1 })
  t.deepEqual(await cache.getMany(['k', 'x']), [{ n: 1 }, undefined])
  clock.advance(11_000)
  t.is(await cache.get('k'), undefined)
  t.is(await cache.getOrSet('k', () => ({ n: 2 }), { ttl: 10, staleTtl: 30 }).then((v) => (v as { n: number }).n), 1)
  t.true(await cache.invalidate('k'))
  t.deepEqual(await cache.getOrSet('k', () => ({ n: 3 }), { ttl: 10, staleTtl: 30 }), { n: 3 })
})

test('the physical ttl covers the stale/grace window, then the entry is gone', async (t) => {
  const clock = new FakeClock()
  const cache = memory(clock)
  await cache.getOrSet('k', () => 'v', { ttl: 10, staleTtl: 5, grace: 20 })
  clock.advance(29_000)
  t.true(await cache.has('k'))
  clock.advance(2_000)
  t.false(await cache.has('k'))
})

test('ttl 0 with staleTtl never goes stale', async (t) => {
  const clock = new FakeClock()
  const cache = memory(clock)
  await cache.getOrSet('k', () => 'v', { ttl: 0, staleTtl: 5 })
  clock.advance(10 ** 9)
  let calls = 0
  t.is(await cache.getOrSet('k', () => ++calls, { ttl: 0, staleTtl: 5 }), 'v')
  t.is(calls, 0)
})

test('envelopes survive JSON (what Redis stores), endless windows included', (t) => {
  const clock = new FakeClock()
  const revalidator = new Revalidator<{ a: number }>({ clock: clock.now })
  const { envelope, ttlSeconds } = revalidator.envelope({ a: 1 }, { ttl: 10, staleTtl: Infinity }, 60)
  t.is(ttlSeconds, 0)
  const back = JSON.parse(JSON.stringify(envelope))
  t.true(isEnvelope(back))
  t.deepEqual(unwrapFresh(back, clock.time), { a: 1 })
  t.is(unwrapFresh(back, clock.time + 10_000), undefined)
  t.is(unwrapFresh('plain', 0), 'plain')
})

test('cacheStore works over any Cache: values set() by hand are ordinary hits', async (t) => {
  const clock = new FakeClock()
  const backing: Cache<unknown> = memory(clock)
  const revalidator = new Revalidator<unknown>({ clock: clock.now })
  await backing.set('plain', 'by-hand')
  t.is(await revalidator.getOrSet(cacheStore(backing), 'plain', () => 'loaded', { staleTtl: 1 }, 60), 'by-hand')
})

test('Revalidator takes getOrSet\'s own options and refuses what it cannot use', async (t) => {
  const clock = new FakeClock()
  const backing = memory(clock)
  const revalidator = new Revalidator<string>({ clock: clock.now })
  const store = cacheStore(backing)
  // the public form, as getOrSet takes it: the stale window must be kept (it was ignored when not pre-resolved)
  t.is(await revalidator.getOrSet(store, 'k', () => 'v1', { ttl: '10s', staleTtl: 30 }), 'v1')
  clock.advance(11_000)
  let calls = 0
  t.is(await revalidator.getOrSet(store, 'k', () => `v${++calls + 1}`, { ttl: 10, staleTtl: 30 }), 'v1', 'stale value served while it refreshes')
  for (let i = 0; i < 10 && calls === 0; i++) await tick()
  t.is(calls, 1, 'the ttl of 10 s was kept: the value went stale and one refresh ran')
  t.is(revalidator.envelope('x', 10, '1m').ttlSeconds, 10)
  t.is(revalidator.envelope('x').ttlSeconds, 60, 'defaultTtl defaults to 60 seconds')
  await t.throwsAsync(revalidator.getOrSet(store, 'k', () => 'v', { ttl: 10, staleTTL: 30 } as never), { instanceOf: CacheOptionError, message: /unknown Revalidator getOrSet option "staleTTL": did you mean staleTtl\?/ })
  await t.throwsAsync(revalidator.getOrSet(backing as never, 'k', () => 'v'), { instanceOf: CacheOptionError, message: /needs a store with read and write methods \(such as cacheStore\(cache\)\), got an object/ })
  await t.throwsAsync(revalidator.getOrSet(store, 'k', () => 'v', 10, -1), { message: /defaultTtl must not be negative/ })
  await t.throwsAsync(revalidator.getOrSet(store, 7 as never, () => 'v'), { message: 'key must be a string, got 7 (number)' })
  await t.throwsAsync(revalidator.getOrSet(store, 'k', 'v' as never), { message: /loader/ })
  t.throws(() => new Revalidator({ clok: Date.now } as never), { instanceOf: CacheOptionError, message: /unknown Revalidator option "clok": did you mean clock\?/ })
  t.throws(() => new Revalidator(null as never), { instanceOf: CacheOptionError, message: 'Revalidator options must be an object, got null' })
  t.throws(() => cacheStore(null as never), { instanceOf: CacheOptionError, message: 'cacheStore needs a cache with get and set methods, got null' })
  t.throws(() => cacheStore({} as never), { instanceOf: CacheOptionError, message: 'cacheStore needs a cache with get and set methods, got an object' })
})

test('bad options are rejected with coded errors naming the option', async (t) => {
  const cache = memory(new FakeClock())
  const cases: [unknown, string, RegExp][] = [
    [{ staleTtl: -1 }, 'ERR_CACHE_INVALID_TTL', /staleTtl/],
    [{ grace: 'x' }, 'ERR_CACHE_INVALID_TTL', /grace/],
    [{ ttl: NaN }, 'ERR_CACHE_INVALID_TTL', /ttl/],
    [{ stale: 1 }, 'ERR_CACHE_INVALID_OPTION', /"stale"/],
    ['10', 'ERR_CACHE_INVALID_TTL', /ttl .*with a unit.*"10"/],
    [true, 'ERR_CACHE_INVALID_OPTION', /ttl \(seconds or a duration string\) or an options object/],
  ]
  for (const [bad, code, message] of cases) {
    const err = await t.throwsAsync(cache.getOrSet('k', () => 1, bad as GetOrSetOptions))
    t.is((err as { code?: string }).code, code, String(JSON.stringify(bad)))
    t.regex(err!.message, message)
  }
})

test('cached({ staleTtl }) serves the stale result and refreshes it once in the background', async (t) => {
  const clock = new FakeClock(Date.now())
  const realNow = Date.now
  // The decorator's envelopes use the wall clock: drive it from the fake one for this test.
  Date.now = clock.now
  t.teardown(() => (Date.now = realNow))
  const cache = memory(clock)
  let calls = 0
  const slow = cached({ cache, ttl: 10, staleTtl: 30, keyFn: (id: number) => `user:${id}` })(async (id: number) => `${id}@${++calls}`)
  t.is(await slow(1), '1@1')
  t.is(await slow(1), '1@1')
  clock.advance(15_000)
  const stale = await Promise.all([slow(1), slow(1), slow(1)])
  t.deepEqual(stale, ['1@1', '1@1', '1@1'])
  for (let i = 0; i < 20 && calls < 2; i++) await tick()
  for (let i = 0; i < 20 && (await slow(1)) !== '1@2'; i++) await tick()
  t.is(await slow(1), '1@2')
  t.is(calls, 2)
})

test('cached({ grace }) returns the expired result when the function rejects', async (t) => {
  const clock = new FakeClock(Date.now())
  const realNow = Date.now
  Date.now = clock.now
  t.teardown(() => (Date.now = realNow))
  const cache = memory(clock)
  let fail = false
  const fn = cached({ cache, ttl: 10, grace: 60, keyFn: () => 'k', onError: () => {} })(async () => {
    if (fail) throw new Error('db down')
    return 'good'
  })
  t.is(await fn(), 'good')
  clock.advance(20_000)
  fail = true
  t.is(await fn(), 'good')
  clock.advance(60_000)
  await t.throwsAsync(fn(), { message: 'db down' })
})

test('cached() rejects a bad staleTtl naming it', (t) => {
  t.throws(() => cached({ staleTtl: -1 }), { message: /staleTtl/ })
})
