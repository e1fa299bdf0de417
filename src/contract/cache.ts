import type { Duration } from '../duration'

/**
 * The contract every cache implements (memory, Redis, tiered, null, or your own). TTLs are
 * seconds or duration strings ('30s', '5m'; see duration.ts): fractions allowed, 0 or Infinity = never expires, omitted = the cache's defaultTtl.
 */
export interface Cache<V = unknown> {
  /** Metrics label; default per backend ('memory', 'redis', ...). */
  readonly name: string
  get(key: string): Promise<V | undefined>
  /** ttl in seconds (fractions allowed) or a duration string; omitted: the cache's defaultTtl; 0 or Infinity: never expires. */
  set(key: string, value: V, ttl?: Duration): Promise<void>
  /** true when something was removed. */
  invalidate(key: string): Promise<boolean>
  /** Removes this cache's entries only. */
  clear(): Promise<void>
  stats(): CacheStats
  /** Releases native memory / connections; any later use rejects with ERR_CACHE_CLOSED. */
  close(): Promise<void>
  getMany(keys: readonly string[]): Promise<(V | undefined)[]>
  setMany(entries: readonly (readonly [string, V, Duration?])[]): Promise<void>
  has(key: string): Promise<boolean>
  /**
   * Returns the cached value, or runs `load` once for concurrent callers of one key and caches
   * its result. `ttlOrOptions`: seconds, or { ttl, staleTtl, grace, timeouts }. The loader gets
   * a LoaderContext ({ signal, stale, setTtl }).
   */
  getOrSet(key: string, load: Loader<V>, ttlOrOptions?: TtlOrOptions): Promise<V>
}

/**
 * What getOrSet calls on a miss (or to refresh a stale entry). Its `undefined` result is
 * returned, never stored. A loader that takes no argument is one too.
 */
export type Loader<V> = (context: LoaderContext<V>) => Promise<V> | V

/** The one argument of a loader (getOrSet's, or a cached() function's through loaderContext()). */
export interface LoaderContext<V> {
  /** Aborted (reason: the CacheLoaderTimeoutError) when `timeouts.hard` passes; never otherwise while a caller waits. */
  readonly signal: AbortSignal
  /** The old value when this load refreshes a stale or graced entry (staleTtl/grace), else undefined. */
  readonly stale: V | undefined
  /**
   * The TTL of the value this load returns: seconds or a duration string, 0 or Infinity for
   * no expiry (with staleTtl/grace: the fresh window). Call it before the loader settles.
   */
  setTtl(ttl: Duration): void
}

/**
 * How long callers wait for a loader, in milliseconds or a duration string ('2s'); Infinity
 * (or omitted) = no bound. The timeouts of the call that started a load apply to it.
 */
export interface LoaderTimeouts {
  /** With a graced value at hand: after this long the callers get it while the load goes on in the background. */
  soft?: Duration
  /** After this long every waiting caller rejects with CacheLoaderTimeoutError, the signal aborts, and a late result is not stored. */
  hard?: Duration
}

/** The third argument of getOrSet: a ttl (seconds or a duration string), or this object. */
export interface GetOrSetOptions {
  /** Seconds (or a duration string, '5m') the value is fresh; default: the cache's defaultTtl. 0 or Infinity: never expires. */
  ttl?: Duration
  /** Seconds (or a duration string) after `ttl` during which the old value is still returned while one refresh runs in the background. */
  staleTtl?: Duration
  /** Seconds (or a duration string) after `ttl` during which the old value is returned when the loader fails (its error goes to the 'error' event). */
  grace?: Duration
  /** Bounds on the wait for the loader; each omitted one takes the cache's `timeouts` option. */
  timeouts?: LoaderTimeouts
}

export type TtlOrOptions = Duration | GetOrSetOptions

export interface CacheStatsFields {
  hits: number
  misses: number
  evictions: number
  expirations: number
  size: number
  maxsize: number
  /** Serialized storage: what the entries cost in native memory (keys, values and per-entry bookkeeping; what maxBytes bounds, docs/native-storage.md). */
  bytes?: number
  /** Serialized storage: bytes its arena holds from the allocator (pages in use, free space included, and large values). */
  arenaBytes?: number
  /** Serialized storage: share of the arena's page bytes not holding a value (0..1; compaction keeps it near 1/8 at most). */
  fragmentation?: number
}

/**
 * A snapshot of a cache's counters. A lookup is a hit when the caller got a value (a
 * stale-while-revalidate entry past its ttl is a miss for get(), and a hit for a getOrSet that
 * serves it stale); `evictions` counts capacity evictions only.
 */
export class CacheStats implements CacheStatsFields {
  hits: number
  misses: number
  evictions: number
  expirations: number
  size: number
  maxsize: number
  /** Serialized storage: what the entries cost in native memory (keys, values and per-entry bookkeeping; what maxBytes bounds, docs/native-storage.md). */
  bytes?: number
  arenaBytes?: number
  fragmentation?: number
  constructor(fields: CacheStatsFields) {
    this.hits = fields.hits
    this.misses = fields.misses
    this.evictions = fields.evictions
    this.expirations = fields.expirations
    this.size = fields.size
    this.maxsize = fields.maxsize
    if (fields.bytes !== undefined) this.bytes = fields.bytes
    if (fields.arenaBytes !== undefined) this.arenaBytes = fields.arenaBytes
    if (fields.fragmentation !== undefined) this.fragmentation = fields.fragmentation
  }
  /** hits / (hits + misses); 0 when nothing was looked up. */
  hitRate(): number {
    const lookups = this.hits + this.misses
    return lookups === 0 ? 0 : this.hits / lookups
  }
}
