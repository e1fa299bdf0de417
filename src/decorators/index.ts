// cached() and cacheInvalidate(): exports only (cached.ts is where they are built).
export { cached, cacheInvalidate } from './cached'
export { DEFAULT_DECORATOR_TIMEOUT_MS } from './guard'
export { loaderContext } from '../facade/loader-context'
export type { CachedOptions, CacheInvalidateOptions, CacheDecorator, CachedFunction, CacheFailure, CacheFailureHandler } from './types'
