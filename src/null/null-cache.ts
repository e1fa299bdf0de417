import type { Cache } from '../contract/cache'
import { CacheStats } from '../contract/cache'
import { CacheClosedError } from '../errors'
import { checkEntries, checkKey, checkKeys, checkLoader, checkName, checkOptionsObject, checkValue, ttlToMs } from '../validate'
import { resolveGetOrSetOptions, type TtlOrOptions } from '../facade/swr'

export interface NullCacheOptions {
  /** Metrics label; default 'null'. */
  name?: string
}

/**
 * The cache createCache() returns when caching is disabled (the default): it stores
 * nothing and always misses, so decorated functions simply run. It validates its inputs
 * like a real backend, so code that is wrong with caching on is wrong with it off too.
 */
export class NullCache<V = unknown> implements Cache<V> {
  readonly name: string
  private closed = false

  constructor(options: NullCacheOptions = {}) {
    checkOptionsObject(options, 'NullCache')
    this.name = options.name === undefined ? 'null' : checkName(options.name)
  }

  async get(key: string): Promise<V | undefined> {
    this.checkOpen()
    checkKey(key)
    return undefined
  }

  async set(key: string, value: V, ttl?: number): Promise<void> {
    this.checkOpen()
    checkKey(key)
    checkValue(value)
    if (ttl !== undefined) ttlToMs(ttl)
  }

  async invalidate(key: string): Promise<boolean> {
    this.checkOpen()
    checkKey(key)
    return false
  }

  async clear(): Promise<void> {
    this.checkOpen()
  }

  stats(): CacheStats {
    return new CacheStats({ hits: 0, misses: 0, evictions: 0, expirations: 0, size: 0, maxsize: 0 })
  }

  async close(): Promise<void> {
    this.closed = true
  }

  async getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    this.checkOpen()
    checkKeys(keys)
    return keys.map(() => undefined)
  }

  async setMany(entries: readonly (readonly [string, V, number?])[]): Promise<void> {
    this.checkOpen()
    checkEntries(entries, 0)
  }

  async has(key: string): Promise<boolean> {
    this.checkOpen()
    checkKey(key)
    return false
  }

  /** Always runs `load` (nothing is ever cached); concurrent callers are not coalesced. */
  async getOrSet(key: string, load: () => Promise<V> | V, ttlOrOptions?: TtlOrOptions): Promise<V> {
    this.checkOpen()
    checkKey(key)
    checkLoader(load)
    resolveGetOrSetOptions(ttlOrOptions)
    return await load()
  }

  private checkOpen(): void {
    if (this.closed) throw new CacheClosedError(this.name)
  }
}
