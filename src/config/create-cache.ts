import type { Cache } from '../contract/cache'
import type { MetricsSink } from '../contract/metrics'
import { CacheOptionError, describe } from '../errors'
import { InMemoryLRUCache } from '../memory/memory-cache'
import { NullCache } from '../null/null-cache'
import type { RedisCacheOptions } from '../redis/options'
import type { RedisCacheSettings } from '../redis/settings'
import { warnIfDisabledByDefault } from './disabled-warning'
import { readCacheConfig, type CacheConfig, type Env } from './env'
import { booleanOption, checkKnownOptions } from '../validate'

/** What createCache() accepts beside the environment; every field wins over its variable. */
export interface CreateCacheOverrides extends Partial<CacheConfig> {
  /** Passed to the backend (metrics label). */
  name?: string
  metricsSink?: MetricsSink
  /**
   * Extra RedisCache options (serializer, fallback, failOpen, client, redisOptions...) for the
   * redis backend. `client` (an ioredis Redis or Cluster) and `redisOptions` (ioredis options)
   * are typed loosely here so this entry's types never name ioredis; RedisCache checks them.
   */
  redis?: RedisCacheSettings & { client?: object; redisOptions?: object }
}

/**
 * Builds the cache the environment asks for: a NullCache when CACHE_ENABLED is false
 * (the default), else an InMemoryLRUCache or a RedisCache. `overrides` win over the
 * environment (handy in tests and for options no variable carries, like metricsSink).
 */
export function createCache(env: Env = process.env, overrides: CreateCacheOverrides = {}): Cache {
  return buildCache(env, overrides, 'the cache createCache() built')
}

/** createCache(), with `who` naming the cache in the disabled-by-default warning. */
export function buildCache(env: Env, overrides: CreateCacheOverrides, who: string): Cache {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw new CacheOptionError(`createCache overrides must be an object, got ${describe(overrides)}`)
  }
  checkOverrides(overrides)
  const { name, metricsSink, redis, ...configOverrides } = overrides
  const config: CacheConfig = { ...readCacheConfig(env), ...withoutUndefined(configOverrides) }
  if (!config.enabled) {
    warnIfDisabledByDefault(env, configOverrides.enabled, who)
    return new NullCache(name === undefined ? {} : { name })
  }
  if (config.backend === 'memory') {
    return new InMemoryLRUCache({
      maxsize: config.maxsize,
      defaultTtl: inSeconds(config.ttlSeconds),
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
      ...(redis as RedisCacheOptions),
      redisUrl: config.redisUrl,
      keyPrefix: config.keyPrefix,
      defaultTtl: inSeconds(config.ttlSeconds),
      ...(config.redisCommandTimeoutMs === undefined ? {} : { commandTimeoutMs: config.redisCommandTimeoutMs }),
      ...(name === undefined ? {} : { name }),
      ...(metricsSink === undefined ? {} : { metricsSink }),
    })
  }
  throw new CacheOptionError(`backend must be "memory" or "redis", got ${describe(config.backend)}`)
}

/** Every key createCache's overrides know: CacheConfig's fields and what goes to the backend as is. */
const OVERRIDE_KEYS: readonly (keyof CreateCacheOverrides)[] = [
  'enabled', 'backend', 'maxsize', 'ttlSeconds', 'redisUrl', 'keyPrefix', 'engine', 'policy', 'redisCommandTimeoutMs',
  'name', 'metricsSink', 'redis',
]

/**
 * A typo (`backnd`) or a string where a number or boolean belongs would otherwise be ignored
 * or taken as truthy; the backends check the rest (maxsize, engine, policy, redisUrl, ...).
 */
function checkOverrides(overrides: object): void {
  checkKnownOptions(overrides, OVERRIDE_KEYS, 'createCache override')
  const { enabled, ttlSeconds, redisCommandTimeoutMs } = overrides as CreateCacheOverrides
  booleanOption(enabled, undefined, 'createCache override enabled')
  if (ttlSeconds !== undefined && (typeof ttlSeconds !== 'number' || Number.isNaN(ttlSeconds) || ttlSeconds < 0)) {
    throw new CacheOptionError(`createCache override ttlSeconds must be a number of seconds, 0 or more (0 or Infinity: no expiry), got ${describe(ttlSeconds)}`)
  }
  if (redisCommandTimeoutMs !== undefined && typeof redisCommandTimeoutMs !== 'number') {
    throw new CacheOptionError(`createCache override redisCommandTimeoutMs must be a number of milliseconds, got ${describe(redisCommandTimeoutMs)}`)
  }
}

/** ttlSeconds as a duration that says its unit: a variable named in seconds needs no long-TTL warning. */
function inSeconds(seconds: number): number | string {
  return Number.isFinite(seconds) ? `${seconds}s` : seconds
}

function withoutUndefined<T extends object>(object: T): Partial<T> {
  const out: Partial<T> = {}
  for (const key of Object.keys(object) as (keyof T)[]) {
    if (object[key] !== undefined) out[key] = object[key]
  }
  return out
}
