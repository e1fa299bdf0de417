/**
 * Every public path a call to Redis can take, for the fault tests: RedisCache get/set/getOrSet,
 * cached(), TieredCache get/set/getOrSet (memory L1 over a Redis L2) and KeyvAstraStore
 * get/set over a RedisCache, each on its own key prefix of one Redis URL. `calls` feeds
 * callStream; `close` closes everything.
 */
import { cached } from '../../src/decorators'
import { KeyvAstraStore } from '../../src/keyv/index'
import { InMemoryLRUCache } from '../../src/memory/memory-cache'
import { RedisCache } from '../../src/redis/redis-cache'
import { TieredCache } from '../../src/tiered/tiered-cache'
import type { StreamCall } from './call-stream'

export const PATH_KINDS = ['get', 'set', 'getOrSet', 'cached()', 'tiered get', 'tiered set', 'tiered getOrSet', 'keyv get', 'keyv set'] as const

export interface CallPaths {
  cache: RedisCache<string>
  l2: RedisCache<string>
  keyvCache: RedisCache<unknown>
  tiered: TieredCache<string>
  calls: StreamCall[]
  /** Runs one call of `kind` on `key`. */
  one(kind: (typeof PATH_KINDS)[number], key: string): Promise<unknown>
  connected(): boolean
  close(): Promise<void>
}

export function callPaths(redisUrl: string, keyPrefix: string, commandTimeoutMs: number): CallPaths {
  const options = { redisUrl, commandTimeoutMs }
  const cache = new RedisCache<string>({ ...options, keyPrefix })
  const l2 = new RedisCache<string>({ ...options, keyPrefix: `${keyPrefix}tiered:` })
  const keyvCache = new RedisCache<unknown>({ ...options, keyPrefix: `${keyPrefix}keyv:` })
  const tiered = new TieredCache<string>({ l1: new InMemoryLRUCache<string>({ engine: 'js' }), l2, l1Ttl: 1 })
  const keyv = new KeyvAstraStore(keyvCache)
  for (const emitter of [cache, l2, keyvCache, tiered, keyv]) emitter.on('error', () => {})
  const loadUser = cached({ cache, keyFn: (id: string) => `user:${id}`, onError: () => {} })(async (id: string) => `user ${id}`)
  let unique = 0
  const one = (kind: (typeof PATH_KINDS)[number], key: string): Promise<unknown> => {
    switch (kind) {
      case 'get':
        return cache.get(key)
      case 'set':
        return cache.set(key, 'v', 30)
      case 'getOrSet':
        return cache.getOrSet(`${key}:${++unique}`, async () => 'loaded', 30)
      case 'cached()':
        return loadUser(`${key}:${++unique}`)
      case 'tiered get':
        return tiered.get(key)
      case 'tiered set':
        return tiered.set(key, 'v', 30)
      case 'tiered getOrSet':
        return tiered.getOrSet(`${key}:${++unique}`, async () => 'loaded', 30)
      case 'keyv get':
        return keyv.get(key)
      case 'keyv set':
        return keyv.set(key, 'v', 30_000)
    }
  }
  return {
    cache,
    l2,
    keyvCache,
    tiered,
    one,
    calls: PATH_KINDS.map((kind) => ({ kind, run: (key: string) => one(kind, key) })),
    connected: () => cache.health().connected && l2.health().connected && keyvCache.health().connected,
    close: async () => {
      await Promise.all([cache.close(), tiered.close(), l2.close(), keyvCache.close()])
    },
  }
}

/** `kind ms, ...` of a stream's worst calls, for t.log. */
export function worstLine(worst: Record<string, number>): string {
  return Object.entries(worst)
    .map(([kind, ms]) => `${kind} ${ms.toFixed(0)} ms`)
    .join(', ')
}

/** The kinds whose worst call reached `boundMs` (empty when all stayed under). */
export function overBound(worst: Record<string, number>, boundMs: number): string[] {
  return Object.entries(worst)
    .filter(([, ms]) => ms >= boundMs)
    .map(([kind, ms]) => `${kind} ${ms.toFixed(0)} ms`)
}
