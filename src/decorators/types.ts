/** The public types of cached() and cacheInvalidate(). */
import type { Cache, LoaderTimeouts } from '../contract/cache'
import type { Duration } from '../duration'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFunction = (this: any, ...args: any[]) => any
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyKeyFn<R> = (...args: any[]) => R
type AsyncMethod = AnyFunction & ((...args: never[]) => PromiseLike<unknown>)

/** Passes when `keyFn` can take the function's arguments; otherwise a type error names the mismatch. */
type KeyFnFits<K, F extends AnyFunction> = [K] extends [undefined]
  ? unknown
  : K extends (...args: Parameters<F>) => unknown
    ? unknown
    : { 'keyFn cannot take the arguments of the decorated function': Parameters<F> }

/** A function wrapped by cached()/cacheInvalidate(): same `this` and parameters, always async. */
export type CachedFunction<F extends AnyFunction> = (this: ThisParameterType<F>, ...args: Parameters<F>) => Promise<Awaited<ReturnType<F>>>

/**
 * What cached()/cacheInvalidate() return. Call it with a function (wrapper), or use it as a
 * method decorator (TC39 or legacy). Decorated methods must be declared to return a
 * Promise (make them `async`): the decorator makes them asynchronous and a decorator
 * cannot change a method's declared type. The wrapper form accepts sync functions.
 */
export interface CacheDecorator<K> {
  <F extends AnyFunction>(fn: F & KeyFnFits<K, F>): CachedFunction<F>
  <This, F extends AsyncMethod>(method: F & KeyFnFits<K, F>, context: ClassMethodDecoratorContext<This, F>): F
  <F extends AsyncMethod>(target: object, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<F & KeyFnFits<K, F>>): TypedPropertyDescriptor<F>
}

export interface CacheFailure {
  /** The cache operation that failed or timed out. */
  op: 'get' | 'set' | 'invalidate'
  key: string
  /** The cache's name (its metrics label). */
  cache: string
  /** The decorated function: 'name' or 'Class.method'. */
  function: string
}

/** Receives cache failures; the call itself goes on uncached. */
export type CacheFailureHandler = (error: unknown, failure: CacheFailure) => void

export interface CommonOptions {
  /** The cache to use; default: the process default cache (getDefaultCache()), looked up at each call. */
  cache?: Cache
  /** Prepended as `${prefix}:` to every key (default keys and keyFn keys alike). */
  prefix?: string
  /** Longest wait for one cache operation, in ms (or a duration string, '2s'), before the call goes on without it. Default 1000; Infinity = no bound. */
  timeoutMs?: Duration
  /** Called for each cache failure. Default: one process warning (code ASTRA_CACHE_DECORATOR) per decorated function. */
  onError?: CacheFailureHandler
}

export interface CachedOptions<K extends AnyKeyFn<string> | undefined = undefined> extends CommonOptions {
  /** Builds the key from the call's arguments (`this` is the call's `this`). Default: name + stable encoding of the arguments. */
  keyFn?: K
  /** Seconds (or a duration string, '5m'); default: the cache's defaultTtl. 0 or Infinity: never expires. */
  ttl?: Duration
  /** Seconds after `ttl` during which the old result is returned while one background call refreshes it (see docs/tiered.md). */
  staleTtl?: Duration
  /** Seconds after `ttl` during which the old result is returned when the function rejects. */
  grace?: Duration
  /**
   * Bounds on the wait for the function on a miss, as getOrSet's (ms or duration strings; each
   * given one replaces the cache's `timeouts` option, which applies otherwise):
   * `soft` serves a graced result and lets the call finish behind; `hard` rejects with
   * CacheLoaderTimeoutError. The function reads its signal through loaderContext().
   */
  timeouts?: LoaderTimeouts
}

export interface CacheInvalidateOptions<K extends AnyKeyFn<string | readonly string[]>> extends CommonOptions {
  /** The key or keys to invalidate, from the call's arguments. */
  keyFn: K
}
