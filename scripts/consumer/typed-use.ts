// Typed uses of the installed package. scripts/consumer/check.js compiles this file under
// each TypeScript resolution mode (as .ts for node10 and bundler, as .mts and .cts for
// node16): the types are found and real (not any) through every entry.
import { InMemoryLRUCache, createCache, cached, CacheKeyError } from 'astra-cache'
import KeyvStore, { KeyvAstraStore } from 'astra-cache/keyv'

const cache = new InMemoryLRUCache<{ id: number }>({ maxsize: 100, defaultTtl: 60 })
export const engine: 'native' | 'js' = cache.engine
// @ts-expect-error engine is 'native' | 'js'
export const wrong: number = cache.engine
// @ts-expect-error values are { id: number }
void cache.set('k', 'not an object')
export const hit: Promise<{ id: number } | undefined> = cache.get('k')
export const twice = cached({ cache: createCache() })(async (n: number) => n * 2)
export const doubled: Promise<number> = twice(2)
export const isKeyError = (e: unknown): e is CacheKeyError => e instanceof CacheKeyError
export const store: KeyvAstraStore = new KeyvStore(cache)
// @ts-expect-error the store takes a Cache
export const notStore = new KeyvAstraStore('not a cache')
