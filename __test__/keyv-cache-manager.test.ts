/**
 * cache-manager 7 over Keyv over KeyvAstraStore, on the memory cache and on a real Redis, in
 * normal and `nonBlocking` mode (where cache-manager does not wait for writes before the next
 * call): mset then mget, set/del/get, ttl(), wrap() and clear() give what they promise.
 */
import test, { type ExecutionContext } from 'ava'
import { createCache } from 'cache-manager'
import Keyv from 'keyv'
import type { Cache } from '../src/contract/cache'
import { KeyvAstraStore } from '../src/keyv/index'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { RedisCache } from '../src/redis/redis-cache'
import { redisTestsOrSkip, startRedis, type RedisServer } from './helpers/redis-server'

let namespaces = 0

function manager(cache: Cache<unknown>, nonBlocking: boolean) {
  const keyv = new Keyv({ store: new KeyvAstraStore(cache), namespace: `cm${process.pid}x${++namespaces}` })
  return createCache({ stores: [keyv], nonBlocking })
}

async function exercise(t: ExecutionContext, cache: Cache<unknown>, nonBlocking: boolean) {
  const cm = manager(cache, nonBlocking)
  const before = Date.now()
  await cm.mset<unknown>([
    { key: 'a', value: 1 },
    { key: 'b', value: { nested: true }, ttl: 60_000 },
  ])
  t.deepEqual(await cm.mget(['a', 'b', 'missing']), [1, { nested: true }, undefined], 'mget sees the mset')

  const expires = await cm.ttl('b')
  t.is(typeof expires, 'number', 'ttl() of an entry with a ttl is its expiry time')
  t.true((expires as number) >= before + 60_000 && (expires as number) <= Date.now() + 60_000, String(expires))
  t.is(await cm.ttl('a'), undefined, 'no ttl: no expiry')

  await cm.set('c', 'three')
  await cm.del('a')
  t.is(await cm.get('a'), undefined, 'del is not undone by the earlier mset')
  t.is(await cm.get('c'), 'three')

  let loads = 0
  const load = async () => `loaded${++loads}`
  t.is(await cm.wrap('w', load), 'loaded1')
  t.is(await cm.wrap('w', load), 'loaded1', 'the second wrap() is served from the cache')

  await cm.clear()
  t.deepEqual(await cm.mget(['a', 'b', 'c', 'w']), [undefined, undefined, undefined, undefined], 'clear() clears')
  await cm.set('after', 'x')
  t.is(await cm.get('after'), 'x')
}

for (const nonBlocking of [false, true]) {
  const mode = nonBlocking ? 'nonBlocking' : 'normal'
  test(`cache-manager (${mode}) over the memory cache`, async (t) => {
    await exercise(t, new InMemoryLRUCache<unknown>({ engine: 'js' }), nonBlocking)
  })
}

if (redisTestsOrSkip(test, 'cache-manager over KeyvAstraStore on Redis')) {
  let server: RedisServer
  let cache: RedisCache<unknown>
  test.before(async () => {
    server = await startRedis()
    cache = new RedisCache<unknown>({ redisUrl: server.url, keyPrefix: 'cm:', commandTimeoutMs: 5000 })
  })
  test.after.always(async () => {
    await cache?.close()
    await server?.stop()
  })
  for (const nonBlocking of [false, true]) {
    const mode = nonBlocking ? 'nonBlocking' : 'normal'
    test(`cache-manager (${mode}) over RedisCache`, async (t) => {
      await exercise(t, cache, nonBlocking)
    })
  }
}
