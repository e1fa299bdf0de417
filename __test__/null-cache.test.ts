import test from 'ava'
import { CacheClosedError, CacheKeyError, CacheTtlError, CacheOptionError, CacheValueError } from '../src/errors'
import { NullCache } from '../src/null/null-cache'
import { MAX_KEY_LENGTH } from '../src/validate'

test('stores nothing and always misses', async (t) => {
  const cache = new NullCache()
  t.is(cache.name, 'null')
  await cache.set('k', 'v')
  await cache.setMany([['a', 1], ['b', 2, 10]])
  t.is(await cache.get('k'), undefined)
  t.false(await cache.has('k'))
  t.deepEqual(await cache.getMany(['k', 'a']), [undefined, undefined])
  t.false(await cache.invalidate('k'))
  await cache.clear()
})

test('stats are all zero, hit rate 0', async (t) => {
  const cache = new NullCache()
  await cache.set('k', 'v')
  await cache.get('k')
  const stats = cache.stats()
  t.like(stats, { hits: 0, misses: 0, evictions: 0, expirations: 0, size: 0, maxsize: 0 })
  t.is(stats.hitRate(), 0)
})

test('getOrSet runs the loader every time', async (t) => {
  const cache = new NullCache<number>()
  let calls = 0
  t.is(await cache.getOrSet('k', () => ++calls), 1)
  t.is(await cache.getOrSet('k', async () => ++calls), 2)
})

test('validates its inputs like a real backend', async (t) => {
  const cache = new NullCache()
  await t.throwsAsync(cache.get(1 as never), { instanceOf: CacheKeyError, message: /key must be a string, got 1 \(number\)/ })
  await t.throwsAsync(cache.get('x'.repeat(MAX_KEY_LENGTH + 1)), { instanceOf: CacheKeyError })
  await t.throwsAsync(cache.set('k', undefined), { instanceOf: CacheValueError })
  await t.throwsAsync(cache.set('k', 1, -1), { instanceOf: CacheTtlError })
  await t.throwsAsync(cache.has(null as never), { instanceOf: CacheKeyError })
  await t.throwsAsync(cache.invalidate({} as never), { instanceOf: CacheKeyError })
  await t.throwsAsync(cache.getMany('k' as never), { instanceOf: CacheKeyError })
  await t.throwsAsync(cache.setMany([['k', undefined]]), { instanceOf: CacheValueError })
  await t.throwsAsync(cache.setMany('k' as never), { instanceOf: CacheOptionError, message: /setMany expects an array/ })
  await t.throwsAsync(cache.getOrSet('k', () => 1, Number.NaN), { instanceOf: CacheTtlError })
  t.throws(() => new NullCache({ name: '' }), { message: /name must be a non-empty string/ })
  t.throws(() => new NullCache({ nme: 'off' } as never), { instanceOf: CacheOptionError, message: /unknown NullCache option "nme": did you mean name\? \(known: name\)/ })
})

test('any use after close() rejects with ERR_CACHE_CLOSED', async (t) => {
  const cache = new NullCache({ name: 'off' })
  await cache.close()
  const uses: (() => Promise<unknown>)[] = [
    () => cache.get('k'),
    () => cache.set('k', 1),
    () => cache.invalidate('k'),
    () => cache.clear(),
    () => cache.has('k'),
    () => cache.getMany(['k']),
    () => cache.setMany([['k', 1]]),
    () => cache.getOrSet('k', () => 1),
  ]
  for (const use of uses) {
    const error = await t.throwsAsync(use(), { instanceOf: CacheClosedError })
    t.is(error!.code, 'ERR_CACHE_CLOSED')
    t.regex(error!.message, /cache "off" is closed/)
  }
  await cache.close() // closing twice is harmless
})
