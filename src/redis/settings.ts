/**
 * RedisCache's options that name no ioredis type (all but `client` and `redisOptions`, which
 * options.ts adds): createCache()'s `redis` overrides are typed by this, so the types of the
 * root entry never refer to ioredis, an optional package.
 */
import type { Cache, LoaderTimeouts } from '../contract/cache'
import type { MetricsSink } from '../contract/metrics'
import type { Duration } from '../duration'
import type { Serializer } from '../serializer'

export interface RedisCacheSettings<V = unknown> {
  /**
   * redis:// or rediss:// (TLS) URL, with optional `user:password@` and `/db`, or a Sentinel URL
   * `redis+sentinel://[user:password@]host:port[,host:port...]/mastername[/db]` (see sentinel.ts).
   * Default 'redis://localhost:6379'. Ignored when `client` is given.
   */
  redisUrl?: string
  /** Seconds (or a duration string, '5m') an entry lives when set() gets no ttl; 0 or Infinity = never expires. Default 60. */
  defaultTtl?: Duration
  /** Prepended to every key; clear() removes only keys under it. Default 'astra:cache:'. */
  keyPrefix?: string
  /** Default: JSON (see jsonSerializer). */
  serializer?: Serializer<V>
  /** Upper bound for every Redis command, in ms (or a duration string, '2s'). Default 500. */
  commandTimeoutMs?: Duration
  /**
   * Serves reads (and takes writes) while Redis is unreachable. Default: an InMemoryLRUCache of
   * `fallbackMaxsize` entries whose TTL is capped at `fallbackTtl`, made on first use (none
   * inside a TieredCache: its L1 serves then). `false`: no fallback, reads miss.
   */
  fallback?: Cache<V> | false
  /** Entries in the default fallback. Default 1000. */
  fallbackMaxsize?: number
  /** Longest TTL in seconds (or a duration string) of an entry written to the fallback. Default 5. */
  fallbackTtl?: Duration
  /** true (default): Redis failures never reject a call. false: they reject with CacheUnavailableError. */
  failOpen?: boolean
  /** Metrics label. Default 'redis'. */
  name?: string
  metricsSink?: MetricsSink
  /** Consecutive failures that open the circuit breaker. Default 5. */
  breakerThreshold?: number
  /** ms (or a duration string) the breaker stays open before probing Redis with PING; doubles per failed probe. Default 1000. */
  breakerOpenMs?: Duration
  /** Upper bound of the doubled probe delay, in ms (or a duration string). Default 10000. */
  breakerMaxOpenMs?: Duration
  /** Invalidations kept for replay while Redis is unreachable; beyond it the oldest are dropped. Default 10000. */
  invalidationQueueSize?: number
  /** Keys per SCAN COUNT / UNLINK batch in clear() and replay. Default 500. */
  batchSize?: number
  /**
   * ms clock for the timestamps of stale-while-revalidate envelopes (getOrSet with staleTtl or
   * grace). Default Date.now: envelopes in Redis are read by other processes, so keep wall time
   * in production; tests inject a fake one. Redis' own PX expiry always runs in real time.
   */
  clock?: () => number
  /** Loader timeouts of every getOrSet that gives none ({ soft, hard }, ms or duration strings); see docs/contract.md. Default: none. */
  timeouts?: LoaderTimeouts
}
