/**
 * cached() and cacheInvalidate(): each returns one function that works three ways —
 * a function wrapper `cached(opts)(fn)`, a TC39 standard method decorator (TypeScript 5
 * default), and a legacy `experimentalDecorators` method decorator. Which form is in use
 * is told apart by the arguments the decorator receives.
 *
 * Cache failures (a throwing, rejecting or hanging cache) never fail the call: the
 * function runs, its result is returned, and the error goes to `onError`.
 */
import type { Cache } from '../contract/cache'
import { getDefaultCache, isCache } from '../config'
import { CacheKeyError, CacheOptionError, CacheUnavailableError, describe } from '../errors'
import { boundKey, encodeArgList } from './key-encoding'
import { SingleFlight } from '../facade/single-flight'
import { cacheStore, resolveGetOrSetOptions, Revalidator, unwrapFresh, type SwrStore } from '../facade/swr'
import { MAX_KEY_LENGTH, ttlToMs } from '../validate'

// ---------------------------------------------------------------- types

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFunction = (this: any, ...args: any[]) => any
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyKeyFn<R> = (...args: any[]) => R
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

interface CommonOptions {
  /** The cache to use; default: the process default cache (getDefaultCache()), looked up at each call. */
  cache?: Cache
  /** Prepended as `${prefix}:` to every key (default keys and keyFn keys alike). */
  prefix?: string
  /** Longest wait for one cache operation, in ms, before the call goes on without it. Default 1000; Infinity = no bound. */
  timeoutMs?: number
  /** Called for each cache failure. Default: one process warning (code ASTRA_CACHE_DECORATOR) per decorated function. */
  onError?: CacheFailureHandler
}

export interface CachedOptions<K extends AnyKeyFn<string> | undefined = undefined> extends CommonOptions {
  /** Builds the key from the call's arguments (`this` is the call's `this`). Default: name + stable encoding of the arguments. */
  keyFn?: K
  /** Seconds; default: the cache's defaultTtl. 0 or Infinity: never expires. */
  ttl?: number
  /** Seconds after `ttl` during which the old result is returned while one background call refreshes it (see docs/tiered.md). */
  staleTtl?: number
  /** Seconds after `ttl` during which the old result is returned when the function rejects. */
  grace?: number
}

export interface CacheInvalidateOptions<K extends AnyKeyFn<string | readonly string[]>> extends CommonOptions {
  /** The key or keys to invalidate, from the call's arguments. */
  keyFn: K
}

// ---------------------------------------------------------------- public API

export const DEFAULT_DECORATOR_TIMEOUT_MS = 1000

