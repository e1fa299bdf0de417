import type { Cache } from '../contract/cache'
import type { MetricsSink } from '../contract/metrics'
import { CacheOptionError, describe } from '../errors'
import { InMemoryLRUCache } from '../memory/memory-cache'
import { NullCache } from '../null/null-cache'
import type { RedisCacheOptions } from '../redis/options'
import { readCacheConfig, type CacheConfig, type Env } from './env'

/** What createCache() accepts beside the environment; every field wins over its variable. */
export interface CreateCacheOverrides extends Partial<CacheConfig> {
  /** Passed to the backend (metrics label). */
  name?: string
  metricsSink?: MetricsSink
  /** Extra RedisCache options (client, serializer, fallback, failOpen...) for the redis backend. */
  redis?: Partial<RedisCacheOptions>
}

/**
 * Builds the cache the environment asks for: a NullCache when CACHE_ENABLED is false
 * (the default), else an InMemoryLRUCache or a RedisCache. `overrides` win over the
 * environment (handy in tests and for options no variable carries, like metricsSink).
 */
export function createCache(env: Env = process.env, overrides: CreateCacheOverrides = {}): Cache {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw new CacheOptionError(`createCache overrides must be an object, got ${describe(overrides)}`)
  }
  const { name, metricsSink, redis, ...configOverrides } = overrides
  const config: CacheConfig = { ...readCacheConfig(env), ...withoutUndefined(configOverrides) }
  if (!config.enabled) return new NullCache(name === undefined ? {} : { name })
  if (config.backend === 'memory') {
    return new InMemoryLRUCache({
      maxsize: config.maxsize,
      defaultTtl: config.ttlSeconds,
      engine: config.engine,
      policy: config.policy,
      ...(name === undefined ? {} : { name }),
      ...(metricsSink === undefined ? {} : { metricsSink }),
    })
  }
  if (config.backend === 'redis') {
    // Loaded on demand so memory-only users never load ioredis.
    const { RedisCache } = require('../redis/redis-cache') as typeof import('../redis/redis-cache')
    return new RedisCache({
      ...redis,
      redisUrl: config.redisUrl,
      keyPrefix: config.keyPrefix,
      defaultTtl: config.ttlSeconds,
      ...(config.redisCommandTimeoutMs === undefined ? {} : { commandTimeoutMs: config.redisCommandTimeoutMs }),
      ...(name === undefined ? {} : { name }),
      ...(metricsSink === undefined ? {} : { metricsSink }),
    })
  }
  throw new CacheOptionError(`backend must be "memory" or "redis", got ${describe(config.backend)}`)
}

function withoutUndefined<T extends object>(object: T): Partial<T> {
  const out: Partial<T> = {}
  for (const key of Object.keys(object) as (keyof T)[]) {
    if (object[key] !== undefined) out[key] = object[key]
  }
  return out
}
