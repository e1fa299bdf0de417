import type { Cluster, Redis, RedisOptions } from 'ioredis'
import type { Cache } from '../contract/cache'
import { hasMethods } from '../contract/capabilities'
import type { MetricsSink } from '../contract/metrics'
import { CacheOptionError, describe } from '../errors'
import { checkMetricsSink } from '../facade/latency-sampler'
import { resolveTimeouts, type ResolvedTimeouts } from '../facade/get-or-set-options'
import { checkSerializer, jsonSerializer, type Serializer } from '../serializer'
import { withMilliseconds } from '../duration'
import { booleanOption, checkClock, checkKnownOptions, checkName, checkOptionsObject, ttlOption } from '../validate'
import { redactUrl } from './redact'
import type { RedisCacheSettings } from './settings'
import { isSentinelUrl, parseSentinelUrl, sentinelClientOptions } from './sentinel'

export type { RedisCacheSettings }

/** RedisCache's options: the settings (settings.ts) and the ioredis-typed ones. */
export interface RedisCacheOptions<V = unknown> extends RedisCacheSettings<V> {
  /** An existing ioredis Redis or Cluster. Not closed by close(). Must not have ioredis' own keyPrefix set. */
  client?: Redis | Cluster
  /**
   * Extra ioredis options for the client RedisCache creates (e.g. `tls: { ca }`, `retryStrategy`).
   * `commandTimeout`, `enableOfflineQueue`, `maxRetriesPerRequest` and
   * `autoResendUnfulfilledCommands` are set by RedisCache; `keyPrefix` is refused.
   */
  redisOptions?: RedisOptions
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
  timeouts: ResolvedTimeouts
}

const KNOWN_OPTIONS = new Set([
  'redisUrl', 'defaultTtl', 'keyPrefix', 'client', 'serializer', 'commandTimeoutMs', 'fallback', 'fallbackMaxsize',
  'fallbackTtl', 'failOpen', 'name', 'metricsSink', 'breakerThreshold', 'breakerOpenMs', 'breakerMaxOpenMs',
  'invalidationQueueSize', 'batchSize', 'redisOptions', 'clock', 'timeouts',
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
  const options = withMilliseconds((input ?? {}) as Record<string, unknown>, ['commandTimeoutMs', 'breakerOpenMs', 'breakerMaxOpenMs'])
  checkKnownOptions(options, KNOWN_OPTIONS, 'RedisCache option')
  const redisUrl = (options.redisUrl ?? 'redis://localhost:6379') as string
  const sentinel = isSentinelUrl(redisUrl) ? parseSentinelUrl(redisUrl) : undefined
  const credentials = sentinel ?? parseUrl(redisUrl)
  const { seconds: defaultTtl, ms: defaultTtlMs } = ttlOption(options.defaultTtl ?? 60, 'defaultTtl')

  const keyPrefix = options.keyPrefix ?? 'astra:cache:'
  if (typeof keyPrefix !== 'string') throw new CacheOptionError(`keyPrefix must be a string, got ${describe(keyPrefix)}`)

  const client = options.client
  if (client !== undefined) {
    if (!isIoredisClient(client)) throw new CacheOptionError(`client must be an ioredis Redis or Cluster instance, got ${describe(client)}`)
    // They configure the client RedisCache makes: beside a client of yours they would be dropped.
    const unused = ['redisUrl', 'redisOptions'].filter((key) => options[key] !== undefined)
    if (unused.length > 0) {
      throw new CacheOptionError(`${unused.join(' and ')} would be ignored beside client: ${unused.length > 1 ? 'they configure' : 'it configures'} the client RedisCache makes; configure your client instead`)
    }
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
  const { seconds: fallbackTtl, ms: fallbackTtlMs } = ttlOption(options.fallbackTtl ?? 5, 'fallbackTtl')
  if (fallbackTtlMs === 0) {
    throw new CacheOptionError(`fallbackTtl must be a positive finite number of seconds, got ${describe(fallbackTtl)}`)
  }

  const failOpen = booleanOption(options.failOpen, true, 'failOpen')
  // Options of a fallback that will never serve would be dropped: refused instead.
  const fallbackOptions = ['fallbackMaxsize', 'fallbackTtl'].filter((key) => options[key] !== undefined)
  if (fallback === false && fallbackOptions.length > 0) {
    throw new CacheOptionError(`${fallbackOptions.join(' and ')} would be ignored with fallback: false (no fallback)`)
  }
  if (!failOpen && fallback !== undefined && fallback !== false) fallbackOptions.unshift('fallback')
  if (!failOpen && fallbackOptions.length > 0) {
    throw new CacheOptionError(`${fallbackOptions.join(' and ')} would be ignored with failOpen: false, which rejects on a Redis failure instead of falling back`)
  }

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
  const timeouts = resolveTimeouts(options.timeouts, 'RedisCache timeouts')

  return {
    redisUrl,
    safeUrl: client === undefined ? redactUrl(redisUrl) : clientLabel(client as Redis | Cluster),
    password: client === undefined ? (credentials.password ?? ((redisOptions as RedisOptions).password as string | undefined)) : clientPassword(client as Redis | Cluster),
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
    timeouts,
  }
}

/** Where a client you passed points, for messages (the default URL would name a server it never used). */
function clientLabel(client: Redis | Cluster): string {
  if ((client as Cluster).isCluster) {
    // ioredis keeps the nodes it was given as a private field; they name the cluster best.
    const given = (client as unknown as { startupNodes?: unknown[] }).startupNodes ?? []
    const nodes = given.map((n) => (n !== null && typeof n === 'object' ? `${(n as { host?: string }).host ?? 'localhost'}:${(n as { port?: number }).port ?? 6379}` : String(n)))
    return `cluster ${redactUrl(nodes.join(','))}`
  }
  const o = (client as Redis).options
  return o.path ? `unix:${o.path}` : `${o.host ?? 'localhost'}:${o.port ?? 6379}`
}

/** A passed client's password, so messages that quote ioredis errors can mask it too. */
function clientPassword(client: Redis | Cluster): string | undefined {
  const o = (client as Cluster).isCluster ? (client as Cluster).options.redisOptions : (client as Redis).options
  return typeof o?.password === 'string' ? o.password : undefined
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
