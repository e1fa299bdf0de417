/**
 * KeyvAstraStore details beyond Keyv's compliance suite (which runs under vitest, see
 * scripts/test-keyv.sh): ttl units, namespace generations, disconnect.
 */
import test from 'ava'
import Keyv from 'keyv'
import { KeyvAstraStore } from '../src/keyv/index'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { FakeClock } from './helpers/fake-clock'

test('Keyv ttl (ms) becomes the cache ttl (s); no ttl never expires', async (t) => {
  const clock = new FakeClock()
  const cache = new InMemoryLRUCache<unknown>({ engine: 'js', defaultTtl: 5, clock: clock.now })
  const store = new KeyvAstraStore(cache)
  const keyv = new Keyv({ store })
  await keyv.set('short', 'x', 1500)
  await keyv.set('forever', 'y')
  clock.advance(1_400)
  t.true(await store.has('keyv:short'))
  clock.advance(200)
  t.false(await store.has('keyv:short'), 'gone from the cache itself, not only hidden by Keyv')
  clock.advance(10 ** 9)
  t.is(await keyv.get('forever'), 'y', "the cache's defaultTtl does not apply: Keyv means no expiry")
})

test('clear() with a namespace leaves other namespaces and plain cache entries alone', async (t) => {
  const cache = new InMemoryLRUCache<unknown>({ engine: 'js' })
  await cache.set('unrelated', 1)
  const users = new Keyv({ store: new KeyvAstraStore(cache), namespace: 'users' })
  const posts = new Keyv({ store: new KeyvAstraStore(cache), namespace: 'posts' })
  await users.set('1', 'ann')
  await posts.set('1', 'hello')
  await users.clear()
  t.is(await users.get('1'), undefined)
  t.is(await posts.get('1'), 'hello')
  t.is(await cache.get('unrelated'), 1)
  await users.set('1', 'bob')
  t.is(await users.get('1'), 'bob')
})

test('a lost generation entry never resurrects old values', async (t) => {
  const cache = new InMemoryLRUCache<unknown>({ engine: 'js' })
  const store = new KeyvAstraStore(cache)
  const keyv = new Keyv({ store, namespace: 'ns' })
  await keyv.set('k', 'v1')
  await keyv.clear()
  await cache.invalidate('ns:~generation') // e.g. evicted, or Redis flushed it
  t.is(await keyv.get('k'), undefined)
})

test('disconnect closes the cache only when asked to', async (t) => {
  const kept = new InMemoryLRUCache<unknown>({ engine: 'js' })
  await new KeyvAstraStore(kept).disconnect()
  await t.notThrowsAsync(kept.get('k'))
  const owned = new InMemoryLRUCache<unknown>({ engine: 'js' })
  await new KeyvAstraStore(owned, { closeCacheOnDisconnect: true }).disconnect()
  await t.throwsAsync(owned.get('k'), { code: 'ERR_CACHE_CLOSED' } as never)
})

test('rejects something that is not a Cache', (t) => {
  t.throws(() => new KeyvAstraStore(new Map() as never), { code: 'ERR_CACHE_INVALID_OPTION', message: /KeyvAstraStore needs an astra-cache Cache/ } as never)
})

test('rejects an unknown option or a closeCacheOnDisconnect that is not a boolean, by name', (t) => {
  const cache = new InMemoryLRUCache<unknown>({ engine: 'js' })
  t.throws(() => new KeyvAstraStore(cache, { namespace: 'users' } as never), { code: 'ERR_CACHE_INVALID_OPTION', message: /unknown KeyvAstraStore option "namespace".*go to new Keyv\(\)/ } as never)
  t.throws(() => new KeyvAstraStore(cache, { closeCacheOnDisconnect: 'yes' } as never), { code: 'ERR_CACHE_INVALID_OPTION', message: /closeCacheOnDisconnect must be true or false, got "yes"/ } as never)
  t.notThrows(() => new KeyvAstraStore(cache, { closeCacheOnDisconnect: undefined }))
})
