import type { Duration } from '../duration'
import { rawGet, rawGetMany, readNow } from '../contract/capabilities'
import type { SyncCache } from '../contract/sync-cache'
import { CacheOptionError } from '../errors'
import { checkValue, MAX_KEY_LENGTH, ttlToMs } from '../validate'
import { CacheFacade, type FacadeSettings } from './cache-facade'
import { OP } from './latency-sampler'
import type { DirectReads, SyncStore } from './store'

// Module-level copies: a cross-module constant read on every call is a property load (a getter call under
// loaders that compile ES modules to CommonJS, such as tsx and esbuild: measured ~10 ns per sync.get).
const { get: GET, set: SET, invalidate: INVALIDATE, clear: CLEAR, has: HAS, getMany: GET_MANY, setMany: SET_MANY } = OP
const KEY_LIMIT = MAX_KEY_LENGTH
const validValue = checkValue

/**
 * The facade over a store that answers at once (the memory engine). Each operation is an async
 * method that never suspends (one that may is slower even when it does not): the hit path is
 * the method's own promise, no closure. `sync` is the synchronous face: the same checks, then
 * the same `*Now` bodies (counters, metrics), answered at once. Reads call the engine directly
 * (the store's `reader`), not through the store.
 */
export abstract class SyncStoreFacade<V = unknown> extends CacheFacade<V> {
  private readonly now: SyncStore<V>
  /** The synchronous face: get, set, has, peek, delete answered at once (see SyncCache). */
  readonly sync: SyncCache<V>
  private open = true
  /** The store's engine, whose get the hot paths call directly. */
  private readonly engineReads: DirectReads

  protected constructor(store: SyncStore<V>, settings: FacadeSettings) {
    if (!store.traits.sync) throw new CacheOptionError(`${settings.name}: SyncStoreFacade needs a store that answers synchronously`)
    super(store, settings)
    this.now = store
    const reader = store.reader ?? store
    this.engineReads = reader
    this.sync = Object.freeze<SyncCache<V>>({
      get: (key) => {
        // checkKey's tests inline (a memory store takes any string), the full check only to throw;
        // untimed and without envelopes, getNow is the engine's get itself.
        if (typeof key !== 'string' || key.length > KEY_LIMIT || !this.open) this.checkKey(key)
        return this.passThrough && !this.timing ? (reader.get(key) as V | undefined) : this.getNow(key)
      },
      set: (key, value, ttl) => {
        this.checkKey(key)
        validValue(value)
        this.setNow(key, value, ttl === undefined ? this.defaultTtlMs : ttlToMs(ttl))
      },
      has: (key) => {
        this.checkKey(key)
        return this.hasNow(key)
      },
      peek: (key) => {
        this.checkKey(key)
        return this.peekNow(key)
      },
      delete: (key) => {
        this.checkKey(key)
        return this.invalidateNow(key)
      },
    })
  }

  /** Closing is seen by the sync face through this field of its own, read with the key checks. */
  override close(): Promise<void> {
    const closing = super.close()
    this.open = false
    return closing
  }

  async get(key: string): Promise<V | undefined> {
    this.checkKey(key)
    return this.getNow(key)
  }

  async set(key: string, value: V, ttl?: Duration): Promise<void> {
    this.checkKey(key)
    validValue(value)
    this.setNow(key, value, ttl === undefined ? this.defaultTtlMs : ttlToMs(ttl))
  }

  async invalidate(key: string): Promise<boolean> {
    this.checkKey(key)
    return this.invalidateNow(key)
  }

  async has(key: string): Promise<boolean> {
    this.checkKey(key)
    return this.hasNow(key)
  }

  async clear(): Promise<void> {
    this.assertOpen()
    this.clearNow()
  }

  async getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    this.checkKeys(keys)
    return keys.length === 0 ? [] : this.getManyNow(keys)
  }

  async setMany(entries: readonly (readonly [string, V, Duration?])[]): Promise<void> {
    const ttls = this.checkEntries(entries)
    if (ttls.length > 0) this.setManyNow(entries, ttls)
  }

  async [rawGet](key: string): Promise<unknown> {
    return this[readNow](key, true)
  }

  /** get (raw false) or rawGet (raw true), answered at once: cached() reads a memory cache through it. */
  [readNow](key: string, raw: boolean): unknown {
    this.checkKey(key)
    if (!raw) return this.getNow(key)
    const stored = this.now.get(key)
    this.lookups.found(stored)
    return stored
  }

  async [rawGetMany](keys: readonly string[]): Promise<unknown[]> {
    this.checkKeys(keys)
    if (keys.length === 0) return []
    const raws = this.now.getMany(keys)
    for (const raw of raws) this.lookups.found(raw)
    return raws
  }

  // ---- the bodies, arguments already checked ----------------------------------------------------

  private getNow(key: string): V | undefined {
    const started = this.start(GET)
    const raw = this.engineReads.get(key)
    const value = this.passThrough ? (raw as V | undefined) : this.lookups.served(raw)
    this.end(GET, started)
    return value
  }

  private setNow(key: string, value: V, ttlMs: number): void {
    const started = this.start(SET)
    this.now.set(key, value, ttlMs)
    this.fills.supersede(key)
    this.end(SET, started)
  }

  /** No counters, no recency, no latency sample (not an operation of the Cache contract). */
  private peekNow(key: string): V | undefined {
    const raw = this.now.peek(key)
    return this.passThrough ? (raw as V | undefined) : this.lookups.visible(raw)
  }

  private invalidateNow(key: string): boolean {
    const started = this.start(INVALIDATE)
    const removed = this.now.delete(key)
    this.fills.supersede(key)
    this.end(INVALIDATE, started)
    return removed
  }

  private hasNow(key: string): boolean {
    const started = this.start(HAS)
    const found = this.now.has(key)
    this.end(HAS, started)
    return found
  }

  private clearNow(): void {
    const started = this.start(CLEAR)
    this.now.clear()
    this.fills.supersedeAll()
    this.end(CLEAR, started)
  }

  /** One store call (one N-API crossing per batch on the native engine), same counters and order as get() per key. */
  private getManyNow(keys: readonly string[]): (V | undefined)[] {
    const started = this.start(GET_MANY)
    const raws = this.now.getMany(keys)
    const values = this.passThrough ? (raws as (V | undefined)[]) : this.lookups.servedAll(raws)
    this.end(GET_MANY, started)
    return values
  }

  private setManyNow(entries: readonly (readonly [string, V, Duration?])[], ttls: readonly number[]): void {
    const started = this.start(SET_MANY)
    this.now.setMany(entries, ttls)
    this.fills.supersedeMany(entries)
    this.end(SET_MANY, started)
  }
}
