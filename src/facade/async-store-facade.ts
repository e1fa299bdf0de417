import type { Duration } from '../duration'
import { rawGet, rawGetMany } from '../contract/capabilities'
import { CacheOptionError } from '../errors'
import { checkValue, ttlToMs } from '../validate'
import { CacheFacade, type FacadeSettings } from './cache-facade'
import { OP, type OpIndex } from './latency-sampler'
import type { AsyncStore, ReadFailure } from './store'

// Module-level copies: a cross-module constant read on every call is a property load (a getter call under some loaders).
const { get: GET, set: SET, invalidate: INVALIDATE, clear: CLEAR, has: HAS, getMany: GET_MANY, setMany: SET_MANY } = OP

/**
 * The facade over a store that answers with promises (Redis, tiers). Each operation returns the
 * store's promise, chained once when its answer needs the facade (a read's hit or miss, a
 * timing), without async layers of its own; a store with getThen maps a read inside its own
 * chain, so a Redis get costs one promise beyond its command's. A check that fails rejects;
 * nothing is thrown synchronously.
 */
export abstract class AsyncStoreFacade<V = unknown> extends CacheFacade<V> {
  private readonly later: AsyncStore<V>

  protected constructor(store: AsyncStore<V>, settings: FacadeSettings) {
    if (store.traits.sync) throw new CacheOptionError(`${settings.name}: AsyncStoreFacade needs a store that answers with promises`)
    super(store, settings)
    this.later = store
  }

  get(key: string): Promise<V | undefined> {
    try {
      this.checkKey(key)
      const started = this.start(GET)
      const served =
        started < 0
          ? this.served
          : (raw: unknown) => {
              const value = this.lookups.served(raw)
              this.end(GET, started)
              return value
            }
      const store = this.later
      return store.getThen !== undefined ? store.getThen(key, served) : store.get(key).then(served)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** A read's answer as the caller gets it (one arrow per cache: no closure per untimed call). */
  private readonly served = (raw: unknown): V | undefined => this.lookups.served(raw)

  set(key: string, value: V, ttl?: Duration): Promise<void> {
    try {
      this.checkKey(key)
      checkValue(value)
      const ttlMs = ttl === undefined ? this.defaultTtlMs : ttlToMs(ttl)
      this.fills.supersede(key)
      return this.timed(SET, this.start(SET), this.later.set(key, value, ttlMs))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  invalidate(key: string): Promise<boolean> {
    try {
      this.checkKey(key)
      this.fills.supersede(key)
      return this.timed(INVALIDATE, this.start(INVALIDATE), this.later.delete(key))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  has(key: string): Promise<boolean> {
    try {
      this.checkKey(key)
      return this.timed(HAS, this.start(HAS), this.later.has(key))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  clear(): Promise<void> {
    try {
      this.assertOpen()
      this.fills.supersedeAll()
      return this.timed(CLEAR, this.start(CLEAR), this.later.clear())
    } catch (err) {
      return Promise.reject(err)
    }
  }

  getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    try {
      this.checkKeys(keys)
      if (keys.length === 0) return Promise.resolve([])
      const started = this.start(GET_MANY)
      return this.later.getMany(keys).then((raws) => {
        const values = this.lookups.servedAll(raws)
        this.end(GET_MANY, started)
        return values
      })
    } catch (err) {
      return Promise.reject(err)
    }
  }

  setMany(entries: readonly (readonly [string, V, Duration?])[]): Promise<void> {
    try {
      const ttls = this.checkEntries(entries)
      if (ttls.length === 0) return Promise.resolve()
      this.fills.supersedeMany(entries)
      return this.timed(SET_MANY, this.start(SET_MANY), this.later.setMany(entries, ttls))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  [rawGet](key: string, failure?: ReadFailure): Promise<unknown> {
    try {
      this.checkKey(key)
      return this.later.get(key, failure).then((raw) => {
        this.lookups.found(raw)
        return raw
      })
    } catch (err) {
      return Promise.reject(err)
    }
  }

  [rawGetMany](keys: readonly string[]): Promise<unknown[]> {
    try {
      this.checkKeys(keys)
      if (keys.length === 0) return Promise.resolve([])
      return this.later.getMany(keys).then((raws) => {
        for (const raw of raws) this.lookups.found(raw)
        return raws
      })
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** The store's answer, timed when this operation is sampled. */
  private timed<T>(op: OpIndex, started: number, answer: Promise<T>): Promise<T> {
    if (started < 0) return answer
    return answer.then((value) => {
      this.end(op, started)
      return value
    })
  }
}
