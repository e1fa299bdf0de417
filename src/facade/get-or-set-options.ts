import type { TtlOrOptions } from '../contract/cache'
import { CacheOptionError, describe } from '../errors'
import { ttlToMs } from '../validate'

/** getOrSet's third argument (or cached()'s ttl options), validated, in milliseconds. */
export interface ResolvedGetOrSetOptions {
  /** Fresh for this long; undefined: the cache's defaultTtl. 0: never expires. */
  ttlMs: number | undefined
  /** 0 = no stale window; Infinity = endless. */
  staleMs: number
  graceMs: number
  /** staleTtl or grace is set: values are stored as envelopes (see envelope.ts). */
  swr: boolean
}

const KNOWN = new Set(['ttl', 'staleTtl', 'grace'])
const PLAIN: ResolvedGetOrSetOptions = Object.freeze({ ttlMs: undefined, staleMs: 0, graceMs: 0, swr: false })

/** Validates getOrSet's third argument (seconds or { ttl, staleTtl, grace }); errors name the option and value. */
export function resolveGetOrSetOptions(arg: TtlOrOptions | undefined | unknown, what = 'getOrSet'): ResolvedGetOrSetOptions {
  if (arg === undefined) return PLAIN
  if (typeof arg === 'number') return { ttlMs: ttlToMs(arg, 'ttl'), staleMs: 0, graceMs: 0, swr: false }
  if (arg === null || typeof arg !== 'object' || Array.isArray(arg)) {
    throw new CacheOptionError(`${what} expects a ttl in seconds or an options object { ttl, staleTtl, grace }, got ${describe(arg)}`)
  }
  for (const key of Object.keys(arg)) {
    if (!KNOWN.has(key)) throw new CacheOptionError(`unknown ${what} option "${key}" (expected ttl, staleTtl, grace)`)
  }
  const o = arg as { ttl?: unknown; staleTtl?: unknown; grace?: unknown }
  const ttlMs = o.ttl === undefined ? undefined : ttlToMs(o.ttl, 'ttl')
  const staleMs = o.staleTtl === undefined ? 0 : windowMs(o.staleTtl, 'staleTtl')
  const graceMs = o.grace === undefined ? 0 : windowMs(o.grace, 'grace')
  return { ttlMs, staleMs, graceMs, swr: staleMs > 0 || graceMs > 0 }
}

/** Like ttlToMs, but Infinity stays Infinity (an endless window), 0 stays 0 (no window). */
function windowMs(seconds: unknown, what: string): number {
  if (seconds === Infinity) return Infinity
  return ttlToMs(seconds, what)
}
