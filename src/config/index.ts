import type { Cache } from '../contract/cache'
import { CacheConfigError, CacheOptionError, describe } from '../errors'
import { InMemoryLRUCache } from '../memory/memory-cache'
import type { MetricsSink } from '../contract/metrics'
import { NullCache } from '../null/null-cache'
import type { RedisCacheOptions } from '../redis/redis-cache'
import { MAX_MAXSIZE } from '../validate'

export type CacheBackendName = 'memory' | 'redis'
export type CacheEngineName = 'auto' | 'native' | 'js'
export type CachePolicyName = 'lru' | 's3fifo' | 'tinylfu'

/** The parsed environment: what createCache() builds from. */
export interface CacheConfig {
  enabled: boolean
  backend: CacheBackendName
  maxsize: number
  /** Seconds; 0 = no expiry. */
  ttlSeconds: number
  redisUrl: string
  keyPrefix: string
  /** Memory engine choice (CACHE_ENGINE). */
  engine: CacheEngineName
  /** Memory eviction policy (CACHE_POLICY; docs/policies.md). */
  policy: CachePolicyName
  /** Bound on every Redis command (CACHE_REDIS_COMMAND_TIMEOUT_MS); undefined = RedisCache's default. */
  redisCommandTimeoutMs?: number
}

/** What createCache() accepts beside the environment; every field wins over its variable. */
export interface CreateCacheOverrides extends Partial<CacheConfig> {
  /** Passed to the backend (metrics label). */
  name?: string
  metricsSink?: MetricsSink
  /** Extra RedisCache options (client, serializer, fallback, failOpen...) for the redis backend. */
  redis?: Partial<RedisCacheOptions>
}

export type Env = Readonly<Record<string, string | undefined>>

/** The seed's variables and defaults, plus the two extra ones documented in docs/config-and-decorators.md. */
export const ENV_DEFAULTS = {
  CACHE_ENABLED: 'false',
  CACHE_BACKEND: 'memory',
  CACHE_MAXSIZE: '1024',
  CACHE_TTL_SECONDS: '60',
  CACHE_REDIS_URL: 'redis://localhost:6379',
  CACHE_KEY_PREFIX: 'astra:cache:',
  CACHE_ENGINE: 'auto',
  CACHE_POLICY: 'lru',
} as const

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on'])
const FALSE_WORDS = new Set(['false', '0', 'no', 'off'])
const MAX_TIMEOUT_MS = 2 ** 31 - 1 // setTimeout's limit

/**
 * Reads the configuration from `env` (process.env by default). Every variable is
 * validated, whether or not caching is enabled, so a typo fails at startup rather than
 * on the day caching is switched on. A set-but-empty variable counts as unset, except
 * CACHE_KEY_PREFIX where the empty string means "no prefix".
 */
