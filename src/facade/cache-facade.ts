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
 * The operations themselves are written for the two kinds of store: SyncStoreFacade answers a
 * synchronous store (the memory engine) in async methods that never suspend, so the hit path is
 * one promise and no closure; AsyncStoreFacade chains on an asynchronous store's promise (Redis,
 * tiers) without async layers of its own. Both go through the checks, counting and timing here.
 */
import type { Duration } from '../duration'
import { EventEmitter } from 'node:events'
import { CacheStats, type Cache, type Loader, type TtlOrOptions } from '../contract/cache'
import { failureCount, fillTickets, loaderTimeouts, rawGet, rawGetMany, writeLoaded, type RawReads, type ReadFailure } from '../contract/capabilities'
import type { MetricsSink, MetricsSource, SharedStats } from '../contract/metrics'
import { CacheClosedError } from '../errors'
import { checkEntries, checkKey, checkKeys, checkLoader, checkValue, ttlToMs } from '../validate'
import { NO_TIMEOUTS, resolveGetOrSetOptions, type ResolvedGetOrSetOptions, type ResolvedTimeouts } from './get-or-set-options'
import { LoaderRun } from './loader-context'
import { realTimers, type LoaderTimers } from './loader-timers'
import { LatencySampler, OP, type OpIndex } from './latency-sampler'
import { Lookups } from './lookups'
import { FillTickets } from './fill-tickets'
import { ReadThrough, type LoadStore } from './read-through'
import type { Store, StoreOwner, WriteOrigin } from './store'

export interface FacadeSettings {
  name: string
  /** TTL of a set() without one, ms (0 = never expires). */
  defaultTtlMs: number
  /** ms clock of stale-while-revalidate envelopes. */
  clock: () => number
  metricsSink?: MetricsSink
  /** Code of the process warning printed for the first error nobody listens to. */
  warningCode: string
  /** The cache's `timeouts` option: the loader timeouts of a getOrSet that gives none. */
  timeouts?: ResolvedTimeouts
  /** Timers of the loader timeouts (tests inject fake ones); default: real, unref'd. */
  timers?: LoaderTimers
}

const GET_OR_SET = OP.getOrSet
// A module-level copy: every keyed call checks its key, and a cross-module function read per call is a
// getter call under loaders that compile ES modules to CommonJS (tsx, esbuild).
const validKey: typeof checkKey = checkKey

export abstract class CacheFacade<V = unknown> extends EventEmitter implements Cache<V>, MetricsSource, RawReads {
  readonly name: string
  /** The store this cache serves (its backend). */
  protected readonly store: Store<V>
  private readonly answersAtOnce: boolean
  private readonly wellFormedKeys: boolean
  private readonly keepsNothing: boolean
  protected readonly lookups: Lookups<V>
  /** Copy of lookups.passThrough, read on the hot path. */
  protected passThrough: boolean
  private closed = false
  protected readonly defaultTtlMs: number
  private readonly clock: () => number
  private readonly sink: MetricsSink | undefined
  private readonly sampler: LatencySampler
  /** Some operations are timed (a sink that observes latency): else the hot path skips the sampler. */
  protected readonly timing: boolean
  private readonly warningCode: string
  private readonly errors: Record<string, number> = Object.create(null)
  private failures = 0
  private warned = false
  private readThrough: ReadThrough<V> | undefined
  /** Loads in flight per key, so a write of the key meanwhile keeps their older result out (fill-tickets.ts). */
  protected readonly fills = new FillTickets()
  private loadStore: LoadStore | undefined
  private readonly timeouts: ResolvedTimeouts
  private readonly timers: LoaderTimers
  /** getOrSet's options when the call gives none (the cache's timeouts included), resolved once. */
  private readonly plainOptions: ResolvedGetOrSetOptions

  protected constructor(store: Store<V>, settings: FacadeSettings) {
    super()
    this.name = settings.name
    this.store = store
    const traits = store.traits
    this.answersAtOnce = traits.sync
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
    this.timeouts = settings.timeouts ?? NO_TIMEOUTS
    this.timers = settings.timers ?? realTimers
    this.plainOptions = Object.freeze(resolveGetOrSetOptions(undefined, 'getOrSet', this.timeouts))
    store.attach?.(this.owner())
    this.sink?.attach(this)
  }

  // The operations, answered by the subclass for its kind of store (sync-store-facade.ts,
  // async-store-facade.ts) through the checks, counting and timing of this class.
  abstract get(key: string): Promise<V | undefined>
  abstract set(key: string, value: V, ttl?: Duration): Promise<void>
  abstract invalidate(key: string): Promise<boolean>
  abstract has(key: string): Promise<boolean>
  abstract clear(): Promise<void>
  abstract getMany(keys: readonly string[]): Promise<(V | undefined)[]>
  abstract setMany(entries: readonly (readonly [string, V, Duration?])[]): Promise<void>

