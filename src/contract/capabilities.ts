/**
 * Optional abilities a cache may offer beyond the Cache contract, under well-known symbols
 * (Symbol.for, so two copies of the package agree). Every built-in cache has the raw reads;
 * code that takes any Cache checks for them and falls back to the contract.
 */

/**
 * The stored value, stale-while-revalidate envelopes included (cacheStore and cached() read
 * through it). An optional ReadFailure is marked when the backend could not be read.
 */
export const rawGet: unique symbol = Symbol.for('astra-cache.rawGet')

/** Likewise for getMany (TieredCache fills its L1 with the envelopes its L2 holds). */
export const rawGetMany: unique symbol = Symbol.for('astra-cache.rawGetMany')

/**
 * A synchronous read, for caches that answer at once (the memory cache): `(key, raw) => value`,
 * `raw` true as rawGet (envelopes as stored), false as get (unwrapped); counted as those are.
 * Throws where they would reject (a bad key, a closed cache). cached() reads through it, so a
 * hit costs no promise until the decorated function's own.
 */
export const readNow: unique symbol = Symbol.for('astra-cache.readNow')

export type ReadNow = (key: string, raw: boolean) => unknown

/**
 * Called by a TieredCache on its L2: the tier's L1 now covers outages, so a RedisCache stops
 * keeping the memory fallback it builds by default (one memory cache per tiered cache).
 */
export const joinTier: unique symbol = Symbol.for('astra-cache.joinTier')

/**
 * Stores a value that a read-through (getOrSet, cached(), a tier's fill) loaded after a miss:
 * `(key, value, ttlSeconds | undefined, afterFailure) => Promise<void>`. A loaded value is a
 * read, not an update, so a cache that cannot reach its backend keeps it aside without marking
 * the key for removal there; `afterFailure` says the lookup just saw the backend fail, so the
 * write does not try the backend again. Rejects as set() would (bad input, failOpen false).
 */
export const writeLoaded: unique symbol = Symbol.for('astra-cache.writeLoaded')

/**
 * The cache's FillTickets (facade/fill-tickets.ts): cached() takes one per load, so a set or
 * invalidate of the key during the load keeps its older result out of the cache.
 */
export const fillTickets: unique symbol = Symbol.for('astra-cache.fillTickets')

/**
 * A getter: how many failures the cache has counted so far (the total of its errorCounts()).
 * cached() reads it around a lookup: a cache that answered (failOpen) may still have seen its
 * backend fail, and then the call does not wait for a write to the same backend.
 */
export const failureCount: unique symbol = Symbol.for('astra-cache.failureCount')

/**
 * A getter: the cache's `timeouts` option as `{ softMs, hardMs }` (Infinity = none), always the
 * same object. cached() applies it to a function whose options give no `timeouts`.
 */
export const loaderTimeouts: unique symbol = Symbol.for('astra-cache.loaderTimeouts')

/**
 * A shared() memory cache's watcher lease (crates/core/src/machine/watch.rs; a thread-shared
 * cache keeps its leases in process memory, crates/node/src/named.rs), used by a TieredCache
 * whose L1 it is: `(op, topic) => number | undefined`. 'start' answers how many other
 * instances subscribed to `topic` vouch that the shared L1 is in step (0: clear it); 'beat'
 * renews the lease, 'stop' gives it up (the subscription was lost). undefined: the cache is
 * not shared (every instance then clears its own L1 on (re)subscription).
 */
export const watchShared: unique symbol = Symbol.for('astra-cache.watchShared')

export type WatchShared = (op: 'start' | 'beat' | 'stop', topic: string) => number | undefined

/**
 * What is left of each key's TTL where the cache stores it: `(keys) => Promise<(ms | undefined)[]>`,
 * 0 for no expiry, undefined when unknown (absent, or the backend could not be asked). A
 * TieredCache asks its L2 with each read, so an L1 copy ends when the L2 entry does.
 */
export const remainingTtl: unique symbol = Symbol.for('astra-cache.remainingTtl')

export type RemainingTtl = (keys: readonly string[]) => Promise<(number | undefined)[]>

/** A watcher lease counts while renewed within this; a TieredCache renews it every third of it. */
export const WATCH_LEASE_MS = 3000

export interface RawReads {
  [rawGet](key: string, failure?: ReadFailure): Promise<unknown>
  [rawGetMany](keys: readonly string[]): Promise<unknown[]>
}

export type WriteLoaded = (key: string, value: unknown, ttlSeconds: number | undefined, afterFailure: boolean) => Promise<void>

/** Set by a read when the backend could not be read (the answer came from a fallback, or is a miss). */
export interface ReadFailure {
  failed: boolean
}

export type RawRead = (key: string, failure?: ReadFailure) => Promise<unknown>
export type RawReadMany = (keys: readonly string[]) => Promise<unknown[]>

/** `cache`'s raw read when it has one, else its get (which unwraps, and tells no failure). */
export function rawReader(cache: { get(key: string): Promise<unknown> }): RawRead {
  const raw = (cache as { [rawGet]?: RawRead })[rawGet]
  return raw ? (key, failure) => raw.call(cache, key, failure) : (key) => cache.get(key)
}

/** How to store a loaded value in `cache`: its writeLoaded when it has one, else its set. */
export function loadedWriter(cache: { set(key: string, value: never, ttl?: number): Promise<void> }): WriteLoaded {
  const write = (cache as { [writeLoaded]?: WriteLoaded })[writeLoaded]
  return write ? (key, value, ttl, afterFailure) => write.call(cache, key, value, ttl, afterFailure) : (key, value, ttl) => cache.set(key, value as never, ttl)
}

/** `cache`'s raw getMany when it has one, else its getMany. */
export function rawManyReader(cache: { getMany(keys: readonly string[]): Promise<unknown[]> }): RawReadMany {
  const raw = (cache as { [rawGetMany]?: RawReadMany })[rawGetMany]
  return raw ? (keys) => raw.call(cache, keys) : (keys) => cache.getMany(keys)
}

/** Methods every Cache has; a value with them is accepted where a Cache is expected. */
export const CACHE_METHODS = ['get', 'set', 'invalidate', 'clear', 'close', 'getMany', 'setMany', 'has', 'stats', 'getOrSet'] as const

/** What the decorators and the default cache need of a cache: a value with these is taken for one. */
export const DECORATOR_CACHE_METHODS = ['get', 'set', 'invalidate'] as const

/** True when `value` is an object with each of `methods` (the contract's methods by default). */
export function hasMethods(value: unknown, methods: readonly string[] = CACHE_METHODS): boolean {
  if (value === null || typeof value !== 'object') return false
  const candidate = value as Record<string, unknown>
  return methods.every((m) => typeof candidate[m] === 'function')
}
