/**
 * The one implementation of the Cache contract, over any Store (store.ts). Every backend
 * (InMemoryLRUCache, RedisCache, TieredCache, NullCache) is this class over its own store, so
 * what follows is decided here and only here:
 *
 * - validation and coded errors (keys, values, TTLs, batches, loaders), and the closed state;
 * - getOrSet: single-flight, stale-while-revalidate and grace (read-through.ts), the loaded
 *   value written off the caller's path;
 * - what a hit is (lookups.ts): the caller got a value; counted here unless the store counts its own;
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
import { resolveGetOrSetOptions } from './get-or-set-options'
import { LatencySampler, OP, type OpIndex } from './latency-sampler'
import { Lookups } from './lookups'
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
  private readonly wellFormedKeys: boolean
  private readonly keepsNothing: boolean
  private readonly lookups: Lookups<V>
  /** Copy of lookups.passThrough, read on the hot path. */
  private passThrough: boolean
  private closed = false
  private readonly defaultTtlMs: number
  private readonly clock: () => number
  private readonly sink: MetricsSink | undefined
  private readonly sampler: LatencySampler
  /** Some operations are timed (a sink that observes latency): else the hot path skips the sampler. */
  private readonly timing: boolean
  private readonly warningCode: string
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
    this.wellFormedKeys = traits.wellFormedKeys
    this.keepsNothing = traits.keepsNothing === true
    this.lookups = new Lookups<V>(traits.countsLookups, traits.sharedEnvelopes, settings.clock)
    this.passThrough = this.lookups.passThrough
    this.defaultTtlMs = settings.defaultTtlMs
    this.clock = settings.clock
    this.sink = settings.metricsSink
    this.sampler = new LatencySampler(this.sink, this.name)
    this.timing = this.sampler.every !== 0
    this.warningCode = settings.warningCode
    store.attach?.(this.owner())
    this.sink?.attach(this)
  }

  // Each operation answers a synchronous store through its `*Now` body, called from the async
  // method with no await in it (a method that may suspend is slower even when it does not), and
  // an asynchronous store in a helper that awaits it. The `*Now` bodies are what a synchronous
  // face of a synchronous store would call, after the same checks.

  async get(key: string): Promise<V | undefined> {
    this.checkKey(key)
    if (this.sync) return this.getNow(key)
    return this.getLater(key, this.start(GET))
  }

  async set(key: string, value: V, ttl?: number): Promise<void> {
    this.checkKey(key)
    checkValue(value)
    const ttlMs = ttl === undefined ? this.defaultTtlMs : ttlToMs(ttl)
    if (this.sync) return this.setNow(key, value, ttlMs)
    return this.settle(SET, this.start(SET), (this.store as AsyncStore<V>).set(key, value, ttlMs))
  }

  async invalidate(key: string): Promise<boolean> {
    this.checkKey(key)
    if (this.sync) return this.invalidateNow(key)
    return this.settle(INVALIDATE, this.start(INVALIDATE), (this.store as AsyncStore<V>).delete(key))
  }

  async has(key: string): Promise<boolean> {
    this.checkKey(key)
    if (this.sync) return this.hasNow(key)
    return this.settle(HAS, this.start(HAS), (this.store as AsyncStore<V>).has(key))
  }

  async clear(): Promise<void> {
    this.assertOpen()
    if (this.sync) return this.clearNow()
    return this.settle(CLEAR, this.start(CLEAR), (this.store as AsyncStore<V>).clear())
  }

  async getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    this.checkKeys(keys)
    if (keys.length === 0) return []
    if (this.sync) return this.getManyNow(keys)
    return this.getManyLater(keys, this.start(GET_MANY))
  }

  async setMany(entries: readonly (readonly [string, V, number?])[]): Promise<void> {
    const ttls = this.checkEntries(entries)
    if (ttls.length === 0) return
    if (this.sync) return this.setManyNow(entries, ttls)
    return this.settle(SET_MANY, this.start(SET_MANY), (this.store as AsyncStore<V>).setMany(entries, ttls))
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
    if (options.swr && !this.lookups.envelopes) {
      // Only from now on can this cache hold envelopes: until then reads skip the check.
      this.lookups.envelopes = true
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
    this.lookups.found(raw)
    return raw
  }

  /** getMany without envelope unwrapping (TieredCache fills its L1 with what its L2 holds). */
  async [rawGetMany](keys: readonly string[]): Promise<unknown[]> {
    this.checkKeys(keys)
    if (keys.length === 0) return []
    const raws = this.sync ? (this.store as SyncStore<V>).getMany(keys) : await (this.store as AsyncStore<V>).getMany(keys)
    for (const raw of raws) this.lookups.found(raw)
    return raws
  }

  stats(): CacheStats {
    this.assertOpen()
    const s = this.store.stats()
    const { hits, misses } = this.lookups.totals(s)
    return new CacheStats({
      hits,
      misses,
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

  /** Counts `op`'s failure (when given) and emits it as 'error'; without a listener, the first one is one process warning. */
  private reportError(error: unknown, op?: string): void {
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

  /** Every entry is checked before anything is stored (a bad entry stores nothing); returns the ttls in ms. */
  private checkEntries(entries: readonly (readonly [string, V, number?])[]): number[] {
    this.assertOpen()
    const ttls = checkEntries(entries, this.defaultTtlMs)
    if (this.wellFormedKeys) for (const entry of entries) checkWellFormed(entry[0])
    return ttls
  }

  /** performance.now() when this operation is to be timed, else -1. */
  private start(op: OpIndex): number {
    return this.timing ? this.sampler.start(op) : -1
  }

  private end(op: OpIndex, started: number): void {
    if (started >= 0) this.sampler.end(op, started)
  }

  // ---- a synchronous store, answered now (arguments already checked) ---------------------------

  private getNow(key: string): V | undefined {
    const started = this.start(GET)
    const raw = (this.store as SyncStore<V>).get(key)
    const value = this.passThrough ? (raw as V | undefined) : this.lookups.served(raw)
    this.end(GET, started)
    return value
  }

  private setNow(key: string, value: V, ttlMs: number): void {
    const started = this.start(SET)
    ;(this.store as SyncStore<V>).set(key, value, ttlMs)
    this.end(SET, started)
  }

  private invalidateNow(key: string): boolean {
    const started = this.start(INVALIDATE)
    const removed = (this.store as SyncStore<V>).delete(key)
    this.end(INVALIDATE, started)
    return removed
  }

  private hasNow(key: string): boolean {
    const started = this.start(HAS)
    const found = (this.store as SyncStore<V>).has(key)
    this.end(HAS, started)
    return found
  }

  private clearNow(): void {
    const started = this.start(CLEAR)
    ;(this.store as SyncStore<V>).clear()
    this.end(CLEAR, started)
  }

  /** One store call (one N-API crossing per batch on the native engine), same counters and order as get() per key. */
  private getManyNow(keys: readonly string[]): (V | undefined)[] {
    const started = this.start(GET_MANY)
    const raws = (this.store as SyncStore<V>).getMany(keys)
    const values = this.passThrough ? (raws as (V | undefined)[]) : this.lookups.servedAll(raws)
    this.end(GET_MANY, started)
    return values
  }

  private setManyNow(entries: readonly (readonly [string, V, number?])[], ttls: readonly number[]): void {
    const started = this.start(SET_MANY)
    ;(this.store as SyncStore<V>).setMany(entries, ttls)
    this.end(SET_MANY, started)
  }

  // ---- an asynchronous store ------------------------------------------------------------------

  private async getLater(key: string, started: number): Promise<V | undefined> {
    const value = this.lookups.served(await (this.store as AsyncStore<V>).get(key))
    this.end(GET, started)
    return value
  }

  private async getManyLater(keys: readonly string[], started: number): Promise<(V | undefined)[]> {
    const values = this.lookups.servedAll(await (this.store as AsyncStore<V>).getMany(keys))
    this.end(GET_MANY, started)
    return values
  }

  /** An asynchronous store's answer, timed. */
  private async settle<T>(op: OpIndex, started: number, answer: Promise<T>): Promise<T> {
    const value = await answer
    this.end(op, started)
    return value
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
      lookedUp: (found, hit) => this.lookups.judged(found, hit),
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
