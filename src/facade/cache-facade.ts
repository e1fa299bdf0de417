/**
 * The one implementation of the Cache contract, over any Store (store.ts). Every backend
 * (InMemoryLRUCache, RedisCache, TieredCache, NullCache) is this class over its own store, so
 * what follows is decided here and only here:
 *
 * - validation and coded errors (keys, values, TTLs, batches, loaders), and the closed state;
 * - getOrSet: single-flight, stale-while-revalidate and grace (read-through.ts), the loaded
 *   value written off the caller's path;
 * - what a hit is: the caller got a value (an envelope past its ttl is a miss for get());
 *   counted here unless the store counts its own lookups;
 * - metrics: attach/detach, one latency sample per public call (latency-sampler.ts);
 * - errors: counted per operation, emitted as 'error' (one process warning when nobody listens).
 *
 * A synchronous store (the memory engine) is answered without any promise of the store's: the
 * async method's own promise is the only one (no closure, no await on the hit path).
 */
import { EventEmitter } from 'node:events'
import { CacheStats, type Cache, type Loader, type TtlOrOptions } from '../contract/cache'
import { failureCount, rawGet, rawGetMany, type RawReads } from '../contract/capabilities'
import type { MetricsSink, MetricsSource } from '../contract/metrics'
import { CacheClosedError } from '../errors'
import { checkEntries, checkKey, checkKeys, checkLoader, checkValue, checkWellFormed, ttlToMs } from '../validate'
import { isEnvelope } from './envelope'
import { resolveGetOrSetOptions } from './get-or-set-options'
import { LatencySampler, OP, type OpIndex } from './latency-sampler'
import { ReadThrough, type LoadStore } from './read-through'
import type { AsyncStore, Store, StoreOwner, SyncStore, WriteOrigin } from './store'

export interface FacadeSettings {
  name: string
  /** TTL of a set() without one, ms (0 = never expires). */
  defaultTtlMs: number
  /** ms clock of stale-while-revalidate envelopes. */
  clock: () => number
  metricsSink?: MetricsSink
  /** Code of the process warning printed for the first error nobody listens to. */
  warningCode: string
}

// Module-level copies: a cross-module constant read on every call is a property load (a getter call under some loaders).
const { get: GET, set: SET, invalidate: INVALIDATE, clear: CLEAR, has: HAS, getMany: GET_MANY, setMany: SET_MANY, getOrSet: GET_OR_SET } = OP

export abstract class CacheFacade<V = unknown> extends EventEmitter implements Cache<V>, MetricsSource, RawReads {
  readonly name: string
  /** The store this cache serves (its backend). */
  protected readonly store: Store<V>
  private readonly sync: boolean
  private readonly countsLookups: boolean
  private readonly wellFormedKeys: boolean
  private readonly keepsNothing: boolean
  /** Reads are checked for envelopes: the store is shared with other writers, or this cache wrote one. */
  private unwrapReads: boolean
  /** A read's value goes to the caller as the store gave it (no envelope check, nothing to count here). */
  private passThrough: boolean
  private closed = false
  private readonly defaultTtlMs: number
  private readonly clock: () => number
  private readonly sink: MetricsSink | undefined
  private readonly sampler: LatencySampler
  /** Some operations are timed (a sink that observes latency): else the hot path skips the sampler. */
  private readonly timing: boolean
  private readonly warningCode: string
  private hits = 0
  private misses = 0
  /** Lookups a counting store took for hits that were misses for the caller (stale envelopes). */
  private demoted = 0
  private readonly errors: Record<string, number> = Object.create(null)
  private failures = 0
  private warned = false
  private readThrough: ReadThrough<V> | undefined
  private loadStore: LoadStore | undefined

