/**
 * getOrSet with stale-while-revalidate and grace over any cache, for code that holds a Cache
 * that is not one of ours (every built-in cache already does this in its own getOrSet, through
 * the same ReadThrough). TTLs here are seconds, as in the Cache contract.
 */
import type { Loader } from '../contract/cache'
import { rawReader } from '../contract/capabilities'
import { CacheOptionError, describe } from '../errors'
import { checkClock, ttlToMs } from '../validate'
import type { SwrEnvelope } from './envelope'
import type { ResolvedGetOrSetOptions } from './get-or-set-options'
import { ReadThrough, type LoadStore } from './read-through'

/** Where an envelope lives: a raw read (no unwrapping) and a write with a ttl in seconds. */
export interface SwrStore {
  read(key: string): Promise<unknown>
  write(key: string, value: unknown, ttlSeconds: number): Promise<void>
}

export interface RevalidatorOptions {
  /** Milliseconds, wall clock by default (envelopes in Redis are read by other processes). */
  clock?: () => number
  /** Background refresh and grace failures, and failed writes; default: one process warning per Revalidator. */
  onError?: (error: unknown, key: string) => void
}

/** Runs getOrSet with staleTtl/grace for one cache: one load per key at a time, shared by misses, stale reads and grace retries alike. */
export class Revalidator<V> {
  readonly clock: () => number
  private readonly core: ReadThrough<V>
  private readonly onError: ((error: unknown, key: string) => void) | undefined
  private warned = false

  constructor(options: RevalidatorOptions = {}) {
    this.clock = checkClock(options.clock) ?? Date.now
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw new CacheOptionError(`onError must be a function, got ${describe(options.onError)}`)
    }
    this.onError = options.onError
    this.core = new ReadThrough<V>({ clock: this.clock, onError: (error, key) => this.report(error, key) })
  }

  /** Loads (background refreshes included) running now (for tests and health). */
  get refreshing(): number {
    return this.core.loading
  }

  /** @param defaultTtl the cache's defaultTtl in seconds, used when `options` has no ttl. */
  getOrSet(store: SwrStore, key: string, load: Loader<V>, options: ResolvedGetOrSetOptions, defaultTtl: number): Promise<V> {
    const defaultTtlMs = ttlToMs(defaultTtl, 'defaultTtl')
    const loadStore: LoadStore = {
      sync: false,
      read: (k) => store.read(k),
      write: (k, value, ttlMs, _origin) =>
        store.write(k, value, (ttlMs ?? defaultTtlMs) / 1000).catch((err: unknown) => this.report(err, k)),
    }
    return Promise.resolve(this.core.run(loadStore, key, load, options, defaultTtlMs))
  }

  /** Builds the envelope for `value` written now, with the ttl (seconds) that covers its windows. */
  envelope(value: V, options: ResolvedGetOrSetOptions, defaultTtl: number): { envelope: SwrEnvelope<V>; ttlSeconds: number } {
    const { envelope, ttlMs } = this.core.envelope(value, options, ttlToMs(defaultTtl, 'defaultTtl'))
    return { envelope, ttlSeconds: ttlMs / 1000 }
  }

  private report(error: unknown, key: string): void {
    if (this.onError) {
      try {
        this.onError(error, key)
      } catch {
        // a failing handler must not turn a served value into a failure
      }
      return
    }
    if (this.warned) return
    this.warned = true
    process.emitWarning(`stale-while-revalidate refresh of key ${JSON.stringify(key)} failed: ${(error as Error)?.message ?? String(error)} (further failures are silent; pass onError to see them)`, {
      type: 'CacheRefreshWarning',
      code: 'ASTRA_CACHE_REFRESH',
    })
  }
}

/**
 * An SwrStore over any Cache: reads through the cache's raw read when it has one (envelopes
 * as stored), else its get; writes through its set.
 */
export function cacheStore(cache: { get(key: string): Promise<unknown>; set(key: string, value: never, ttl?: number): Promise<void> }): SwrStore {
  return {
    read: rawReader(cache),
    write: (key, value, ttlSeconds) => cache.set(key, value as never, ttlSeconds),
  }
}
