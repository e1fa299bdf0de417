/**
 * `astra-cache/keyv`: a Keyv store adapter over any astra-cache Cache (memory, Redis, tiered),
 * so Keyv, cache-manager and cacheable users can switch without code changes:
 *
 *   import Keyv from 'keyv'
 *   import { KeyvAstraStore } from 'astra-cache/keyv'
 *   const keyv = new Keyv({ store: new KeyvAstraStore(new RedisCache({ redisUrl })), namespace: 'users' })
 *
 * Keyv semantics kept: ttl in milliseconds (none: never expires; the cache's LRU or Redis
 * memory policy still applies), values arrive already serialized by Keyv, and clear() only
 * clears the current namespace. A Cache cannot list its keys, so namespaces are versioned:
 * entries live under `${namespace}:~${generation}:${key}`, the generation is itself a cache
 * entry, and clear() replaces it with a new random one (old entries become unreachable and
 * age out by TTL or LRU). That costs one extra cache read per operation in a namespace.
 */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { Cache } from '../contract/cache'
import { CacheOptionError, describe } from '../errors'

export interface KeyvAstraStoreOptions {
  /** disconnect() also closes the cache. Default false (the cache may serve others). */
  closeCacheOnDisconnect?: boolean
}

/** Implements Keyv's KeyvStoreAdapter (keyv 5). */
export class KeyvAstraStore extends EventEmitter {
  /** Keyv reads and writes this (e.g. `opts.deserialize`); kept as an open object. */
  opts: Record<string, unknown>
  /** Set by Keyv to its namespace. */
  namespace?: string
  readonly cache: Cache<unknown>
  private readonly closeCache: boolean

  constructor(cache: Cache<unknown>, options: KeyvAstraStoreOptions = {}) {
    super()
    const ok = cache !== null && typeof cache === 'object' && ['get', 'set', 'invalidate', 'clear', 'getMany', 'setMany', 'has', 'close'].every((m) => typeof (cache as unknown as Record<string, unknown>)[m] === 'function')
    if (!ok) throw new CacheOptionError(`KeyvAstraStore needs an astra-cache Cache, got ${describe(cache)}`)
    if (options === null || typeof options !== 'object') throw new CacheOptionError(`KeyvAstraStore options must be an object, got ${describe(options)}`)
    this.cache = cache
    this.closeCache = options.closeCacheOnDisconnect ?? false
    this.opts = { dialect: 'astra-cache' }
  }

  async get(key: string): Promise<unknown> {
    return this.cache.get(await this.physical(key))
  }

  async getMany(keys: string[]): Promise<unknown[]> {
    return this.cache.getMany(await this.physicalMany(keys))
  }

  /** `ttl` in milliseconds, as Keyv passes it; undefined or 0: never expires. */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    await this.cache.set(await this.physical(key), value, ttlSeconds(ttl))
    return true
  }

  async setMany(entries: { key: string; value: unknown; ttl?: number }[]): Promise<void> {
    const keys = await this.physicalMany(entries.map((e) => e.key))
    await this.cache.setMany(entries.map((e, i) => [keys[i], e.value, ttlSeconds(e.ttl)] as const))
  }

  async delete(key: string): Promise<boolean> {
    return this.cache.invalidate(await this.physical(key))
  }

  /** true when at least one key was removed. */
  async deleteMany(keys: string[]): Promise<boolean> {
    const physical = await this.physicalMany(keys)
    const removed = await Promise.all(physical.map((k) => this.cache.invalidate(k)))
    return removed.some(Boolean)
  }

  async has(key: string): Promise<boolean> {
    return this.cache.has(await this.physical(key))
  }

  /** With a namespace: that namespace only (a new generation). Without: the whole cache. */
  async clear(): Promise<void> {
    const ns = this.namespace
    if (ns === undefined || ns === '') return this.cache.clear()
    await this.cache.set(generationKey(ns), newGeneration(), 0)
  }

  async disconnect(): Promise<void> {
    if (this.closeCache) await this.cache.close()
  }

  private async physical(key: string): Promise<string> {
    const ns = this.namespace
    if (ns === undefined || ns === '' || !key.startsWith(`${ns}:`)) return key
    return `${ns}:~${await this.generation(ns)}:${key.slice(ns.length + 1)}`
  }

  private async physicalMany(keys: string[]): Promise<string[]> {
    const ns = this.namespace
    if (ns === undefined || ns === '') return keys
    const generation = await this.generation(ns)
    return keys.map((key) => (key.startsWith(`${ns}:`) ? `${ns}:~${generation}:${key.slice(ns.length + 1)}` : key))
  }

  /**
   * The namespace's current generation. A lost generation entry (evicted, Redis flushed) gets
   * a new random one, which only makes old entries unreachable: never resurrects them.
   */
  private async generation(ns: string): Promise<string> {
    const key = generationKey(ns)
    const current = await this.cache.get(key)
    if (typeof current === 'string') return current
    const fresh = newGeneration()
    await this.cache.set(key, fresh, 0)
    return fresh
  }
}

function generationKey(ns: string): string {
  return `${ns}:~generation`
}

function newGeneration(): string {
  return randomBytes(6).toString('base64url')
}

function ttlSeconds(ttl: unknown): number {
  return typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0 ? ttl / 1000 : 0
}

export default KeyvAstraStore