  protected constructor(store: Store<V>, settings: FacadeSettings) {
    super()
    this.name = settings.name
    this.store = store
    const traits = store.traits
    this.sync = traits.sync
    this.countsLookups = traits.countsLookups
    this.wellFormedKeys = traits.wellFormedKeys
    this.keepsNothing = traits.keepsNothing === true
    this.unwrapReads = traits.sharedEnvelopes
    this.passThrough = this.countsLookups && !this.unwrapReads
    this.defaultTtlMs = settings.defaultTtlMs
    this.clock = settings.clock
    this.sink = settings.metricsSink
    this.sampler = new LatencySampler(this.sink, this.name)
    this.timing = this.sampler.every !== 0
    this.warningCode = settings.warningCode
    store.attach?.(this.owner())
    this.sink?.attach(this)
  }

  // Each operation answers a synchronous store in the async method itself, with no await in
  // it (a method that may suspend is slower even when it does not), and an asynchronous store
  // in a helper that awaits it.

  async get(key: string): Promise<V | undefined> {
    this.checkKey(key)
    if (this.sync) return this.getNow(key)
    return this.getLater(key, this.start(GET))
  }

  async set(key: string, value: V, ttl?: number): Promise<void> {
    this.checkKey(key)
    checkValue(value)
    const ttlMs = ttl === undefined ? this.defaultTtlMs : ttlToMs(ttl)
    const started = this.start(SET)
    if (!this.sync) return this.settle(SET, started, (this.store as AsyncStore<V>).set(key, value, ttlMs))
    ;(this.store as SyncStore<V>).set(key, value, ttlMs)
    this.end(SET, started)
  }

  async invalidate(key: string): Promise<boolean> {
    this.checkKey(key)
    const started = this.start(INVALIDATE)
    if (!this.sync) return this.settle(INVALIDATE, started, (this.store as AsyncStore<V>).delete(key))
    const removed = (this.store as SyncStore<V>).delete(key)
    this.end(INVALIDATE, started)
    return removed
  }

  async has(key: string): Promise<boolean> {
    this.checkKey(key)
    const started = this.start(HAS)
    if (!this.sync) return this.settle(HAS, started, (this.store as AsyncStore<V>).has(key))
    const found = (this.store as SyncStore<V>).has(key)
    this.end(HAS, started)
    return found
  }

  async clear(): Promise<void> {
    this.assertOpen()
    const started = this.start(CLEAR)
    if (!this.sync) return this.settle(CLEAR, started, (this.store as AsyncStore<V>).clear())
    ;(this.store as SyncStore<V>).clear()
    this.end(CLEAR, started)
  }