export function readCacheConfig(env: Env = process.env): CacheConfig {
  if (env === null || typeof env !== 'object') throw new CacheConfigError(`env must be an object of strings, got ${describe(env)}`)
  const timeout = valueOf(env, 'CACHE_REDIS_COMMAND_TIMEOUT_MS')
  return {
    enabled: parseBoolean('CACHE_ENABLED', valueOf(env, 'CACHE_ENABLED') ?? ENV_DEFAULTS.CACHE_ENABLED),
    backend: parseChoice('CACHE_BACKEND', valueOf(env, 'CACHE_BACKEND') ?? ENV_DEFAULTS.CACHE_BACKEND, ['memory', 'redis']),
    maxsize: parseMaxsize(valueOf(env, 'CACHE_MAXSIZE') ?? ENV_DEFAULTS.CACHE_MAXSIZE),
    ttlSeconds: parseTtl(valueOf(env, 'CACHE_TTL_SECONDS') ?? ENV_DEFAULTS.CACHE_TTL_SECONDS),
    redisUrl: parseRedisUrl(valueOf(env, 'CACHE_REDIS_URL') ?? ENV_DEFAULTS.CACHE_REDIS_URL),
    keyPrefix: rawValueOf(env, 'CACHE_KEY_PREFIX') ?? ENV_DEFAULTS.CACHE_KEY_PREFIX,
    engine: parseChoice('CACHE_ENGINE', valueOf(env, 'CACHE_ENGINE') ?? ENV_DEFAULTS.CACHE_ENGINE, ['auto', 'native', 'js']),
    policy: parseChoice('CACHE_POLICY', valueOf(env, 'CACHE_POLICY') ?? ENV_DEFAULTS.CACHE_POLICY, ['lru', 's3fifo', 'tinylfu']),
    redisCommandTimeoutMs: timeout === undefined ? undefined : parseTimeout(timeout),
  }
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

let defaultCache: Cache | undefined

/**
 * Sets the process default cache, used by cached()/cacheInvalidate() when they name no
 * cache (looked up at call time, so this may run after the decorators were applied).
 * `undefined` forgets it: the next getDefaultCache() calls createCache() again. The
 * previous cache is not closed; its owner closes it.
 */
export function setDefaultCache(cache: Cache | undefined): void {
  if (cache !== undefined && !isCache(cache)) {
    throw new CacheOptionError(`setDefaultCache expects a Cache (an object with get/set/invalidate methods) or undefined, got ${describe(cache)}`)
  }
  defaultCache = cache
}

/** The process default cache; created from process.env by createCache() on first use. */
export function getDefaultCache(): Cache {
  if (defaultCache === undefined) defaultCache = createCache()
  return defaultCache
}

export function isCache(value: unknown): value is Cache {
  if (value === null || typeof value !== 'object') return false
  const candidate = value as Record<string, unknown>
  return typeof candidate.get === 'function' && typeof candidate.set === 'function' && typeof candidate.invalidate === 'function'
}

/** Hides the password (or a lone token in the user part) of a Redis URL, for error messages. */
export function redactRedisUrl(url: string): string {
  const at = url.lastIndexOf('@')
  if (at === -1) return url
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)
  const start = scheme === null ? 0 : scheme[0].length
  if (at < start) return url
  const userinfo = url.slice(start, at)
  const colon = userinfo.indexOf(':')
  return `${url.slice(0, start)}${colon === -1 ? '***' : `${userinfo.slice(0, colon)}:***`}${url.slice(at)}`
}

function rawValueOf(env: Env, variable: string): string | undefined {
  const value = env[variable]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new CacheConfigError(`${variable} must be a string, got ${describe(value)}`)
  return value
}

function valueOf(env: Env, variable: string): string | undefined {
  const value = rawValueOf(env, variable)?.trim()
  return value === '' ? undefined : value
}

function invalid(variable: string, shown: string, allowed: string): CacheConfigError {
  return new CacheConfigError(`${variable}=${JSON.stringify(shown)} is not valid: expected ${allowed}`)
}

function parseBoolean(variable: string, value: string): boolean {
  const word = value.toLowerCase()
  if (TRUE_WORDS.has(word)) return true
  if (FALSE_WORDS.has(word)) return false
  throw invalid(variable, value, 'one of true/false/1/0/yes/no/on/off (any case)')
}

function parseChoice<T extends string>(variable: string, value: string, choices: readonly T[]): T {
  const word = value.toLowerCase()
  for (const choice of choices) if (choice === word) return choice
  throw invalid(variable, value, `one of ${choices.join(', ')}`)
}

function parseMaxsize(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_MAXSIZE) {
    throw invalid('CACHE_MAXSIZE', value, `an integer from 1 to ${MAX_MAXSIZE}`)
  }
  return n
}

function parseTtl(value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN
  if (!Number.isFinite(n)) throw invalid('CACHE_TTL_SECONDS', value, 'a non-negative number of seconds (fractions allowed; 0 = no expiry)')
  return n
}

function parseTimeout(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_TIMEOUT_MS) {
    throw invalid('CACHE_REDIS_COMMAND_TIMEOUT_MS', value, `an integer number of milliseconds from 1 to ${MAX_TIMEOUT_MS}`)
  }
  return n
}

function parseRedisUrl(value: string): string {
  const shown = redactRedisUrl(value)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalid('CACHE_REDIS_URL', shown, 'a URL such as redis://[user:password@]host:6379[/db] or rediss://...')
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw invalid('CACHE_REDIS_URL', shown, 'a redis:// or rediss:// URL')
  }
  if (url.hostname === '') throw invalid('CACHE_REDIS_URL', shown, 'a URL with a host, such as redis://localhost:6379')
  return value
}

function withoutUndefined<T extends object>(object: T): Partial<T> {
  const out: Partial<T> = {}
  for (const key of Object.keys(object) as (keyof T)[]) {
    if (object[key] !== undefined) out[key] = object[key]
  }
  return out
}
