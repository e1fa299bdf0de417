/**
 * Cache calls made for a decorated function: each bounded in time, its failure reported to
 * onError (or one process warning), never thrown: the function runs, its result is returned.
 */
import { withMilliseconds } from '../duration'
import type { Cache } from '../contract/cache'
import { CacheOptionError, CacheUnavailableError, describe } from '../errors'
import { DECORATOR_CACHE_METHODS, failureCount, fillTickets, hasMethods, loadedWriter, rawReader, readNow as readNowSymbol, type RawRead, type ReadFailure, type ReadNow } from '../contract/capabilities'
import type { FillTickets } from '../facade/fill-tickets'
import type { LoadStore } from '../facade/read-through'
import type { WriteOrigin } from '../facade/store'
import type { NameOf } from './forms'
import type { CacheFailure, CacheFailureHandler, CommonOptions } from './types'
import { checkKnownOptions } from '../validate'

export const DEFAULT_DECORATOR_TIMEOUT_MS = 1000

export interface Settings {
  cache: Cache | undefined
  prefix: string
  timeoutMs: number
  onError: CacheFailureHandler | undefined
}

/** Runs cache operations for one decorated function: bounded in time, failures reported, never thrown. */
export class Guard {
  private warned = false
  constructor(
    private readonly settings: Settings,
    private readonly nameOf: NameOf,
  ) {}

  /** `start`'s result, or undefined when it failed or timed out (reported, and marked in `failure` when given). */
  async run<T>(self: unknown, cache: Cache, op: CacheFailure['op'], key: string, start: () => Promise<T>, failure?: ReadFailure): Promise<T | undefined> {
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
    if (failure) failure.failed = true
    const error =
      result.outcome === 'failed' ? result.error : new CacheUnavailableError(`cache "${safeName(cache)}" did not answer ${op} within ${timeoutMs} ms`)
    this.report(error, self, cache, op, key)
    return undefined
  }

  /** Reports the failure of a synchronous cache call (no timer needed: it cannot hang); the call goes on without it. */
  failed(error: unknown, self: unknown, cache: Cache, op: CacheFailure['op'], key: string): undefined {
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

export function commonSettings(options: unknown, what: string, known: readonly string[]): Settings {
  if (typeof options === 'function') {
    throw new CacheOptionError(`${what}() takes an options object and returns the wrapper, got a function: write ${what}({ ... })(fn)`)
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new CacheOptionError(`${what} options must be an object, got ${describe(options)}`)
  }
  // `cached(cache, { ttl })` (a cache where the options belong) would otherwise be refused for its first own field
  if (hasMethods(options, DECORATOR_CACHE_METHODS)) {
    throw new CacheOptionError(`${what}() takes one options object, got a cache (${options.constructor?.name ?? 'Cache'}): pass it as ${what}({ cache, ... })`)
  }
  checkKnownOptions(options, known, `${what} option`)
  const { cache, prefix = '', timeoutMs = DEFAULT_DECORATOR_TIMEOUT_MS, onError } = withMilliseconds(options as CommonOptions, ['timeoutMs'], what)
  if (cache !== undefined && !hasMethods(cache, DECORATOR_CACHE_METHODS)) throw new CacheOptionError(`${what} cache must be a Cache, got ${describe(cache)}`)
  if (typeof prefix !== 'string') throw new CacheOptionError(`${what} prefix must be a string, got ${describe(prefix)}`)
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || (timeoutMs !== Infinity && timeoutMs > 2 ** 31 - 1)) {
    throw new CacheOptionError(`${what} timeoutMs must be a positive number of milliseconds (at most ${2 ** 31 - 1}) or Infinity, got ${describe(timeoutMs)}`)
  }
  if (onError !== undefined && typeof onError !== 'function') throw new CacheOptionError(`${what} onError must be a function, got ${describe(onError)}`)
  return { cache, prefix, timeoutMs, onError }
}

/**
 * What cached() reads and writes through, each call guarded: with staleTtl/grace the cache's
 * raw read (envelopes as stored), else its get; and a write of the loaded value as the cache's
 * own getOrSet makes it (writeLoaded: a read, not an update). Nobody waits for that write: the
 * caller has its value, and a failure or timeout of the write reaches onError afterwards. The
 * lookup counts as failed when the guard cut it or the cache counted a failure of its own
 * backend meanwhile (failureCount: it answered from a fallback, or missed, after its own
 * timeout); the write then does not try that backend again. A cache with a synchronous read
 * (readNow: the memory cache) is read at once, without a timer (it cannot hang); a read that
 * throws (a closed cache) is reported as any failed lookup.
 */
export function guardedStore(guard: Guard, self: unknown, cache: Cache, raw: boolean): LoadStore {
  // Classes, not closures: a hit allocates one small object (closures made per call also cost
  // a name definition each under tsx/esbuild's keepNames, measured at half of a hit's time).
  const readNow = (cache as { [readNowSymbol]?: ReadNow })[readNowSymbol]
  return typeof readNow === 'function' ? new SyncGuardedStore(guard, self, cache, raw, readNow) : new AsyncGuardedStore(guard, self, cache, raw)
}

class AsyncGuardedStore implements LoadStore {
  readonly sync: boolean = false
  constructor(
    protected readonly guard: Guard,
    protected readonly self: unknown,
    protected readonly cache: Cache,
    protected readonly raw: boolean,
  ) {}

  /** The cache's own tickets (a built-in cache): a set or invalidate of the key meanwhile keeps the result out. Read on a load only, not on a hit. */
  get fills(): FillTickets | undefined {
    return (this.cache as { [fillTickets]?: FillTickets })[fillTickets]
  }

  read(key: string, failure: ReadFailure | undefined): unknown {
    const cache = this.cache
    const before = failuresOf(cache)
    const read: RawRead = this.raw ? rawReader(cache) : (k) => cache.get(k)
    return this.guard.run(this.self, cache, 'get', key, () => read(key, failure), failure).then((value) => {
      if (failure && failuresOf(cache) !== before) failure.failed = true
      return value
    })
  }

  write(key: string, value: unknown, ttlMs: number | undefined, origin: WriteOrigin): Promise<void> {
    const write = loadedWriter(this.cache)
    return this.guard.run(this.self, this.cache, 'set', key, () => write(key, value, ttlMs === undefined ? undefined : ttlMs / 1000, origin === 'fill-after-failure')).then(nothing)
  }
}

/** A memory cache answers at once: a hit is returned without a promise, a shared lookup or a timer. */
class SyncGuardedStore extends AsyncGuardedStore {
  override readonly sync: boolean = true
  constructor(
    guard: Guard,
    self: unknown,
    cache: Cache,
    raw: boolean,
    private readonly readNow: ReadNow,
  ) {
    super(guard, self, cache, raw)
  }

  override read(key: string): unknown {
    try {
      return this.readNow.call(this.cache, key, this.raw)
    } catch (error) {
      return this.guard.failed(error, this.self, this.cache, 'get', key)
    }
  }
}

function nothing(): void {}

function failuresOf(cache: Cache): unknown {
  try {
    return (cache as { [failureCount]?: unknown })[failureCount]
  } catch {
    return undefined
  }
}