/** Caches a function's (or method's) results. See docs/config-and-decorators.md. */
export function cached<K extends AnyKeyFn<string> | undefined = undefined>(options: CachedOptions<K> = {}): CacheDecorator<K> {
  const settings = commonSettings(options, 'cached', ['cache', 'keyFn', 'ttl', 'staleTtl', 'grace', 'prefix', 'timeoutMs', 'onError'])
  const keyFn = options.keyFn as AnyKeyFn<unknown> | undefined
  if (keyFn !== undefined && typeof keyFn !== 'function') throw new CacheOptionError(`cached keyFn must be a function, got ${describe(keyFn)}`)
  const ttl = options.ttl
  if (ttl !== undefined) ttlToMs(ttl, 'cached ttl')
  const swr = resolveGetOrSetOptions({ ttl, staleTtl: options.staleTtl, grace: options.grace }, 'cached')

  return makeDecorator('cached', (fn, nameOf) => {
    const flights = new SingleFlight<unknown>()
    const guard = new Guard(settings, nameOf)
    if (keyFn === undefined && settings.prefix === '' && fn.name === '' && nameOf.isAnonymous) {
      throw new CacheOptionError('cached() on an anonymous function needs a keyFn or a prefix, or its calls would share keys with other anonymous functions')
    }
    const revalidator = swr.swr ? new Revalidator<unknown>({ onError: (error, key) => settings.onError?.(error, { op: 'get', key, cache: '', function: nameOf(undefined) }) }) : undefined
    return async function cachedCall(this: unknown, ...args: unknown[]): Promise<unknown> {
      const cache = settings.cache ?? getDefaultCache()
      const key = keyFn === undefined ? boundKey(withPrefix(settings.prefix, `${nameOf(this)}(${encodeArgList(args)})`)) : userKey(settings.prefix, keyFn.apply(this, args), 'cached keyFn')
      if (revalidator !== undefined) {
        // staleTtl/grace: envelopes over the cache's own get/set, each guarded like the plain path.
        const raw = cacheStore(cache as never)
        const store: SwrStore = {
          read: (k) => guard.run(this, cache, 'get', k, () => raw.read(k)),
          write: async (k, v, ttlSeconds) => {
            await guard.run(this, cache, 'set', k, () => raw.write(k, v, ttlSeconds))
          },
        }
        const defaultTtl = (cache as { defaultTtl?: unknown }).defaultTtl
        return revalidator.getOrSet(store, key, () => fn.apply(this, args), swr, typeof defaultTtl === 'number' ? defaultTtl : 60)
      }
      const hit = unwrapFresh(await guard.run(this, cache, 'get', key, () => cache.get(key)), Date.now())
      if (hit !== undefined) return hit
      return flights.run(key, async () => {
        const value = await fn.apply(this, args)
        if (value !== undefined) await guard.run(this, cache, 'set', key, () => cache.set(key, value, ttl))
        return value
      })
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

// ---------------------------------------------------------------- form detection

interface NameOf {
  (self: unknown): string
  /** True when no name at all is known (anonymous function in the wrapper form). */
  readonly isAnonymous: boolean
}

type Wrap = (fn: AnyFunction, nameOf: NameOf) => AnyFunction

function makeDecorator<K>(what: string, wrap: Wrap): CacheDecorator<K> {
  function decorator(target: unknown, context?: unknown, descriptor?: unknown): unknown {
    // TC39: (method, context) where context.kind says what is decorated.
    if (context !== null && typeof context === 'object' && 'kind' in context) {
      const ctx = context as ClassMethodDecoratorContext
      if (ctx.kind !== 'method' || typeof target !== 'function') {
        throw new CacheOptionError(`${what}() decorates methods only, not a ${String(ctx.kind)} (${String(ctx.name)})`)
      }
      let replacement: AnyFunction
      const nameOf = methodNameResolver(ctx.name, ctx.private, () => replacement)
      replacement = wrap(target as AnyFunction, nameOf)
      return replacement
    }
    // Legacy experimentalDecorators: (prototype or constructor, name, descriptor).
    if ((typeof context === 'string' || typeof context === 'symbol') && descriptor !== null && typeof descriptor === 'object') {
      const desc = descriptor as PropertyDescriptor
      if (typeof desc.value !== 'function') {
        throw new CacheOptionError(`${what}() decorates methods only; ${String(context)} is not a method`)
      }
      const owner = typeof target === 'function' ? target : (target as { constructor?: { name?: string } } | null)?.constructor
      const name = `${owner?.name || 'anonymous class'}.${String(context)}`
      desc.value = wrap(desc.value as AnyFunction, fixedName(name))
      return desc
    }
    // Wrapper: (fn).
    if (typeof target === 'function' && context === undefined && descriptor === undefined) {
      return wrap(target as AnyFunction, fixedName(target.name))
    }
    throw new CacheOptionError(`${what}() must wrap a function or decorate a method, got ${describe(target)}`)
  }
  return decorator as CacheDecorator<K>
}

function fixedName(name: string): NameOf {
  return Object.assign(() => name, { isAnonymous: name === '' })
}

/**
 * TC39 decorators do not tell the class name; it is found at the first call by walking
 * `this`'s prototype chain to the object that owns the decorated method (so a subclass
 * instance still keys as the defining class), then remembered.
 */
function methodNameResolver(member: string | symbol, isPrivate: boolean, replacement: () => AnyFunction): NameOf {
  const memberName = String(member)
  let resolved: string | undefined
  const nameOf = (self: unknown): string => {
    if (resolved !== undefined) return resolved
    let owner: unknown = isPrivate ? undefined : findOwner(self, member, replacement())
    if (owner === undefined) owner = typeof self === 'function' ? self : (self as { constructor?: unknown } | null | undefined)?.constructor
    const className = (owner as { name?: string } | undefined)?.name
    if (className === undefined) return memberName // detached call: do not remember
    resolved = `${className || 'anonymous class'}.${memberName}`
    return resolved
  }
  return Object.assign(nameOf, { isAnonymous: false })
}

function findOwner(self: unknown, member: string | symbol, fn: AnyFunction): unknown {
  let object: unknown = self
  while (object !== null && (typeof object === 'object' || typeof object === 'function')) {
    if (Object.getOwnPropertyDescriptor(object, member)?.value === fn) {
      return typeof object === 'function' ? object : (object as { constructor?: unknown }).constructor
    }
    object = Object.getPrototypeOf(object)
  }
  return undefined
}

// ---------------------------------------------------------------- cache calls that cannot fail the caller

interface Settings {
  cache: Cache | undefined
  prefix: string
  timeoutMs: number
  onError: CacheFailureHandler | undefined
}

/** Runs cache operations for one decorated function: bounded in time, failures reported, never thrown. */
class Guard {
  private warned = false
  constructor(
    private readonly settings: Settings,
    private readonly nameOf: NameOf,
  ) {}

  async run<T>(self: unknown, cache: Cache, op: CacheFailure['op'], key: string, start: () => Promise<T>): Promise<T | undefined> {
    const result: { outcome: 'pending' | 'ok' | 'failed'; value?: T; error?: unknown } = { outcome: 'pending' }
    let observed: Promise<void>
    try {
      observed = Promise.resolve(start()).then(
        (value) => {
          result.outcome = 'ok'
          result.value = value
        },
        (error: unknown) => {
          result.outcome = 'failed'
          result.error = error
        },
      )
    } catch (error) {
      result.outcome = 'failed'
      result.error = error
      observed = Promise.resolve()
    }
    const timeoutMs = this.settings.timeoutMs
    if (timeoutMs === Infinity) {
      await observed
    } else {
      // One microtask: an in-memory hit has settled by then and never pays for a timer.
      await undefined
      if (result.outcome === 'pending') {
        let timer: NodeJS.Timeout | undefined
        const expired = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs)
        })
        await Promise.race([observed, expired])
        clearTimeout(timer)
      }
    }
    if (result.outcome === 'ok') return result.value
    const error =
      result.outcome === 'failed' ? result.error : new CacheUnavailableError(`cache "${safeName(cache)}" did not answer ${op} within ${timeoutMs} ms`)
    this.report(error, self, cache, op, key)
    return undefined
  }

  private report(error: unknown, self: unknown, cache: Cache, op: CacheFailure['op'], key: string): void {
    const failure: CacheFailure = { op, key, cache: safeName(cache), function: this.nameOf(self) }
    const onError = this.settings.onError
    try {
      if (onError !== undefined) {
        onError(error, failure)
      } else if (!this.warned) {
        this.warned = true
        const reason = error instanceof Error ? error.message : String(error)
        process.emitWarning(
          `astra-cache: ${op} on cache "${failure.cache}" failed for ${failure.function || 'an anonymous function'} (${reason}); the call went on uncached. Further failures of this function are not reported; pass onError to see them all.`,
          { code: 'ASTRA_CACHE_DECORATOR' },
        )
      }
    } catch {
      // A failing error handler must not fail the call either.
    }
  }
}

function safeName(cache: Cache): string {
  try {
    return String(cache.name)
  } catch {
    return 'unknown'
  }
}

function commonSettings(options: unknown, what: string, known: readonly string[]): Settings {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new CacheOptionError(`${what} options must be an object, got ${describe(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new CacheOptionError(`unknown ${what} option "${key}" (known: ${known.join(', ')})`)
  }
  const { cache, prefix = '', timeoutMs = DEFAULT_DECORATOR_TIMEOUT_MS, onError } = options as CommonOptions
  if (cache !== undefined && !isCache(cache)) throw new CacheOptionError(`${what} cache must be a Cache, got ${describe(cache)}`)
  if (typeof prefix !== 'string') throw new CacheOptionError(`${what} prefix must be a string, got ${describe(prefix)}`)
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || (timeoutMs !== Infinity && timeoutMs > 2 ** 31 - 1)) {
    throw new CacheOptionError(`${what} timeoutMs must be a positive number of milliseconds (at most ${2 ** 31 - 1}) or Infinity, got ${describe(timeoutMs)}`)
  }
  if (onError !== undefined && typeof onError !== 'function') throw new CacheOptionError(`${what} onError must be a function, got ${describe(onError)}`)
  return { cache, prefix, timeoutMs, onError }
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
