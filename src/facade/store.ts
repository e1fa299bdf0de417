/**
 * What a backend implements under the facade (cache-facade.ts): raw operations on keys and
 * TTLs the facade has already validated. TTLs are milliseconds, 0 = never expires. Values are
 * stored and returned as given: stale-while-revalidate envelopes pass through untouched (the
 * facade wraps and unwraps them). A store counts no hits or misses unless it says so
 * (`countsLookups`), emits no events of its own and never sees a closed cache: the facade
 * checks all of that once, for every backend.
 *
 * A store whose `traits.sync` is true answers every method synchronously (the memory store),
 * so the facade wraps its answers in promises itself; otherwise every method returns a promise.
 */
import type { CacheStatsFields } from '../contract/cache'
import type { ReadFailure } from '../contract/capabilities'
import type { CacheOp } from '../contract/metrics'

export type MaybePromise<T> = T | Promise<T>

export interface StoreTraits {
  /** Every method answers synchronously (never a promise). */
  readonly sync: boolean
  /** The store counts its own lookups (hits/misses in stats()), e.g. a memory engine shared by threads. */
  readonly countsLookups: boolean
  /** Other processes may write stale-while-revalidate envelopes here, so every read is checked for one. */
  readonly sharedEnvelopes: boolean
  /** Keys must be well-formed UTF-16 (the backend stores UTF-8, where a lone surrogate would collide). */
  readonly wellFormedKeys: boolean
  /** Nothing is ever kept (NullCache): getOrSet runs its loader every time, uncoalesced. */
  readonly keepsNothing?: boolean
}

/**
 * A store's counters: the cache's stats without hits and misses, which only a store that
 * countsLookups reports (the facade counts them otherwise). maxsize 0: unknown (Redis).
 */
export type StoreStats = Omit<CacheStatsFields, 'hits' | 'misses'> & Partial<Pick<CacheStatsFields, 'hits' | 'misses'>>

export type { ReadFailure }

/**
 * Why the facade writes: undefined for a caller's set(); 'fill' for a value getOrSet/cached()
 * loaded after a miss (a read, not an update); 'fill-after-failure' when that miss was the
 * backend failing, so the write should not wait on the backend again.
 */
export type WriteOrigin = 'fill' | 'fill-after-failure'

/** What the facade gives a store to report through: its error counter and its events. */
export interface StoreOwner {
  readonly name: string
  /** Counts a failed operation (errorCounts(), cache_errors_total) without emitting it. */
  countError(op: CacheOp | string): void
  /** Emits an 'error' event (one process warning when nobody listens); counted under `op` when given. */
  reportError(error: unknown, op?: CacheOp | string): void
  /** Backend-specific events ('breaker', 'invalidationDropped', 'resync', ...). */
  emit(event: string, ...args: unknown[]): boolean
  /**
   * Another writer changed `keys` (undefined: everything) behind this cache's back, e.g. a
   * TieredCache's invalidation message: loads of them running now must not store their result.
   */
  supersede(keys: readonly string[] | undefined): void
}

interface StoreBase {
  readonly traits: StoreTraits
  stats(): StoreStats
  /** Set when stats() are counters shared with other stores (a shared() memory cache): equal for all of them. */
  readonly countersId?: string
  close(): MaybePromise<void>
  /** Called once by the facade that serves this store, before any other call. */
  attach?(owner: StoreOwner): void
}

/**
 * The operations, answered as `R<T>`: T itself for a synchronous store, Promise<T> otherwise.
 * (Hits, misses and envelopes are the facade's business; see the top of this file.)
 */
interface StoreOperations<V, Sync extends boolean> {
  /** The stored value (envelopes included), or undefined. */
  get(key: string, failure?: ReadFailure): Answer<Sync, unknown>
  /** One value (or undefined) per key, in order, as get() would give each. */
  getMany(keys: readonly string[]): Answer<Sync, unknown[]>
  set(key: string, value: unknown, ttlMs: number, origin?: WriteOrigin): Answer<Sync, void>
  /** Exactly set(entries[i][0], entries[i][1], ttlsMs[i]) for each i (entries[i][2] is ignored); all-or-nothing where the backend can. */
  setMany(entries: readonly (readonly [string, V, ...unknown[]])[], ttlsMs: readonly number[]): Answer<Sync, void>
  /** true when a live entry was removed. */
  delete(key: string): Answer<Sync, boolean>
  /** A live entry exists (no counters, no recency change). */
  has(key: string): Answer<Sync, boolean>
  clear(): Answer<Sync, void>
}

type Answer<Sync extends boolean, T> = Sync extends true ? T : Promise<T>

/** A store that answers at once (traits.sync true): the memory engine. */
export interface SyncStore<V = unknown> extends StoreBase, StoreOperations<V, true> {
  /**
   * Optional: what answers this store's get itself (the memory store's engine), which the
   * facade's read paths then call directly, one call fewer. Default: the store.
   */
  readonly reader?: DirectReads
  /** The stored value (envelopes included) of a live entry, without counters or recency change (the sync face's peek). */
  peek(key: string): unknown
}

/** What a synchronous store's reader answers, exactly as the store's get would. */
export interface DirectReads {
  get(key: string): unknown
}

/** A store that answers with promises (traits.sync false). */
export interface AsyncStore<V = unknown> extends StoreBase, StoreOperations<V, false> {
  /**
   * get() with `map` applied to the stored value inside the store's own promise chain, which
   * saves the facade a promise per read (RedisStore's hot path). Optional: without it the facade
   * maps get()'s answer itself.
   */
  getThen?<R>(key: string, map: (raw: unknown) => R, failure?: ReadFailure): Promise<R>
}

export type Store<V = unknown> = SyncStore<V> | AsyncStore<V>

const DETACHED: StoreOwner = Object.freeze({
  name: '(detached store)',
  countError: () => {},
  reportError: () => {},
  emit: () => false,
  supersede: () => {},
})

/** A store's way to its facade's error channel and events, usable before the facade attached. */
export class StoreLink {
  owner: StoreOwner = DETACHED

  attach(owner: StoreOwner): void {
    this.owner = owner
  }
}
