/**
 * cached() and cacheInvalidate(). cached() runs the same getOrSet as every cache
 * (facade/read-through.ts) over the cache's guarded calls (guard.ts): one lookup and one call
 * of the function per key at a time, stale-while-revalidate and grace. Cache failures (a
 * throwing, rejecting or hanging cache) never fail the call: the function runs, its result is
 * returned, and the error goes to `onError`. The call never waits for the write of its result:
 * that write runs behind it (bounded by timeoutMs like every guarded call) and a failure reaches
 * onError once it happens; after a lookup that failed, the write does not try the cache's
 * backend again. On a miss the function can read its loader context (signal, stale, setTtl)
 * through loaderContext() at its start; `timeouts` bound the wait for it as in getOrSet (without
 * them, the cache's own `timeouts` option applies).
 */
import { getDefaultCache } from '../config/default-cache'
import { CacheKeyError, CacheOptionError, describe } from '../errors'
import { loaderTimeouts } from '../contract/capabilities'
import { NO_TIMEOUTS, resolveGetOrSetOptions, type ResolvedGetOrSetOptions, type ResolvedTimeouts } from '../facade/get-or-set-options'
import { withLoaderContext } from '../facade/loader-context'
import { timersOf } from '../facade/loader-timers'
import { ReadThrough } from '../facade/read-through'
import { MAX_KEY_LENGTH, ttlToMs } from '../validate'
import { makeDecorator } from './forms'
import { commonSettings, Guard, guardedStore } from './guard'
import { boundKey, encodeArgList } from './key-encoding'
import type { AnyKeyFn, CacheDecorator, CachedOptions, CacheInvalidateOptions } from './types'

/** Caches a function's (or method's) results. See docs/config-and-decorators.md. */
export function cached<K extends AnyKeyFn<string> | undefined = undefined>(options: CachedOptions<K> = {}): CacheDecorator<K> {
  const settings = commonSettings(options, 'cached', ['cache', 'keyFn', 'ttl', 'staleTtl', 'grace', 'prefix', 'timeoutMs', 'onError', 'timeouts'])
  const keyFn = options.keyFn as AnyKeyFn<unknown> | undefined
  if (keyFn !== undefined && typeof keyFn !== 'function') throw new CacheOptionError(`cached keyFn must be a function, got ${describe(keyFn)}`)
  if (options.ttl !== undefined) ttlToMs(options.ttl, 'cached ttl')
  const given = { ttl: options.ttl, staleTtl: options.staleTtl, grace: options.grace, timeouts: options.timeouts }
  const ttlOptions = resolveGetOrSetOptions(given, 'cached')
  const optionsFor = withCacheTimeouts(ttlOptions, (defaults) => resolveGetOrSetOptions(given, 'cached', defaults))
  const timers = timersOf(options)

  return makeDecorator('cached', (fn, nameOf) => {
    const guard = new Guard(settings, nameOf)
    if (keyFn === undefined && settings.prefix === '' && fn.name === '' && nameOf.isAnonymous) {
      throw new CacheOptionError('cached() on an anonymous function needs a keyFn or a prefix, or its calls would share keys with other anonymous functions')
    }
    // The calls of one decorated function share lookups and loads per key. Envelopes use the
    // wall clock (other processes read them): Date.now as it is when the function is decorated.
    const reader = new ReadThrough<unknown>({
      clock: Date.now,
      onError: (error, key) => settings.onError?.(error, { op: 'get', key, cache: '', function: nameOf(undefined) }),
      timers,
    })
    return async function cachedCall(this: unknown, ...args: unknown[]): Promise<unknown> {
      const cache = settings.cache ?? getDefaultCache()
      const key = keyFn === undefined ? boundKey(withPrefix(settings.prefix, `${nameOf(this)}(${encodeArgList(args)})`)) : userKey(settings.prefix, keyFn.apply(this, args), 'cached keyFn')
      return reader.run(guardedStore(guard, this, cache, ttlOptions.swr), key, (context) => withLoaderContext(context, () => fn.apply(this, args)), optionsFor(cache), envelopeTtlMs(cache, ttlOptions.swr))
    }
  })
}

/** Invalidates one key or several after the function resolves (not when it rejects). */
export function cacheInvalidate<K extends AnyKeyFn<string | readonly string[]>>(options: CacheInvalidateOptions<K>): CacheDecorator<K> {
  const settings = commonSettings(options, 'cacheInvalidate', ['cache', 'keyFn', 'prefix', 'timeoutMs', 'onError'])
  const keyFn = options.keyFn as AnyKeyFn<unknown>
  if (typeof keyFn !== 'function') throw new CacheOptionError(`cacheInvalidate keyFn must be a function, got ${describe(keyFn)}`)

  return makeDecorator('cacheInvalidate', (fn, nameOf) => {
    const guard = new Guard(settings, nameOf)
    return async function invalidatingCall(this: unknown, ...args: unknown[]): Promise<unknown> {
      const cache = settings.cache ?? getDefaultCache()
      // Keys are computed before the call so a keyFn bug surfaces before the write happens.
      const produced = keyFn.apply(this, args)
      const keys = Array.isArray(produced)
        ? produced.map((key) => userKey(settings.prefix, key, 'cacheInvalidate keyFn'))
        : [userKey(settings.prefix, produced, 'cacheInvalidate keyFn')]
      const result = await fn.apply(this, args)
      await Promise.all(keys.map((key) => guard.run(this, cache, 'invalidate', key, () => cache.invalidate(key))))
      return result
    }
  })
}

/**
 * The options of a call on `cache`: `base`, or, when the cache has loader timeouts of its own,
 * `resolve(them)` (the function's own `timeouts` replace them one by one). Remembers the last
 * cache's, so calls on the same cache allocate nothing.
 */
function withCacheTimeouts(base: ResolvedGetOrSetOptions, resolve: (defaults: ResolvedTimeouts) => ResolvedGetOrSetOptions): (cache: object) => ResolvedGetOrSetOptions {
  let lastTimeouts: ResolvedTimeouts | undefined
  let lastOptions = base
  return (cache) => {
    let timeouts: ResolvedTimeouts | undefined
    try {
      timeouts = (cache as { [loaderTimeouts]?: ResolvedTimeouts })[loaderTimeouts]
    } catch {
      timeouts = undefined // a cache whose getter throws: no timeouts rather than a failed call
    }
    if (timeouts === undefined || timeouts === NO_TIMEOUTS) return base
    if (timeouts !== lastTimeouts) {
      lastTimeouts = timeouts
      lastOptions = resolve(timeouts)
    }
    return lastOptions
  }
}

/** The ttl of an envelope written without one: the cache's defaultTtl when it tells it, else 60 s (a plain value gets the cache's own default). */
function envelopeTtlMs(cache: object, swr: boolean): number {
  if (!swr) return 0
  const defaultTtl = (cache as { defaultTtl?: unknown }).defaultTtl
  return typeof defaultTtl === 'number' ? ttlToMs(defaultTtl, 'defaultTtl') : 60_000
}

function withPrefix(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}:${key}`
}

/** A key from a user's keyFn: must be a string; used as given (after the prefix), never hashed. */
function userKey(prefix: string, key: unknown, what: string): string {
  if (typeof key !== 'string') throw new CacheKeyError(`${what} must return a string key, got ${describe(key)}`)
  const full = withPrefix(prefix, key)
  if (full.length > MAX_KEY_LENGTH) {
    throw new CacheKeyError(`${what} returned a key of ${full.length} characters (prefix included); the maximum is ${MAX_KEY_LENGTH}`)
  }
  return full
}
