import type { Cluster, Redis, RedisOptions } from 'ioredis'
import type { Cache } from '../contract/cache'
import { hasMethods } from '../contract/capabilities'
import type { MetricsSink } from '../contract/metrics'
import { CacheOptionError, describe } from '../errors'
import { checkMetricsSink } from '../facade/latency-sampler'
import { checkSerializer, jsonSerializer, type Serializer } from '../serializer'
import { checkClock, checkName, checkOptionsObject, ttlToMs } from '../validate'
import { redactUrl } from './redact'
import { isSentinelUrl, parseSentinelUrl, sentinelClientOptions } from './sentinel'

export interface RedisCacheOptions<V = unknown> {
  /**
   * redis:// or rediss:// (TLS) URL, with optional `user:password@` and `/db`, or a Sentinel URL
   * `redis+sentinel://[user:password@]host:port[,host:port...]/mastername[/db]` (see sentinel.ts).
   * Default 'redis://localhost:6379'. Ignored when `client` is given.
   */
  redisUrl?: string
  /** Seconds an entry lives when set() gets no ttl; 0 or Infinity = never expires. Default 60. */
  defaultTtl?: number
  /** Prepended to every key; clear() removes only keys under it. Default 'astra:cache:'. */
  keyPrefix?: string
  /** An existing ioredis Redis or Cluster. Not closed by close(). Must not have ioredis' own keyPrefix set. */
  client?: Redis | Cluster
  /** Default: JSON (see jsonSerializer). */
  serializer?: Serializer<V>
  /** Upper bound for every Redis command, in ms. Default 500. */
  commandTimeoutMs?: number
  /**
   * Serves reads (and takes writes) while Redis is unreachable. Default: an InMemoryLRUCache of
   * `fallbackMaxsize` entries whose TTL is capped at `fallbackTtl`, made on first use (none
   * inside a TieredCache: its L1 serves then). `false`: no fallback, reads miss.
   */
  fallback?: Cache<V> | false
  /** Entries in the default fallback. Default 1000. */
  fallbackMaxsize?: number
  /** Longest TTL in seconds of an entry written to the fallback. Default 5. */
  fallbackTtl?: number
  /** true (default): Redis failures never reject a call. false: they reject with CacheUnavailableError. */
  failOpen?: boolean
  /** Metrics label. Default 'redis'. */
  name?: string
  metricsSink?: MetricsSink
  /** Consecutive failures that open the circuit breaker. Default 5. */
  breakerThreshold?: number
  /** ms the breaker stays open before probing Redis with PING; doubles per failed probe. Default 1000. */
  breakerOpenMs?: number
  /** Upper bound of the doubled probe delay, in ms. Default 10000. */
  breakerMaxOpenMs?: number
  /** Invalidations kept for replay while Redis is unreachable; beyond it the oldest are dropped. Default 10000. */
  invalidationQueueSize?: number
  /** Keys per SCAN COUNT / UNLINK batch in clear() and replay. Default 500. */
  batchSize?: number
  /**
   * Extra ioredis options for the client RedisCache creates (e.g. `tls: { ca }`, `retryStrategy`).
   * `commandTimeout`, `enableOfflineQueue`, `maxRetriesPerRequest` and
   * `autoResendUnfulfilledCommands` are set by RedisCache; `keyPrefix` is refused.
   */
  redisOptions?: RedisOptions
  /**
   * ms clock for the timestamps of stale-while-revalidate envelopes (getOrSet with staleTtl or
   * grace). Default Date.now: envelopes in Redis are read by other processes, so keep wall time
   * in production; tests inject a fake one. Redis' own PX expiry always runs in real time.
   */
  clock?: () => number
}

export interface ResolvedRedisCacheOptions<V> {
  redisUrl: string
  /** redisUrl with the credentials masked, for messages. */
  safeUrl: string
  password: string | undefined
  username: string | undefined
  defaultTtl: number
  defaultTtlMs: number
  keyPrefix: string
  client: Redis | Cluster | undefined
  serializer: Serializer<V>
  commandTimeoutMs: number
  fallback: Cache<V> | false | undefined
  fallbackMaxsize: number
  fallbackTtl: number
  failOpen: boolean
  name: string
  metricsSink: MetricsSink | undefined
  breakerThreshold: number
  breakerOpenMs: number
  breakerMaxOpenMs: number
  invalidationQueueSize: number
  batchSize: number
  redisOptions: RedisOptions
  clock: () => number
}

