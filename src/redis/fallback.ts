import type { Cache } from '../contract/cache'
import type { StoreOwner } from '../facade/store'
import { InMemoryLRUCache } from '../memory/memory-cache'
import type { Serializer } from '../serializer'

export interface FallbackOptions<V> {
  /** A cache you gave, false for none, undefined for the default (an InMemoryLRUCache made on first use). */
  given: Cache<V> | false | undefined
  maxsize: number
  /** Longest life of an entry written here, ms (> 0). */
  ttlMs: number
  /** Name of the cache this one stands in for. */
  name: string
  serializer: Serializer<V>
}

/**
 * What serves reads (and takes writes) while Redis cannot: a small memory cache. The default
 * one is only built when first needed, and not at all inside a TieredCache (its L1 covers
 * outages: dropDefault). A failing fallback never fails the call: its errors are reported.
 */
export class RedisFallback<V> {
  private cache: Cache<V> | undefined
  private makesDefault: boolean
  /** The fallback may hold entries (written since the last recovery): reads and writes must look at it. */
  dirty = false

  constructor(
    private readonly options: FallbackOptions<V>,
    private readonly owner: () => StoreOwner,
  ) {
    this.cache = options.given === false ? undefined : options.given
    this.makesDefault = options.given === undefined
  }

  /** Stops keeping the default memory fallback (a TieredCache's L1 covers outages). A fallback you gave is kept. */
  async dropDefault(): Promise<void> {
    if (!this.makesDefault) return
    const made = this.cache
    this.cache = undefined
    this.makesDefault = false
    this.dirty = false
    await made?.close()
  }

  get(key: string): Promise<V | undefined> {
    if (!this.dirty || this.cache === undefined) return Promise.resolve(undefined)
    return this.guard((c) => c.get(key), undefined)
  }

  has(key: string): Promise<boolean> {
    if (!this.dirty || this.cache === undefined) return Promise.resolve(false)
    return this.guard((c) => c.has(key), false)
  }

  /** Stores a copy decoded from the payload (Redis would have returned a copy too), TTL capped at the fallback's. */
  async set(key: string, payload: Buffer | string, ttlMs: number): Promise<void> {
    const cache = this.open()
    if (cache === undefined) return
    const cappedMs = ttlMs === 0 ? this.options.ttlMs : Math.min(ttlMs, this.options.ttlMs)
    this.dirty = true
    await this.guard(async (c) => {
      const copy = this.options.serializer.deserialize(typeof payload === 'string' ? Buffer.from(payload) : payload)
      await c.set(key, copy, cappedMs / 1000)
    }, undefined, cache)
  }

  /** Drops this key's copy, if the fallback may hold one; true when one was removed. */
  invalidate(key: string): Promise<boolean> {
    if (!this.dirty || this.cache === undefined) return Promise.resolve(false)
    return this.guard((c) => c.invalidate(key), false)
  }

  async clear(): Promise<void> {
    if (this.cache !== undefined) await this.guard((c) => c.clear(), undefined)
    this.dirty = false
  }

  /** Closes the default fallback (one you gave stays open). */
  async close(): Promise<void> {
    if (this.makesDefault) await this.cache?.close()
  }

  /** The fallback cache, made on first use when it is the default one. */
  private open(): Cache<V> | undefined {
    if (this.cache === undefined && this.makesDefault) {
      try {
        this.cache = new InMemoryLRUCache<V>({ maxsize: this.options.maxsize, defaultTtl: this.options.ttlMs / 1000, engine: 'auto', name: `${this.options.name}:fallback` })
      } catch (err) {
        this.owner().reportError(err, 'fallback')
      }
    }
    return this.cache
  }

  private async guard<T>(call: (cache: Cache<V>) => Promise<T>, otherwise: T, cache = this.cache): Promise<T> {
    if (cache === undefined) return otherwise
    try {
      return await call(cache)
    } catch (err) {
      this.owner().reportError(err, 'fallback')
      return otherwise
    }
  }
}
