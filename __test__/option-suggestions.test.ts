/**
 * An unknown option says what it was probably meant as: another cache's name for one of ours
 * (docs/readme/migration.md) gets the option to use, a typo the option it is close to, and a
 * name close to nothing gets no guess. Checked through the real entry points.
 */
import test from 'ava'
import { CacheOptionError } from '../src/errors'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { RedisCache } from '../src/redis/redis-cache'
import { KeyvAstraStore } from '../src/keyv'
import { suggestionFor } from '../src/validate'

const messageOf = (build: () => unknown): string => {
  const err = (() => {
    try {
      build()
    } catch (e) {
      return e
    }
    return undefined
  })()
  if (!(err instanceof CacheOptionError)) throw new Error(`expected a CacheOptionError, got ${String(err)}`)
  return err.message
}
const firstClause = (message: string) => message.slice(0, message.indexOf(' (known: '))

test('another cache\'s option name is answered with the option to use here', (t) => {
  const memory = (o: object) => firstClause(messageOf(() => new InMemoryLRUCache(o as never)))
  t.is(memory({ max: 100 }), 'unknown InMemoryLRUCache option "max": use maxsize')
  t.is(memory({ ttl: 60_000 }), 'unknown InMemoryLRUCache option "ttl": use defaultTtl, in seconds; lru-cache, cache-manager and Keyv take milliseconds')
  t.is(memory({ maxSize: 10 }), "unknown InMemoryLRUCache option \"maxSize\": use maxsize for a number of entries, or maxBytes with storage: 'serialized' for bytes")
  t.is(memory({ sizeCalculation: () => 1 }), "unknown InMemoryLRUCache option \"sizeCalculation\": use maxBytes with storage: 'serialized', where the engine measures each entry")
  const redis = (o: object) => firstClause(messageOf(() => new RedisCache(o as never)))
  t.is(redis({ url: 'redis://127.0.0.1:1' }), 'unknown RedisCache option "url": use redisUrl')
  t.is(redis({ host: '127.0.0.1' }), "unknown RedisCache option \"host\": use redisUrl: 'redis://host:6379', or redisOptions: { host, port }")
  t.is(redis({ namespace: 'users' }), 'unknown RedisCache option "namespace": use keyPrefix')
  t.is(redis({ prefix: 'users:' }), 'unknown RedisCache option "prefix": use keyPrefix')
})

test('advice is given only where the entry point has the option it names', (t) => {
  // KeyvAstraStore has no keyPrefix: its own hint (Keyv's options go to new Keyv()) stands alone.
  const cache = new InMemoryLRUCache({ maxsize: 10 })
  const message = messageOf(() => new KeyvAstraStore(cache, { namespace: 'users' } as never))
  t.false(message.includes('keyPrefix'), message)
  t.true(message.includes('new Keyv('), message)
  t.is(suggestionFor('max', ['redisUrl', 'keyPrefix']), '')
})

test('a typo names the option it is close to, in any case; short names need to be closer', (t) => {
  const memory = (o: object) => firstClause(messageOf(() => new InMemoryLRUCache(o as never)))
  t.is(memory({ engin: 'js' }), 'unknown InMemoryLRUCache option "engin": did you mean engine?')
  t.is(memory({ polciy: 'lru' }), 'unknown InMemoryLRUCache option "polciy": did you mean policy?')
  t.is(memory({ maxbytes: 1024 }), 'unknown InMemoryLRUCache option "maxbytes": did you mean maxBytes?')
  t.is(memory({ defaultTTL: 5 }), 'unknown InMemoryLRUCache option "defaultTTL": did you mean defaultTtl?')
  // Two edits from a four-letter name (nope → name) is not a guess worth making; one is (nam).
  t.is(suggestionFor('nope', ['name', 'clock']), '')
  t.is(suggestionFor('nam', ['name', 'clock']), ': did you mean name?')
  t.is(memory({ updateAgeOnGet: true }), 'unknown InMemoryLRUCache option "updateAgeOnGet"')
  // The closest wins, not the first listed: timeouts (one edit) over timeoutMs (two).
  t.is(suggestionFor('timeout', ['timeoutMs', 'timeouts']), ": use timeouts: { soft }; bentocache's timeout is the soft one")
  t.is(suggestionFor('timeoutM', ['timeoutMs', 'timeouts']), ': did you mean timeoutMs?')
  // Object.prototype names are not peer names.
  t.is(suggestionFor('constructor', ['maxsize']), '')
})

test('getOrSet and its timeouts suggest too, bentocache\'s timeout names included', async (t) => {
  const cache = new InMemoryLRUCache({ maxsize: 10 })
  const reason = async (options: object) => ((await t.throwsAsync(cache.getOrSet('k', () => 1, options as never), { instanceOf: CacheOptionError }))!).message
  t.is(await reason({ tll: 5 }), 'unknown getOrSet option "tll": did you mean ttl? (expected ttl, staleTtl, grace, timeouts)')
  t.is(await reason({ timeout: 100 }), "unknown getOrSet option \"timeout\": use timeouts: { soft }; bentocache's timeout is the soft one (expected ttl, staleTtl, grace, timeouts)")
  t.is(await reason({ hardTimeout: 100 }), 'unknown getOrSet option "hardTimeout": use timeouts: { hard } (expected ttl, staleTtl, grace, timeouts)')
  t.is(await reason({ timeouts: { sotf: 100 } }), 'unknown getOrSet timeouts option "sotf": did you mean soft? (expected soft, hard)')
  t.is(await reason({ factory: () => 1 }), 'unknown getOrSet option "factory" (expected ttl, staleTtl, grace, timeouts)')
  await cache.close()
})
