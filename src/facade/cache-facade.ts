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
 * facade adds the one promise the async contract needs (no closure, no await on the hit path).
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

/** What the void operations of a synchronous store resolve with (one shared, already resolved promise). */
const DONE: Promise<void> = Promise.resolve()

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
    this.warningCode = settings.warningCode
    store.attach?.(this.owner())
    this.sink?.attach(this)
  }

  get(key: string): Promise<V | undefined> {
    try {
      this.checkKey(key)
      if (this.sync) return Promise.resolve(this.getNow(key))
      const started = this.sampler.start(OP.get)
      return (this.store as AsyncStore<V>).get(key).then((raw) => {
        const value = this.served(raw)
        this.sampler.end(OP.get, started)
        return value
      })
    } catch (err) {
      return Promise.reject(err)
    }
  }

  set(key: string, value: V, ttl?: number): Promise<void> {
    try {
      this.checkKey(key)
      checkValue(value)
      const ttlMs = ttl === undefined ? this.defaultTtlMs : ttlToMs(ttl)
      const started = this.sampler.start(OP.set)
      if (this.sync) {
        ;(this.store as SyncStore<V>).set(key, value, ttlMs)
        this.sampler.end(OP.set, started)
        return DONE
      }
      return this.timed(OP.set, started, (this.store as AsyncStore<V>).set(key, value, ttlMs))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  invalidate(key: string): Promise<boolean> {
    try {
      this.checkKey(key)
      return this.answer(OP.invalidate, this.sampler.start(OP.invalidate), this.store.delete(key))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  has(key: string): Promise<boolean> {
    try {
      this.checkKey(key)
      return this.answer(OP.has, this.sampler.start(OP.has), this.store.has(key))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  clear(): Promise<void> {
    try {
      this.assertOpen()
      const started = this.sampler.start(OP.clear)
      const cleared = this.store.clear()
      if (this.sync) {
        this.sampler.end(OP.clear, started)
        return DONE
      }
      return this.timed(OP.clear, started, cleared as Promise<void>)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    try {
      this.checkKeys(keys)
      if (keys.length === 0) return Promise.resolve([])
      const started = this.sampler.start(OP.getMany)
      if (this.sync) {
        // One engine call (one N-API crossing per batch on the native engine), same counters and order as get() per key.
        const raws = (this.store as SyncStore<V>).getMany(keys)
        const values = this.passThrough ? (raws as (V | undefined)[]) : this.servedAll(raws)
        this.sampler.end(OP.getMany, started)
        return Promise.resolve(values)
      }
      return (this.store as AsyncStore<V>).getMany(keys).then((raws) => {
        const values = this.servedAll(raws)
        this.sampler.end(OP.getMany, started)
        return values
      })
    } catch (err) {
      return Promise.reject(err)
    }
  }

  setMany(entries: readonly (readonly [string, V, number?])[]): Promise<void> {
    try {
      this.assertOpen()
      // Every entry is checked before anything is stored: a bad entry stores nothing.
      const ttls = checkEntries(entries, this.defaultTtlMs)
      if (this.wellFormedKeys) for (const entry of entries) checkWellFormed(entry[0])
      if (ttls.length === 0) return DONE
      const started = this.sampler.start(OP.setMany)
      const written = this.store.setMany(entries, ttls)
      if (this.sync) {
        this.sampler.end(OP.setMany, started)
        return DONE
      }
      return this.timed(OP.setMany, started, written as Promise<void>)
    } catch (err) {
      return Promise.reject(err)
    }
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
  getOrSet(key: string, load: Loader<V>, ttlOrOptions?: TtlOrOptions): Promise<V> {
    try {
      this.checkKey(key)
      checkLoader(load)
      const options = resolveGetOrSetOptions(ttlOrOptions)
      if (this.keepsNothing) return Promise.resolve(load())
      if (options.swr && !this.unwrapReads) {
        // Only from now on can this cache hold envelopes: until then reads skip the check.
        this.unwrapReads = true
        this.passThrough = false
      }
      const started = this.sampler.start(OP.getOrSet)
      const value = Promise.resolve(this.reader().run(this.loader(), key, load, options, this.defaultTtlMs))
      if (started < 0) return value
      return value.then((v) => {
        this.sampler.end(OP.getOrSet, started)
        return v
      })
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** The stored value, stale-while-revalidate envelopes included (cacheStore and cached() read through this); a found entry is a hit. */
  [rawGet](key: string): Promise<unknown> {
    try {
      this.checkKey(key)
      const started = this.sampler.start(OP.get)
      if (this.sync) {
        const raw = (this.store as SyncStore<V>).get(key)
        this.found(raw)
        this.sampler.end(OP.get, started)
        return Promise.resolve(raw)
      }
      return (this.store as AsyncStore<V>).get(key).then((raw) => {
        this.found(raw)
        this.sampler.end(OP.get, started)
        return raw
      })
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** getMany without envelope unwrapping (TieredCache fills its L1 with what its L2 holds). */
  [rawGetMany](keys: readonly string[]): Promise<unknown[]> {
    try {
      this.checkKeys(keys)
      if (keys.length === 0) return Promise.resolve([])
      const raws = this.store.getMany(keys)
      if (this.sync) {
        for (const raw of raws as unknown[]) this.found(raw)
        return Promise.resolve(raws as unknown[])
      }
      return (raws as Promise<unknown[]>).then((values) => {
        for (const raw of values) this.found(raw)
        return values
      })
    } catch (err) {
      return Promise.reject(err)
    }
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

  /** get() on a synchronous store, answered now (key already checked). */
  private getNow(key: string): V | undefined {
    const started = this.sampler.start(OP.get)
    const raw = (this.store as SyncStore<V>).get(key)
    const value = this.passThrough ? (raw as V | undefined) : this.served(raw)
    if (started >= 0) this.sampler.end(OP.get, started)
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

  /** A store's answer to a lookup-free operation (invalidate, has), as a promise, timed. */
  private answer<T>(op: OpIndex, started: number, answer: T | Promise<T>): Promise<T> {
    if (this.sync) {
      this.sampler.end(op, started)
      return Promise.resolve(answer as T)
    }
    return this.timed(op, started, answer as Promise<T>)
  }

  private timed<T>(op: OpIndex, started: number, promise: Promise<T>): Promise<T> {
    if (started < 0) return promise
    return promise.then((value) => {
      this.sampler.end(op, started)
      return value
    })
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
