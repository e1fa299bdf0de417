/**
 * Stale-while-revalidate and grace for getOrSet / cached(), written once over the plain
 * Cache contract so every backend (memory, Redis, tiered, yours) gets the same behaviour.
 *
 * An entry served with `staleTtl` or `grace` is stored as an envelope holding the value and
 * absolute timestamps (from an injectable clock), with a physical TTL long enough to cover
 * the stale/grace window:
 *
 *   |---- ttl (fresh) ----|---- staleTtl: serve old value, one background refresh ----|
 *   |---- ttl (fresh) ----|---- grace: serve old value only when the loader fails -------------|
 *
 * Built-in caches unwrap envelopes in get()/getMany() (see unwrapFresh), so a plain read
 * sees the value while it is fresh and a miss afterwards.
 */
import { CacheOptionError, describe } from '../errors'
import { SingleFlight } from './single-flight'
import { ttlToMs } from '../validate'

/** The third argument of getOrSet: a ttl in seconds, or this object. */
export interface GetOrSetOptions {
  /** Seconds the value is fresh; default: the cache's defaultTtl. 0 or Infinity: never expires. */
  ttl?: number
  /** Seconds after `ttl` during which the old value is still returned while one refresh runs in the background. */
  staleTtl?: number
  /** Seconds after `ttl` during which the old value is returned when the loader fails (its error goes to onError). */
  grace?: number
}

export type TtlOrOptions = number | GetOrSetOptions

/** What resolveGetOrSetOptions returns: validated, in milliseconds. */
export interface ResolvedGetOrSetOptions {
  /** As given (seconds) or undefined: the cache's default. */
  ttl: number | undefined
  staleMs: number
  graceMs: number
  /** staleTtl or grace is set: the envelope path is needed. */
  swr: boolean
}

const KNOWN = new Set(['ttl', 'staleTtl', 'grace'])

/** Validates getOrSet's third argument (number or options object); errors name the option and value. */
export function resolveGetOrSetOptions(arg: unknown, what = 'getOrSet'): ResolvedGetOrSetOptions {
  if (arg === undefined) return { ttl: undefined, staleMs: 0, graceMs: 0, swr: false }
  if (typeof arg === 'number') {
    ttlToMs(arg, 'ttl')
    return { ttl: arg, staleMs: 0, graceMs: 0, swr: false }
  }
  if (arg === null || typeof arg !== 'object' || Array.isArray(arg)) {
    throw new CacheOptionError(`${what} expects a ttl in seconds or an options object { ttl, staleTtl, grace }, got ${describe(arg)}`)
  }
  for (const key of Object.keys(arg)) {
    if (!KNOWN.has(key)) throw new CacheOptionError(`unknown ${what} option "${key}" (expected ttl, staleTtl, grace)`)
  }
  const o = arg as GetOrSetOptions
  if (o.ttl !== undefined) ttlToMs(o.ttl, 'ttl')
  const staleMs = o.staleTtl === undefined ? 0 : windowMs(o.staleTtl, 'staleTtl')
  const graceMs = o.grace === undefined ? 0 : windowMs(o.grace, 'grace')
  return { ttl: o.ttl, staleMs, graceMs, swr: staleMs > 0 || graceMs > 0 }
}

/** Like ttlToMs, but Infinity stays Infinity (an endless window), 0 stays 0 (no window). */
function windowMs(seconds: number, what: string): number {
  if (seconds === Infinity) return Infinity
  return ttlToMs(seconds, what)
}

const MARK = '__astraSwr'

/** Built-in caches expose their read without envelope unwrapping under this symbol (see cacheStore). */
export const rawGet: unique symbol = Symbol.for('astra-cache.rawGet')

/** Likewise for getMany (RedisCache has it: TieredCache fills its L1 with the envelopes its L2 holds). */
export const rawGetMany: unique symbol = Symbol.for('astra-cache.rawGetMany')

/**
 * What is stored. Plain JSON (so it survives any serializer): `f` fresh-until, `s`
 * stale-until, `g` grace-until, absolute ms of the revalidator's clock; `f === 0` means
 * fresh forever; `s`/`g` of -1 mean an endless window (JSON has no Infinity).
 */
export interface SwrEnvelope<V> {
  [MARK]: 1
  v: V
  f: number
  s: number
  g: number
}

export function isEnvelope(value: unknown): value is SwrEnvelope<unknown> {
  return value !== null && typeof value === 'object' && (value as Record<string, unknown>)[MARK] === 1 && 'v' in (value as object)
}

function until(stamp: number): number {
  return stamp === -1 ? Infinity : stamp
}

/**
 * For a cache's plain get(): a stored envelope reads as its value while fresh and as a miss
 * afterwards (only getOrSet/cached with staleTtl/grace may serve it later). Other values pass through.
 */
export function unwrapFresh<V>(value: unknown, now: number): V | undefined {
  if (!isEnvelope(value)) return value as V | undefined
  return value.f === 0 || now < value.f ? (value.v as V) : undefined
}