const KNOWN_OPTIONS = new Set([
  'redisUrl', 'defaultTtl', 'keyPrefix', 'client', 'serializer', 'commandTimeoutMs', 'fallback', 'fallbackMaxsize',
  'fallbackTtl', 'failOpen', 'name', 'metricsSink', 'breakerThreshold', 'breakerOpenMs', 'breakerMaxOpenMs',
  'invalidationQueueSize', 'batchSize', 'redisOptions', 'clock',
])

export const DEFAULT_COMMAND_TIMEOUT_MS = 500

function intOption(options: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const value = options[name] ?? fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new CacheOptionError(`${name} must be an integer from ${min} to ${max}, got ${describe(value)}`)
  }
  return value
}

/** Parses and checks the URL; errors show it with credentials masked. */
function parseUrl(redisUrl: unknown): { username?: string; password?: string } {
  if (typeof redisUrl !== 'string') throw new CacheOptionError(`redisUrl must be a string, got ${describe(redisUrl)}`)
  let url: URL
  try {
    url = new URL(redisUrl)
  } catch {
    throw new CacheOptionError(`redisUrl is not a valid URL: ${JSON.stringify(redactUrl(redisUrl))}`)
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new CacheOptionError(`redisUrl must start with redis:// or rediss:// (or redis+sentinel:// for Sentinel), got ${JSON.stringify(redactUrl(redisUrl))}`)
  }
  const db = url.pathname.replace(/^\//, '')
  if (db !== '' && !/^\d+$/.test(db)) {
    throw new CacheOptionError(`redisUrl database must be a number, got ${JSON.stringify(db)} in ${JSON.stringify(redactUrl(redisUrl))}`)
  }
  return {
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
  }
}

function isIoredisClient(client: unknown): client is Redis | Cluster {
  return (
    client !== null &&
    typeof client === 'object' &&
    typeof (client as Redis).sendCommand === 'function' &&
    typeof (client as Redis).status === 'string'
  )
}

export function resolveOptions<V>(input: RedisCacheOptions<V> | undefined): ResolvedRedisCacheOptions<V> {
  checkOptionsObject(input, 'RedisCache')
  const options = (input ?? {}) as Record<string, unknown>
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new CacheOptionError(`unknown RedisCache option "${key}"`)
  }
  const redisUrl = (options.redisUrl ?? 'redis://localhost:6379') as string
  const sentinel = isSentinelUrl(redisUrl) ? parseSentinelUrl(redisUrl) : undefined
  const credentials = sentinel ?? parseUrl(redisUrl)
  const defaultTtl = (options.defaultTtl ?? 60) as number
  const defaultTtlMs = ttlToMs(defaultTtl, 'defaultTtl')

  const keyPrefix = options.keyPrefix ?? 'astra:cache:'
  if (typeof keyPrefix !== 'string') throw new CacheOptionError(`keyPrefix must be a string, got ${describe(keyPrefix)}`)

  const client = options.client
  if (client !== undefined) {
    if (!isIoredisClient(client)) throw new CacheOptionError(`client must be an ioredis Redis or Cluster instance, got ${describe(client)}`)
    const ioredisPrefix = (client as Redis).options?.keyPrefix
    if (ioredisPrefix) {
      // SCAN MATCH does not get ioredis' keyPrefix, so clear() would miss every key.
      throw new CacheOptionError(`client has ioredis keyPrefix ${describe(ioredisPrefix)} set; leave it unset and use RedisCache's keyPrefix option`)
    }
  }

  const serializer = (options.serializer ?? jsonSerializer) as Serializer<V>
  checkSerializer(serializer)

  const commandTimeoutMs = intOption(options, 'commandTimeoutMs', DEFAULT_COMMAND_TIMEOUT_MS, 1, 600_000)

  const fallback = options.fallback
  if (fallback !== undefined && fallback !== false && !hasMethods(fallback, ['get', 'set', 'invalidate', 'clear', 'close'])) {
    throw new CacheOptionError(`fallback must be a Cache (e.g. an InMemoryLRUCache) or false, got ${describe(fallback)}`)
  }
  const fallbackMaxsize = intOption(options, 'fallbackMaxsize', 1000, 1, 2 ** 30)
  const fallbackTtl = (options.fallbackTtl ?? 5) as number
  if (ttlToMs(fallbackTtl, 'fallbackTtl') === 0) {
    throw new CacheOptionError(`fallbackTtl must be a positive finite number of seconds, got ${describe(fallbackTtl)}`)
  }

  const failOpen = options.failOpen ?? true
  if (typeof failOpen !== 'boolean') throw new CacheOptionError(`failOpen must be true or false, got ${describe(failOpen)}`)

  const name = checkName(options.name ?? 'redis')

  const metricsSink = checkMetricsSink(options.metricsSink)

  const breakerThreshold = intOption(options, 'breakerThreshold', 5, 1, 1_000_000)
  const breakerOpenMs = intOption(options, 'breakerOpenMs', 1000, 1, 3_600_000)
  const breakerMaxOpenMs = intOption(options, 'breakerMaxOpenMs', Math.max(10_000, breakerOpenMs), breakerOpenMs, 3_600_000)
  const invalidationQueueSize = intOption(options, 'invalidationQueueSize', 10_000, 1, 10_000_000)
  const batchSize = intOption(options, 'batchSize', 500, 1, 100_000)

  const givenRedisOptions = options.redisOptions ?? {}
  checkOptionsObject(givenRedisOptions, 'redisOptions')
  if ((givenRedisOptions as RedisOptions).keyPrefix) {
    throw new CacheOptionError(`redisOptions.keyPrefix is not supported (clear() could not see it); use the keyPrefix option`)
  }
  const redisOptions = sentinelClientOptions(sentinel, givenRedisOptions as RedisOptions, commandTimeoutMs)

  const clock = checkClock(options.clock) ?? Date.now

  return {
    redisUrl,
    safeUrl: redactUrl(redisUrl),
    password: credentials.password ?? ((redisOptions as RedisOptions).password as string | undefined),
    username: credentials.username,
    defaultTtl,
    defaultTtlMs,
    keyPrefix,
    client: client as Redis | Cluster | undefined,
    serializer,
    commandTimeoutMs,
    fallback: fallback as Cache<V> | false | undefined,
    fallbackMaxsize,
    fallbackTtl,
    failOpen,
    name,
    metricsSink: metricsSink as MetricsSink | undefined,
    breakerThreshold,
    breakerOpenMs,
    breakerMaxOpenMs,
    invalidationQueueSize,
    batchSize,
    redisOptions,
    clock: clock as () => number,
  }
}

