import type { TtlOrOptions } from '../contract/cache'
import { durationStringMs } from '../duration'
import { CacheOptionError, describe } from '../errors'
import { suggestionFor, ttlToMs } from '../validate'

/** The loader timeouts, in milliseconds; Infinity = no bound. */
export interface ResolvedTimeouts {
  softMs: number
  hardMs: number
}

/** getOrSet's third argument (or cached()'s ttl options), validated, in milliseconds. */
export interface ResolvedGetOrSetOptions {
  /** Fresh for this long; undefined: the cache's defaultTtl. 0: never expires. */
  ttlMs: number | undefined
  /** 0 = no stale window; Infinity = endless. */
  staleMs: number
  graceMs: number
  /** staleTtl or grace is set: values are stored as envelopes (see envelope.ts). */
  swr: boolean
  /** Loader timeouts (ms); undefined or Infinity: none (a Revalidator's caller may build these options without them). */
  softMs?: number
  hardMs?: number
}

const KNOWN = new Set(['ttl', 'staleTtl', 'grace', 'timeouts'])
const TIMEOUT_KEYS = new Set(['soft', 'hard'])
// Sets for the per-call check; the lists only for an error's suggestion.
const KNOWN_LIST = [...KNOWN]
const TIMEOUT_LIST = [...TIMEOUT_KEYS]
/** setTimeout's longest delay. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1

export const NO_TIMEOUTS: ResolvedTimeouts = Object.freeze({ softMs: Infinity, hardMs: Infinity })
const PLAIN: ResolvedGetOrSetOptions = Object.freeze({ ttlMs: undefined, staleMs: 0, graceMs: 0, swr: false, softMs: Infinity, hardMs: Infinity })

/**
 * Validates getOrSet's third argument (seconds or { ttl, staleTtl, grace, timeouts }); errors
 * name the option and value. `defaults`: the cache's own `timeouts`, for those the call omits.
 */
export function resolveGetOrSetOptions(arg: TtlOrOptions | undefined | unknown, what = 'getOrSet', defaults: ResolvedTimeouts = NO_TIMEOUTS): ResolvedGetOrSetOptions {
  if (arg === undefined) return defaults === NO_TIMEOUTS ? PLAIN : { ...PLAIN, ...defaults }
  if (typeof arg === 'number' || typeof arg === 'string') return { ttlMs: ttlToMs(arg, 'ttl'), staleMs: 0, graceMs: 0, swr: false, softMs: defaults.softMs, hardMs: defaults.hardMs }
  if (arg === null || typeof arg !== 'object' || Array.isArray(arg)) {
    throw new CacheOptionError(`${what} expects a ttl (seconds or a duration string) or an options object { ttl, staleTtl, grace, timeouts }, got ${describe(arg)}`)
  }
  for (const key of Object.keys(arg)) {
    if (!KNOWN.has(key)) throw new CacheOptionError(`unknown ${what} option "${key}"${suggestionFor(key, KNOWN_LIST)} (expected ttl, staleTtl, grace, timeouts)`)
  }
  const o = arg as { ttl?: unknown; staleTtl?: unknown; grace?: unknown; timeouts?: unknown }
  const ttlMs = o.ttl === undefined ? undefined : ttlToMs(o.ttl, 'ttl')
  const staleMs = o.staleTtl === undefined ? 0 : windowMs(o.staleTtl, 'staleTtl')
  const graceMs = o.grace === undefined ? 0 : windowMs(o.grace, 'grace')
  const { softMs, hardMs } = o.timeouts === undefined ? defaults : resolveTimeouts(o.timeouts, `${what} timeouts`, defaults)
  return { ttlMs, staleMs, graceMs, swr: staleMs > 0 || graceMs > 0, softMs, hardMs }
}

/**
 * Validates a `timeouts` option ({ soft, hard }, each milliseconds or a duration string,
 * positive, Infinity = no bound); an omitted one keeps its `defaults` value. Errors name `what`.
 */
export function resolveTimeouts(arg: unknown, what: string, defaults: ResolvedTimeouts = NO_TIMEOUTS): ResolvedTimeouts {
  if (arg === undefined) return defaults
  if (arg === null || typeof arg !== 'object' || Array.isArray(arg)) {
    throw new CacheOptionError(`${what} must be an object { soft, hard } (milliseconds or duration strings), got ${describe(arg)}`)
  }
  for (const key of Object.keys(arg)) {
    if (!TIMEOUT_KEYS.has(key)) throw new CacheOptionError(`unknown ${what} option "${key}"${suggestionFor(key, TIMEOUT_LIST)} (expected soft, hard)`)
  }
  const o = arg as { soft?: unknown; hard?: unknown }
  const softMs = o.soft === undefined ? defaults.softMs : timeoutMs(o.soft, `${what}.soft`)
  const hardMs = o.hard === undefined ? defaults.hardMs : timeoutMs(o.hard, `${what}.hard`)
  return softMs === Infinity && hardMs === Infinity ? NO_TIMEOUTS : { softMs, hardMs }
}

function timeoutMs(value: unknown, what: string): number {
  const ms = typeof value === 'string' ? durationStringMs(value, what) : value
  if (typeof ms !== 'number' || !(ms > 0) || (ms !== Infinity && ms > MAX_TIMEOUT_MS)) {
    throw new CacheOptionError(`${what} must be a positive number of milliseconds (at most ${MAX_TIMEOUT_MS}), a duration string or Infinity, got ${describe(value)}`)
  }
  return ms
}

/** Like ttlToMs, but Infinity stays Infinity (an endless window), 0 stays 0 (no window). */
function windowMs(seconds: unknown, what: string): number {
  if (seconds === Infinity) return Infinity
  return ttlToMs(seconds, what)
}
