import type { Duration } from '../duration'
import { inspect } from 'node:util'
import { joinTier, remainingTtl } from '../contract/capabilities'
import { AsyncStoreFacade } from '../facade/async-store-facade'
import type { BreakerState } from './circuit-breaker'
import type { RedisConnectionOptions } from './connection'
import { resolveOptions, type RedisCacheOptions } from './options'
import { RedisStore } from './redis-store'
import { timersOf } from '../facade/loader-timers'
import { checkValue, ttlToMs } from '../validate'

export type { RedisCacheOptions, RedisConnectionOptions }

/** What health() reports. */
export interface RedisCacheHealth {
  /** 'closed': calls go to Redis; 'open': Redis is skipped (fallback or miss); 'half-open': a probe is running. */
  breaker: BreakerState
  /** The client's connection is up. */
  connected: boolean
  /** Invalidations waiting to be replayed into Redis (a pending clear() counts as one). */
  pendingInvalidations: number
  /** Invalidations dropped because the queue was full. */
  droppedInvalidations: number
  /** Times the breaker opened. */
  breakerOpened: number
  /** Entries the fallback holds now (at most fallbackMaxsize; 0 when it was never needed). */
  fallbackEntries: number
  /** Redis commands waiting for their reply; each is cut at commandTimeoutMs, so this stays bounded by the call rate times the timeout. */
  inFlightCommands: number
}

/**
 * A Cache over Redis (ioredis 5): the facade over a RedisStore (redis-store.ts), which runs the
 * commands (commands.ts) under the resilience rules (resilience.ts). Keys are
 * `keyPrefix + key`; values go through the serializer. Redis failures never reject a call
 * (unless `failOpen: false`): reads fall back to a small in-memory cache or miss, failed
 * invalidations are queued and replayed, and a circuit breaker stops calling a Redis that keeps
 * failing. Errors are reported as 'error' events; with no 'error' listener, the first one is
 * printed once as a process warning (never thrown).
 *
 * Events: 'error' (Error, credentials redacted), 'breaker' (new state),
 * 'invalidationDropped' (count so far) when the replay queue overflows.
 */
export class RedisCache<V = unknown> extends AsyncStoreFacade<V> {
  readonly keyPrefix: string
  readonly defaultTtl: number
  readonly commandTimeoutMs: number
  readonly failOpen: boolean
  readonly #redis: RedisStore<V>
  readonly #safeUrl: string

  constructor(options: RedisCacheOptions<V> = {}) {
    const o = resolveOptions(options)
    const store = new RedisStore<V>(o)
    super(store, { name: o.name, defaultTtlMs: o.defaultTtlMs, clock: o.clock, metricsSink: o.metricsSink, warningCode: 'ASTRA_CACHE_REDIS_ERROR', timeouts: o.timeouts, timers: timersOf(options) })
    this.#redis = store
    this.#safeUrl = o.safeUrl
    this.keyPrefix = o.keyPrefix
    this.defaultTtl = o.defaultTtl
    this.commandTimeoutMs = o.commandTimeoutMs
    this.failOpen = o.failOpen
  }

  /**
   * The connection this cache opened from `redisUrl` (undefined when you passed `client`), so
   * companions such as TieredCache's invalidation channel can open their own. It carries the
   * credentials: do not log it.
   */
  connectionOptions(): RedisConnectionOptions | undefined {
    return this.#redis.connection.madeFrom()
  }

  health(): RedisCacheHealth {
    const { breaker, queue } = this.#redis.resilience
    return {
      breaker: breaker.state,
      connected: this.#redis.connection.ready,
      pendingInvalidations: queue.size,
      droppedInvalidations: queue.dropped,
      breakerOpened: breaker.opened,
      fallbackEntries: this.#redis.fallback.size,
      inFlightCommands: this.#redis.commands.inFlight,
    }
  }

  /**
   * Stores `value` only if `key` holds nothing (SET NX, atomic across processes) and returns what
   * the key holds afterwards: `value` when it was stored, else the value already there. Resolves
   * `undefined` when Redis could not be asked (breaker open, the call failed, or an invalidation
   * of this key is pending); with failOpen false those reject. The fallback is never used: the
   * answer must be Redis' own.
   */
  async setIfAbsent(key: string, value: V, ttl?: Duration): Promise<V | undefined> {
    this.checkKey(key)
    checkValue(value)
    return this.#redis.setIfAbsent(key, value, ttl === undefined ? this.defaultTtlMs : ttlToMs(ttl))
  }

  /** This cache became a TieredCache's L2: the tier's L1 covers outages, so no memory fallback of its own is kept (one you passed is). */
  [joinTier](): void {
    void this.#redis.fallback.dropDefault()
  }

  /** What is left of each key's TTL in Redis (capabilities.ts remainingTtl): a TieredCache's L1 copy ends with it. */
  [remainingTtl](keys: readonly string[]): Promise<(number | undefined)[]> {
    return this.#redis.remainingTtls(keys)
  }

  [inspect.custom](): string {
    const url = this.#redis.connection.ownsClient ? this.#safeUrl : '(client)'
    return `RedisCache { name: ${JSON.stringify(this.name)}, url: ${JSON.stringify(url)}, keyPrefix: ${JSON.stringify(this.keyPrefix)}, breaker: ${this.#redis.resilience.breaker.state} }`
  }
}
