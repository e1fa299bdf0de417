import { AsyncStoreFacade } from '../facade/async-store-facade'
import type { AsyncStore, StoreStats, StoreTraits } from '../facade/store'
import { checkKnownOptions, checkName, checkOptionsObject } from '../validate'

export interface NullCacheOptions {
  /** Metrics label; default 'null'. */
  name?: string
}

const TRAITS: StoreTraits = Object.freeze({ sync: false, countsLookups: true, sharedEnvelopes: false, wellFormedKeys: false, keepsNothing: true })
const NOTHING: StoreStats = Object.freeze({ hits: 0, misses: 0, evictions: 0, expirations: 0, size: 0, maxsize: 0 })

/** Keeps nothing: every read misses (and, like every lookup here, is not counted). */
class NullStore implements AsyncStore {
  readonly traits = TRAITS
  async get(): Promise<undefined> {
    return undefined
  }
  async getMany(keys: readonly string[]): Promise<undefined[]> {
    return keys.map(() => undefined)
  }
  async set(): Promise<void> {}
  async setMany(): Promise<void> {}
  async delete(): Promise<boolean> {
    return false
  }
  async has(): Promise<boolean> {
    return false
  }
  async clear(): Promise<void> {}
  stats(): StoreStats {
    return NOTHING
  }
  close(): void {}
}

/**
 * The cache createCache() returns when caching is disabled (the default): it stores
 * nothing and always misses, so decorated functions simply run. It validates its inputs
 * like a real backend (it is the same facade), so code that is wrong with caching on is
 * wrong with it off too. getOrSet runs its loader every time; concurrent callers are not coalesced.
 */
export class NullCache<V = unknown> extends AsyncStoreFacade<V> {
  constructor(options: NullCacheOptions = {}) {
    checkOptionsObject(options, 'NullCache')
    checkKnownOptions(options, ['name'], 'NullCache option')
    const name = options.name === undefined ? 'null' : checkName(options.name)
    super(new NullStore(), { name, defaultTtlMs: 0, clock: Date.now, warningCode: 'ASTRA_CACHE_NULL_ERROR' })
  }
}
