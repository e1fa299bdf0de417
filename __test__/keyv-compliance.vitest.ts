/**
 * Keyv's official compliance suite (@keyv/test-suite) against KeyvAstraStore over the memory
 * cache and over RedisCache on a real redis-server. Runs under vitest (the suite is written
 * for it), not ava: `npm run test:keyv` or scripts/test-keyv.sh.
 */
import * as vitest from 'vitest'
import keyvTestSuite from '@keyv/test-suite'
import Keyv from 'keyv'
import { KeyvAstraStore } from '../src/keyv/index'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { RedisCache } from '../src/redis/redis-cache'
import { RedisServer, startRedis } from './helpers/redis-server'

vitest.describe('KeyvAstraStore over InMemoryLRUCache (js engine)', () => {
  // One cache shared by every store the suite creates, as a real process would share it.
  const cache = new InMemoryLRUCache<unknown>({ maxsize: 10_000, defaultTtl: 0, engine: 'js' })
  keyvTestSuite(vitest, Keyv, () => new KeyvAstraStore(cache))
})

vitest.describe('KeyvAstraStore over InMemoryLRUCache (auto engine)', () => {
  const cache = new InMemoryLRUCache<unknown>({ maxsize: 10_000, defaultTtl: 0 })
  keyvTestSuite(vitest, Keyv, () => new KeyvAstraStore(cache))
})

vitest.describe('KeyvAstraStore over RedisCache', () => {
  let server: RedisServer | undefined
  let cache: RedisCache<unknown> | undefined
  vitest.beforeAll(async () => {
    server = await startRedis()
    cache = new RedisCache<unknown>({ redisUrl: server.url, keyPrefix: 'keyv-suite:', commandTimeoutMs: 5000 })
  })
  vitest.afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })
  keyvTestSuite(vitest, Keyv, () => new KeyvAstraStore(cache!))
})