/** Where an envelope lives: a raw read (no unwrapping) and a write with a ttl in seconds. */
export interface SwrStore {
  read(key: string): Promise<unknown>
  write(key: string, value: unknown, ttlSeconds: number): Promise<void>
}

export interface RevalidatorOptions {
  /** Milliseconds, wall clock by default (envelopes in Redis are read by other processes). */
  clock?: () => number
  /** Background refresh and grace failures; default: one process warning per Revalidator. */
  onError?: (error: unknown, key: string) => void
}

/**
 * Runs getOrSet with staleTtl/grace for one cache: one load per key at a time, shared by
 * misses, stale reads (background) and grace retries alike.
 */
export class Revalidator<V> {
  readonly clock: () => number
  private readonly flights = new SingleFlight<V>()
  private readonly onError: ((error: unknown, key: string) => void) | undefined
  private warned = false

  constructor(options: RevalidatorOptions = {}) {
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new CacheOptionError(`clock must be a function returning milliseconds, got ${describe(options.clock)}`)
    }
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw new CacheOptionError(`onError must be a function, got ${describe(options.onError)}`)
    }
    this.clock = options.clock ?? Date.now
    this.onError = options.onError
  }

  /** Background refreshes running now (for tests and health). */
  get refreshing(): number {
    return this.flights.size
  }

  /**
   * @param defaultTtl the cache's defaultTtl in seconds, used when `options.ttl` is undefined.
   */
  async getOrSet(store: SwrStore, key: string, load: () => Promise<V> | V, options: ResolvedGetOrSetOptions, defaultTtl: number): Promise<V> {
    const raw = await store.read(key)
    if (raw !== undefined) {
      if (!isEnvelope(raw)) return raw as V // written by set(): an ordinary hit
      const now = this.clock()
      if (raw.f === 0 || now < raw.f) return raw.v as V
      if (now < until(raw.s)) {
        // Stale: answer now, refresh once in the background.
        this.flights.run(key, () => this.loadAndStore(store, key, load, options, defaultTtl)).catch((err) => this.report(err, key))
        return raw.v as V
      }
      if (now < until(raw.g)) {
        try {
          return await this.flights.run(key, () => this.loadAndStore(store, key, load, options, defaultTtl))
        } catch (err) {
          this.report(err, key)
          return raw.v as V
        }
      }
    }
    return this.flights.run(key, () => this.loadAndStore(store, key, load, options, defaultTtl))
  }

  /** Builds the envelope for `value` written now. */
  envelope(value: V, options: ResolvedGetOrSetOptions, defaultTtl: number): { envelope: SwrEnvelope<V>; ttlSeconds: number } {
    const ttlMs = ttlToMs(options.ttl ?? defaultTtl)
    const now = this.clock()
    if (ttlMs === 0) return { envelope: { [MARK]: 1, v: value, f: 0, s: 0, g: 0 }, ttlSeconds: 0 }
    const f = now + ttlMs
    const windowMs = Math.max(options.staleMs, options.graceMs)
    return {
      envelope: {
        [MARK]: 1,
        v: value,
        f,
        s: options.staleMs === Infinity ? -1 : f + options.staleMs,
        g: options.graceMs === Infinity ? -1 : f + options.graceMs,
      },
      // The entry must outlive its stale/grace window; an endless window never expires.
      ttlSeconds: windowMs === Infinity ? 0 : (ttlMs + windowMs) / 1000,
    }
  }

  private async loadAndStore(store: SwrStore, key: string, load: () => Promise<V> | V, options: ResolvedGetOrSetOptions, defaultTtl: number): Promise<V> {
    const value = await load()
    // undefined means "absent": returned, never stored.
    if (value === undefined) return value
    const { envelope, ttlSeconds } = this.envelope(value, options, defaultTtl)
    await store.write(key, envelope, ttlSeconds)
    return value
  }

  private report(error: unknown, key: string): void {
    if (this.onError) {
      try {
        this.onError(error, key)
      } catch {
        // a failing handler must not turn a served value into a failure
      }
      return
    }
    if (this.warned) return
    this.warned = true
    process.emitWarning(`stale-while-revalidate refresh of key ${JSON.stringify(key)} failed: ${(error as Error)?.message ?? String(error)} (further failures are silent; pass onError to see them)`, {
      type: 'CacheRefreshWarning',
      code: 'ASTRA_CACHE_REFRESH',
    })
  }
}

/**
 * getOrSet with SWR over any Cache: the cache's own get/set carry the envelope. For a
 * built-in cache, prefer its getOrSet(key, load, { staleTtl, grace }); this is for caches
 * that only implement the contract.
 */
export function cacheStore(cache: { get(key: string): Promise<unknown>; set(key: string, value: never, ttl?: number): Promise<void> }): SwrStore {
  const raw = (cache as { [rawGet]?: (key: string) => Promise<unknown> })[rawGet]
  return {
    read: raw ? (key) => raw.call(cache, key) : (key) => cache.get(key),
    write: (key, value, ttlSeconds) => cache.set(key, value as never, ttlSeconds),
  }
}
