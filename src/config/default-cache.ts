/**
 * The process default cache, used by cached()/cacheInvalidate() when they name no cache
 * (looked up at call time, so it may be set after the decorators were applied).
 */
import type { Cache } from '../contract/cache'
import { DECORATOR_CACHE_METHODS, hasMethods } from '../contract/capabilities'
import { CacheOptionError, describe } from '../errors'
import { buildCache } from './create-cache'

let defaultCache: Cache | undefined

/**
 * Sets the process default cache. `undefined` forgets it: the next getDefaultCache() calls
 * createCache() again. The previous cache is not closed; its owner closes it.
 */
export function setDefaultCache(cache: Cache | undefined): void {
  if (cache !== undefined && !hasMethods(cache, DECORATOR_CACHE_METHODS)) {
    throw new CacheOptionError(`setDefaultCache expects a Cache (an object with get/set/invalidate methods) or undefined, got ${describe(cache)}`)
  }
  defaultCache = cache
}

/** The process default cache; created from process.env by createCache() on first use. */
export function getDefaultCache(): Cache {
  if (defaultCache === undefined) defaultCache = buildCache(process.env, {}, 'the default cache (used by cached() and cacheInvalidate() without a `cache` option)')
  return defaultCache
}
