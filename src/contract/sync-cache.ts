import type { Duration } from '../duration'

/**
 * The synchronous face of a memory cache (`cache.sync`), for hot code that cannot await:
 * the same keys, values, TTLs, validation, counters, metrics, engine and storage as the
 * cache's async methods, answered at once. Bad input and use after close() throw (the async
 * methods reject with the same errors).
 */
export interface SyncCache<V = unknown> {
  /** The value, or undefined when absent or expired; a hit or miss, like `await cache.get(key)`. */
  get(key: string): V | undefined
  /** ttl in seconds or a duration string; omitted: the cache's defaultTtl; 0 or Infinity: never expires. */
  set(key: string, value: V, ttl?: Duration): void
  /** A live entry exists: no hit or miss counted, recency unchanged. */
  has(key: string): boolean
  /** The value without counting a hit or miss or refreshing its recency (lru-cache's peek). */
  peek(key: string): V | undefined
  /** true when a live entry was removed (the async API's invalidate). */
  delete(key: string): boolean
}
