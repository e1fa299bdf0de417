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
 * clears the current namespace. A Cache cannot list its keys, so namespaces are versioned
 * (see namespace.ts): entries live under `${namespace}:~${generation}:${key}`, and clear()
 * replaces the generation (old entries become unreachable and age out by TTL or LRU).
 * Operations on one namespace take effect in the order they were issued, awaited or not.
 */
import { LONG_TTL_SECONDS } from '../duration'
import { EventEmitter } from 'node:events'
import type { Cache } from '../contract/cache'
import { CacheOptionError, describe } from '../errors'
import { namespaceOf, type Namespace, type Outcome } from './namespace'
import { hasMethods } from '../contract/capabilities'
import { booleanOption, checkKnownOptions, checkOptionsObject } from '../validate'

export interface KeyvAstraStoreOptions {
  /** disconnect() also closes the cache. Default false (the cache may serve others). */
  closeCacheOnDisconnect?: boolean
}

type Entry = { key: string; value: unknown; ttl?: number }

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
    if (!hasMethods(cache, ['get', 'set', 'invalidate', 'clear', 'getMany', 'setMany', 'has', 'close'])) throw new CacheOptionError(`KeyvAstraStore needs an astra-cache Cache, got ${describe(cache)}`)
    checkOptionsObject(options, 'KeyvAstraStore')
    checkKnownOptions(options, ['closeCacheOnDisconnect'], 'KeyvAstraStore option', "; Keyv's own options, such as namespace, go to new Keyv()")
    this.cache = cache
    this.closeCache = booleanOption(options.closeCacheOnDisconnect, false, 'KeyvAstraStore closeCacheOnDisconnect')
    this.opts = { dialect: 'astra-cache' }
  }

  get(key: string): Promise<unknown> {
    return this.inNamespace(
      (physical) => this.cache.get(physical(key)),
      (ns, physical) => this.cache.getMany([ns.generationKey, physical(key)]).then(([stored, value]) => ({ stored, result: value })),
    )
  }

  getMany(keys: string[]): Promise<unknown[]> {
    return this.inNamespace(
      (physical) => this.cache.getMany(keys.map(physical)),
      (ns, physical) => this.cache.getMany([ns.generationKey, ...keys.map(physical)]).then(([stored, ...values]) => ({ stored, result: values })),
    )
  }

  /** `ttl` in milliseconds, as Keyv passes it; undefined or 0: never expires. */
  set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    return this.run((physical) => this.cache.set(physical(key), value, ttlSeconds(ttl)).then(() => true))
  }

  /** One cache setMany; every entry reported as set. */
  setMany(entries: Entry[]): Promise<boolean[]> {
    return this.run((physical) => this.cache.setMany(entries.map((e) => [physical(e.key), e.value, ttlSeconds(e.ttl)] as const)).then(() => entries.map(() => true)))
  }

  delete(key: string): Promise<boolean> {
    return this.run((physical) => this.cache.invalidate(physical(key)))
  }

  /** true when at least one key was removed. */
  deleteMany(keys: string[]): Promise<boolean> {
    return this.run((physical) => Promise.all(keys.map((key) => this.cache.invalidate(physical(key)))).then((removed) => removed.some(Boolean)))
  }

  has(key: string): Promise<boolean> {
    return this.run((physical) => this.cache.has(physical(key)))
  }

  hasMany(keys: string[]): Promise<boolean[]> {
    return this.run((physical) => Promise.all(keys.map((key) => this.cache.has(physical(key)))))
  }

  /** With a namespace: that namespace only (a new generation). Without: the whole cache. */
  clear(): Promise<void> {
    const ns = this.namespace
    if (ns === undefined || ns === '') return this.cache.clear()
    return namespaceOf(this.cache, ns).replace()
  }

  async disconnect(): Promise<void> {
    if (this.closeCache) await this.cache.close()
  }

  /**
   * Runs an operation that does not return the generation itself: checked, it also reads the
   * stored generation, sent right after the operation so both travel in one round trip.
   */
  private run<T>(operation: (physical: (key: string) => string) => Promise<T>): Promise<T> {
    return this.inNamespace(operation, (ns, physical) => {
      const done = operation(physical)
      return Promise.all([done, this.cache.get(ns.generationKey)]).then(([result, stored]) => ({ stored, result }))
    })
  }

  /**
   * Without a namespace the keys are used as they are. With one, the operation runs through the
   * namespace's ordering with the keys of the generation it is given (`checked` when it must
   * also report the stored generation).
   */
  private inNamespace<T>(
    plain: (physical: (key: string) => string) => Promise<T>,
    checked: (ns: Namespace, physical: (key: string) => string) => Promise<Outcome<T>>,
  ): Promise<T> {
    const name = this.namespace
    if (name === undefined || name === '') return plain(sameKey)
    const ns = namespaceOf(this.cache, name)
    return ns.run((generation, check) => {
      const physical = physicalKeys(name, generation)
      return check ? checked(ns, physical) : plain(physical).then((result) => ({ result }))
    })
  }
}

function sameKey(key: string): string {
  return key
}

/** Keyv's `${namespace}:${key}` -> `${namespace}:~${generation}:${key}`; other keys unchanged. */
function physicalKeys(namespace: string, generation: string): (key: string) => string {
  const prefix = `${namespace}:`
  return (key) => (key.startsWith(prefix) ? `${namespace}:~${generation}:${key.slice(prefix.length)}` : key)
}

function ttlSeconds(ttl: unknown): number | string {
  if (!(typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0)) return 0
  // Keyv's unit is explicit (ms): a long TTL goes as a duration string, so no long-TTL warning.
  return ttl > LONG_TTL_SECONDS * 1000 ? `${ttl}ms` : ttl / 1000
}

export default KeyvAstraStore