/**
 * The ioredis options RedisCache uses for the client it creates. Use them for a Cluster or
 * client you pass yourself (Cluster: as `redisOptions`), so no command can wait in an
 * offline queue beyond the timeout or be re-sent late after a reconnect.
 */
export function recommendedClientOptions(commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS): RedisOptions {
  return {
    commandTimeout: commandTimeoutMs,
    // Fail fast while disconnected: the breaker and fallback handle it, and nothing queued
    // offline can run late (a late SET could resurrect a value invalidated meanwhile).
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(1000, commandTimeoutMs * 2),
    // Reconnect quickly (50 ms, 100 ms, ... up to 1 s) so recovery follows Redis closely.
    retryStrategy: (times: number) => Math.min(times * 50, 1000),
  }
}

/**
 * The ioredis options of the client RedisCache creates from `redisUrl`: the recommended ones,
 * then yours, then the few that keep every call bounded and nothing re-sent late (not
 * overridable). No ioredis commandTimeout: RedisCache's shared deadline timer bounds every call
 * more cheaply than a timer per command.
 */
export function ownClientOptions(commandTimeoutMs: number, redisOptions: RedisOptions = {}): RedisOptions {
  return {
    ...recommendedClientOptions(commandTimeoutMs),
    ...redisOptions,
    commandTimeout: undefined,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    lazyConnect: false,
  }
}