  /**
   * The cached value, or `load()`'s result stored with the ttl. Concurrent callers of one key in
   * this process share one lookup and one load (not a distributed lock). A rejection of `load`
   * propagates and is not cached; an `undefined` result is returned uncached. The caller gets
   * the loaded value at once: it is written in the background (failures: the 'error' event).
   *
   * `ttlOrOptions`: seconds, or { ttl, staleTtl, grace, timeouts }: stale-while-revalidate and
   * grace, stored as an envelope that other processes read the same way (see envelope.ts), and
   * the loader's soft and hard timeouts (the cache's `timeouts` for those omitted).
   */
  async getOrSet(key: string, load: Loader<V>, ttlOrOptions?: TtlOrOptions): Promise<V> {
    this.checkKey(key)
    checkLoader(load)
    const options = ttlOrOptions === undefined ? this.plainOptions : resolveGetOrSetOptions(ttlOrOptions, 'getOrSet', this.timeouts)
    // Nothing is kept: every call runs its own load (its hard timeout still bounds the wait).
    if (this.keepsNothing) return new LoaderRun<V>(undefined, false, options, this.timers).start(load, key, options.hardMs)
    if (options.swr && !this.lookups.envelopes) {
      // Only from now on can this cache hold envelopes: until then reads skip the check.
      this.lookups.envelopes = true
      this.passThrough = false
    }
    const started = this.start(GET_OR_SET)
    const result = this.reader().run(this.loader(), key, load, options, this.defaultTtlMs)
    // No await here: a memory hit is answered without this method ever suspending.
    return started < 0 ? result : this.timedGetOrSet(result, started)
  }

  private async timedGetOrSet(result: Promise<V> | V, started: number): Promise<V> {
    const value = await result
    this.end(GET_OR_SET, started)
    return value
  }

  /** The stored value, stale-while-revalidate envelopes included (cacheStore and cached() read through this); a found entry is a hit. */
  abstract [rawGet](key: string, failure?: ReadFailure): Promise<unknown>
  /** getMany without envelope unwrapping (TieredCache fills its L1 with what its L2 holds). */
  abstract [rawGetMany](keys: readonly string[]): Promise<unknown[]>

  /** cached()'s loads take their tickets here, as getOrSet's do. */
  get [fillTickets](): FillTickets {
    return this.fills
  }

  /**
   * Stores a value a read-through loaded (cached(), a tier's fill) as this cache's own getOrSet
   * does (see capabilities.ts); ttl in seconds, undefined for the default. Unlike getOrSet's own
   * write, a failure rejects: the caller reports it.
   */
  [writeLoaded](key: string, value: unknown, ttl: number | undefined, afterFailure: boolean): Promise<void> {
    try {
      this.checkKey(key)
      checkValue(value)
      const ttlMs = ttl === undefined ? this.defaultTtlMs : ttlToMs(ttl)
      return Promise.resolve(this.store.set(key, value, ttlMs, afterFailure ? 'fill-after-failure' : 'fill'))
    } catch (err) {
      return Promise.reject(err)
    }
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
      ...(s.bytes === undefined ? {} : { bytes: s.bytes, arenaBytes: s.arenaBytes, fragmentation: s.fragmentation }),
    })
  }

  /** This cache's stats split for metrics sinks when its store's counters are shared (see MetricsSource). */
  sharedStats(): SharedStats | undefined {
    const id = this.store.countersId
    if (id === undefined) return undefined
    this.assertOpen()
    const s = this.store.stats()
    const { hits, misses } = this.lookups.totals(s)
    const shared = new CacheStats({ hits: s.hits ?? 0, misses: s.misses ?? 0, evictions: s.evictions, expirations: s.expirations, size: s.size, maxsize: s.maxsize })
    return { id, shared, own: { hits: hits - shared.hits, misses: misses - shared.misses } }
  }

  /** Errors per operation (plus backend-specific ones, e.g. RedisCache's 'connection', 'replay'). */
  errorCounts(): Readonly<Record<string, number>> {
    return { ...this.errors }
  }

  /** The cache's `timeouts` option, resolved (see capabilities.ts). */
  get [loaderTimeouts](): ResolvedTimeouts {
    return this.timeouts
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

  protected assertOpen(): void {
    if (this.closed) throw new CacheClosedError(this.name)
  }

  protected checkKey(key: string): void {
    if (this.closed) throw new CacheClosedError(this.name)
    validKey(key, this.wellFormedKeys)
  }

  protected checkKeys(keys: readonly string[]): void {
    if (this.closed) throw new CacheClosedError(this.name)
    checkKeys(keys, this.wellFormedKeys)
  }

  /** Every entry is checked before anything is stored (a bad entry stores nothing); returns the ttls in ms. */
  protected checkEntries(entries: readonly (readonly [string, V, Duration?])[]): number[] {
    this.assertOpen()
    return checkEntries(entries, this.defaultTtlMs, this.wellFormedKeys)
  }

  /** performance.now() when this operation is to be timed, else -1. */
  protected start(op: OpIndex): number {
    return this.timing ? this.sampler.start(op) : -1
  }

  protected end(op: OpIndex, started: number): void {
    if (started >= 0) this.sampler.end(op, started)
  }

  private reader(): ReadThrough<V> {
    return (this.readThrough ??= new ReadThrough<V>({ clock: this.clock, onError: (error) => this.reportError(error), timers: this.timers }))
  }

  /** getOrSet's view of the store: counted lookups, and writes that report instead of throwing. */
  private loader(): LoadStore {
    return (this.loadStore ??= {
      sync: this.answersAtOnce,
      read: (key, failure) => this.store.get(key, failure),
      write: (key, value, ttlMs, origin) => this.fill(key, value, ttlMs ?? this.defaultTtlMs, origin),
      lookedUp: (found, hit) => this.lookups.judged(found, hit),
      fills: this.fills,
    })
  }

  /** Writes a value getOrSet loaded; nobody awaits it, so a failure is reported, never thrown. */
  private fill(key: string, value: unknown, ttlMs: number, origin: WriteOrigin): Promise<void> | void {
    if (this.closed) return
    try {
      const written = this.store.set(key, value, ttlMs, origin)
      if (!this.answersAtOnce) return (written as Promise<void>).catch((err: unknown) => this.reportError(err, 'set'))
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
      supersede: (keys) => (keys === undefined ? this.fills.supersedeAll() : this.fills.supersedeKeys(keys)),
    }
  }
}
