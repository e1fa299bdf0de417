/**
 * getOrSet with stale-while-revalidate and grace over any cache, for code that holds a Cache
 * that is not one of ours (every built-in cache already does this in its own getOrSet, through
 * the same ReadThrough). TTLs here are seconds, as in the Cache contract.
 */
import type { Loader, TtlOrOptions } from '../contract/cache'
import { hasMethods, rawReader } from '../contract/capabilities'
import type { Duration } from '../duration'
import { CacheOptionError, describe } from '../errors'
import { checkClock, checkKey, checkKnownOptions, checkLoader, checkOptionsObject, ttlToMs } from '../validate'
import type { SwrEnvelope } from './envelope'
import { resolveGetOrSetOptions } from './get-or-set-options'
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
    checkOptionsObject(options, 'Revalidator')
    checkKnownOptions(options, ['clock', 'onError'], 'Revalidator option')
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

  /**
   * The cache's getOrSet, with staleTtl/grace, over `store`. `options` as getOrSet's third
   * argument (seconds, a duration string or { ttl, staleTtl, grace, timeouts });
   * `defaultTtl` (seconds or a duration string, default 60) applies when it names no ttl.
   */
  async getOrSet(store: SwrStore, key: string, load: Loader<V>, options?: TtlOrOptions, defaultTtl: Duration = 60): Promise<V> {
    checkStore(store)
    checkKey(key)
    checkLoader(load)
    const resolved = resolveGetOrSetOptions(options, 'Revalidator getOrSet')
    const defaultTtlMs = ttlToMs(defaultTtl, 'defaultTtl')
    const loadStore: LoadStore = {
      sync: false,
      read: (k) => store.read(k),
      write: (k, value, ttlMs, _origin) =>
        store.write(k, value, (ttlMs ?? defaultTtlMs) / 1000).catch((err: unknown) => this.report(err, k)),
    }
    return this.core.run(loadStore, key, load, resolved, defaultTtlMs)
  }

  /** The envelope for `value` written now (options and defaultTtl as in getOrSet), with the ttl in seconds that covers its windows. */
  envelope(value: V, options?: TtlOrOptions, defaultTtl: Duration = 60): { envelope: SwrEnvelope<V>; ttlSeconds: number } {
    const { envelope, ttlMs } = this.core.envelope(value, resolveGetOrSetOptions(options, 'Revalidator envelope'), ttlToMs(defaultTtl, 'defaultTtl'))
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
  if (!hasMethods(cache, ['get', 'set'])) throw new CacheOptionError(`cacheStore needs a cache with get and set methods, got ${describe(cache)}`)
  return {
    read: rawReader(cache),
    write: (key, value, ttlSeconds) => cache.set(key, value as never, ttlSeconds),
  }
}

function checkStore(store: unknown): void {
  if (!hasMethods(store, ['read', 'write'])) {
    throw new CacheOptionError(`Revalidator getOrSet needs a store with read and write methods (such as cacheStore(cache)), got ${describe(store)}`)
  }
}