  async getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    this.checkKeys(keys)
    if (keys.length === 0) return []
    const started = this.start(GET_MANY)
    if (!this.sync) return this.getManyLater(keys, started)
    // One store call (one N-API crossing per batch on the native engine), same counters and order as get() per key.
    const raws = (this.store as SyncStore<V>).getMany(keys)
    const values = this.passThrough ? (raws as (V | undefined)[]) : this.servedAll(raws)
    this.end(GET_MANY, started)
    return values
  }

  async setMany(entries: readonly (readonly [string, V, number?])[]): Promise<void> {
    this.assertOpen()
    // Every entry is checked before anything is stored: a bad entry stores nothing.
    const ttls = checkEntries(entries, this.defaultTtlMs)
    if (this.wellFormedKeys) for (const entry of entries) checkWellFormed(entry[0])
    if (ttls.length === 0) return
    const started = this.start(SET_MANY)
    if (!this.sync) return this.settle(SET_MANY, started, (this.store as AsyncStore<V>).setMany(entries, ttls))
    ;(this.store as SyncStore<V>).setMany(entries, ttls)
    this.end(SET_MANY, started)
  }

  /**
   * The cached value, or `load()`'s result stored with the ttl. Concurrent callers of one key in
   * this process share one lookup and one load (not a distributed lock). A rejection of `load`
   * propagates and is not cached; an `undefined` result is returned uncached. The caller gets
   * the loaded value at once: it is written in the background (failures: the 'error' event).
   *
   * `ttlOrOptions`: seconds, or { ttl, staleTtl, grace }: stale-while-revalidate and grace,
   * stored as an envelope that other processes read the same way (see envelope.ts).
   */
  async getOrSet(key: string, load: Loader<V>, ttlOrOptions?: TtlOrOptions): Promise<V> {
    this.checkKey(key)
    checkLoader(load)
    const options = resolveGetOrSetOptions(ttlOrOptions)
    if (this.keepsNothing) return load()
    if (options.swr && !this.unwrapReads) {
      // Only from now on can this cache hold envelopes: until then reads skip the check.
      this.unwrapReads = true
      this.passThrough = false
    }
    const started = this.start(GET_OR_SET)
    const result = this.reader().run(this.loader(), key, load, options, this.defaultTtlMs)
    if (started < 0) return result
    const value = await result
    this.end(GET_OR_SET, started)
    return value
  }

  /** The stored value, stale-while-revalidate envelopes included (cacheStore and cached() read through this); a found entry is a hit. */
  async [rawGet](key: string): Promise<unknown> {
    this.checkKey(key)
    const raw = this.sync ? (this.store as SyncStore<V>).get(key) : await (this.store as AsyncStore<V>).get(key)
    this.found(raw)
    return raw
  }

  /** getMany without envelope unwrapping (TieredCache fills its L1 with what its L2 holds). */
  async [rawGetMany](keys: readonly string[]): Promise<unknown[]> {
    this.checkKeys(keys)
    if (keys.length === 0) return []
    const raws = this.sync ? (this.store as SyncStore<V>).getMany(keys) : await (this.store as AsyncStore<V>).getMany(keys)
    for (const raw of raws) this.found(raw)
    return raws
  }

  stats(): CacheStats {
    this.assertOpen()
    const s = this.store.stats()
    const counted = this.countsLookups
    return new CacheStats({
      hits: counted ? (s.hits ?? 0) - this.demoted : this.hits,
      misses: counted ? (s.misses ?? 0) + this.demoted : this.misses,
      evictions: s.evictions,
      expirations: s.expirations,
      size: s.size,
      maxsize: s.maxsize,
      ...(s.bytes === undefined ? {} : { bytes: s.bytes }),
    })
  }

  /** Errors per operation (plus backend-specific ones, e.g. RedisCache's 'connection', 'replay'). */
  errorCounts(): Readonly<Record<string, number>> {
    return { ...this.errors }
  }

  /** The total of errorCounts() (see capabilities.ts). */
  get [failureCount](): number {
    return this.failures
  }

  async close(): Promise<void> {
    if (this.closed) return
    // Detach first: the sink reads the final stats() so no count is lost.
    this.sink?.detach?.(this)
    this.closed = true
    await this.store.close()
  }

  /** True once close() was called. */
  protected get isClosed(): boolean {
    return this.closed
  }

  /** Counts `op`'s failure (when given) and emits it as 'error'; without a listener, the first one is one process warning. */
  protected reportError(error: unknown, op?: string): void {
    if (op !== undefined) this.countError(op)
    const err = error instanceof Error ? error : new Error(String(error))
    if (this.listenerCount('error') > 0) {
      this.emit('error', err)
    } else if (!this.warned) {
      this.warned = true
      process.emitWarning(`${err.message} (further errors of cache "${this.name}" are only counted; listen to its 'error' event to see them)`, {
        type: `${this.constructor.name}Warning`,
        code: this.warningCode,
      })
    }
  }

  // ---- the parts every operation shares -------------------------------------------------------

  private countError(op: string): void {
    this.errors[op] = (this.errors[op] ?? 0) + 1
    this.failures++
  }

  private assertOpen(): void {
    if (this.closed) throw new CacheClosedError(this.name)
  }

  private checkKey(key: string): void {
    if (this.closed) throw new CacheClosedError(this.name)
    checkKey(key)
    if (this.wellFormedKeys) checkWellFormed(key)
  }

  private checkKeys(keys: readonly string[]): void {
    if (this.closed) throw new CacheClosedError(this.name)
    checkKeys(keys)
    if (this.wellFormedKeys) for (const key of keys) checkWellFormed(key)
  }

  /** performance.now() when this operation is to be timed, else -1. */
  private start(op: OpIndex): number {
    return this.timing ? this.sampler.start(op) : -1
  }

  private end(op: OpIndex, started: number): void {
    if (started >= 0) this.sampler.end(op, started)
  }

  /** get() on a synchronous store, answered now (key already checked). */
  private getNow(key: string): V | undefined {
    const started = this.start(GET)
    const raw = (this.store as SyncStore<V>).get(key)
    const value = this.passThrough ? (raw as V | undefined) : this.served(raw)
    this.end(GET, started)
    return value
  }

  private async getLater(key: string, started: number): Promise<V | undefined> {
    const value = this.served(await (this.store as AsyncStore<V>).get(key))
    this.end(GET, started)
    return value
  }

  private async getManyLater(keys: readonly string[], started: number): Promise<(V | undefined)[]> {
    const values = this.servedAll(await (this.store as AsyncStore<V>).getMany(keys))
    this.end(GET_MANY, started)
    return values
  }

  /** An asynchronous store's answer, timed. */
  private async settle<T>(op: OpIndex, started: number, answer: Promise<T>): Promise<T> {
    const value = await answer
    this.end(op, started)
    return value
  }

  /** What a plain read gives the caller for a stored value, counted as a hit or a miss. */
  private served(raw: unknown): V | undefined {
    const value = this.unwrapReads && isEnvelope(raw) ? (raw.f === 0 || this.clock() < raw.f ? (raw.v as V) : undefined) : (raw as V | undefined)
    if (this.countsLookups) {
      if (value === undefined && raw !== undefined) this.demoted++
    } else if (value === undefined) {
      this.misses++
    } else {
      this.hits++
    }
    return value
  }

  private servedAll(raws: unknown[]): (V | undefined)[] {
    for (let i = 0; i < raws.length; i++) raws[i] = this.served(raws[i])
    return raws as (V | undefined)[]
  }

  /** A raw read: an entry found is a hit. */
  private found(raw: unknown): void {
    if (this.countsLookups) return
    if (raw === undefined) this.misses++
    else this.hits++
  }

  private reader(): ReadThrough<V> {
    return (this.readThrough ??= new ReadThrough<V>({ clock: this.clock, onError: (error) => this.reportError(error) }))
  }

  /** getOrSet's view of the store: counted lookups, and writes that report instead of throwing. */
  private loader(): LoadStore {
    return (this.loadStore ??= {
      sync: this.sync,
      read: (key, failure) => this.store.get(key, failure),
      write: (key, value, ttlMs, origin) => this.fill(key, value, ttlMs ?? this.defaultTtlMs, origin),
      lookedUp: (found, hit) => {
        if (this.countsLookups) {
          if (found && !hit) this.demoted++
        } else if (hit) {
          this.hits++
        } else {
          this.misses++
        }
      },
    })
  }

  /** Writes a value getOrSet loaded; nobody awaits it, so a failure is reported, never thrown. */
  private fill(key: string, value: unknown, ttlMs: number, origin: WriteOrigin): Promise<void> | void {
    if (this.closed) return
    try {
      const written = this.store.set(key, value, ttlMs, origin)
      if (!this.sync) return (written as Promise<void>).catch((err: unknown) => this.reportError(err, 'set'))
    } catch (err) {
      this.reportError(err, 'set')
    }
  }

  private owner(): StoreOwner {
    return {
      name: this.name,
      countError: (op) => this.countError(op),
      reportError: (error, op) => this.reportError(error, op),
      emit: (event, ...args) => this.emit(event, ...args),
    }
  }
}
