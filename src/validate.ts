import { LONG_TTL_SECONDS, ttlStringMs, warnLongTtl } from './duration'
import { CacheKeyError, CacheOptionError, CacheTtlError, CacheValueError, describe } from './errors'

/** Longest key accepted, in UTF-16 code units. Long enough for any sane key, short enough to bound work per call. */
export const MAX_KEY_LENGTH = 4096
/** Largest maxsize accepted: slots are u32 in the native engine and typed-array indices in the JS one. */
export const MAX_MAXSIZE = 2 ** 30

/**
 * A key: a string of at most MAX_KEY_LENGTH UTF-16 code units. `wellFormed`, for backends that
 * store UTF-8 (Redis): no lone surrogate, which would be replaced by U+FFFD and collide with
 * another key.
 */
export function checkKey(key: unknown, wellFormed = false): asserts key is string {
  if (typeof key !== 'string') throw new CacheKeyError(`key must be a string, got ${describe(key)}`)
  if (key.length > MAX_KEY_LENGTH) {
    throw new CacheKeyError(`key is ${key.length} characters long; the maximum is ${MAX_KEY_LENGTH}`)
  }
  if (wellFormed && !(key as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    throw new CacheKeyError(`key ${describe(key)} contains a lone UTF-16 surrogate, which Redis (UTF-8) cannot store distinctly`)
  }
}

export function checkKeys(keys: unknown, wellFormed = false): asserts keys is readonly string[] {
  if (!Array.isArray(keys)) throw new CacheKeyError(`keys must be an array of strings, got ${describe(keys)}`)
  for (const key of keys) checkKey(key, wellFormed)
}

export function checkValue(value: unknown): void {
  if (value === undefined) throw new CacheValueError('value must not be undefined (use invalidate() to remove a key; null is a value)')
}

/**
 * Validates a TTL, a number of seconds or a duration string ('30s', '5m'), and returns it in
 * milliseconds; 0 means never expires. `what` names the thing in error messages ("ttl",
 * "defaultTtl"). A bare number above 30 days gives one process warning (seconds, not ms).
 */
export function ttlToMs(ttl: unknown, what = 'ttl'): number {
  if (typeof ttl === 'string') return msOfTtl(ttlStringMs(ttl, what), ttl, what)
  if (typeof ttl !== 'number' || Number.isNaN(ttl)) {
    throw new CacheTtlError(`${what} must be a number of seconds or a duration string such as '5m' (0 or Infinity for no expiry), got ${describe(ttl)}`)
  }
  if (ttl === Infinity) return 0
  if (ttl > LONG_TTL_SECONDS) warnLongTtl(what, ttl)
  return msOfTtl(ttl * 1000, ttl, what)
}

/** A TTL option as the cache reports it (seconds; a duration string converted) and in ms. */
export function ttlOption(ttl: unknown, what: string): { seconds: number; ms: number } {
  const ms = ttlToMs(ttl, what)
  return { seconds: typeof ttl === 'number' ? ttl : ms / 1000, ms }
}

function msOfTtl(ms: number, given: unknown, what: string): number {
  if (ms < 0) throw new CacheTtlError(`${what} must not be negative, got ${describe(given)}`)
  // A positive TTL that rounds to less than a millisecond still expires: keep it at least 1 ms.
  return ms === 0 ? 0 : Math.max(1, Math.round(ms))
}

export function checkMaxsize(maxsize: unknown, what = 'maxsize'): number {
  if (typeof maxsize !== 'number' || !Number.isInteger(maxsize) || maxsize < 1 || maxsize > MAX_MAXSIZE) {
    throw new CacheOptionError(`${what} must be an integer from 1 to ${MAX_MAXSIZE}, got ${describe(maxsize)}`)
  }
  return maxsize
}

export function checkOptionsObject(options: unknown, what: string): void {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new CacheOptionError(`${what} options must be an object, got ${describe(options)}`)
  }
}

/**
 * Refuses a key `known` lacks (a typo such as maxSize), naming it and the known ones:
 * `unknown ${what} "key" (known: a, b, c)`, `what` being e.g. 'RedisCache option'.
 */
export function checkKnownOptions(options: object, known: Iterable<string>, what: string, hint = ''): void {
  const names = [...known]
  for (const key of Object.keys(options)) {
    if (!names.includes(key)) throw new CacheOptionError(`unknown ${what} "${key}" (known: ${names.join(', ')}${hint})`)
  }
}

/** A boolean option: `value`, or `fallback` when it is undefined; anything else (`'yes'`, 1) is refused, naming `what`. */
export function booleanOption<F extends boolean | undefined>(value: unknown, fallback: F, what: string): boolean | F {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new CacheOptionError(`${what} must be true or false, got ${describe(value)}`)
  return value
}

/** A `clock` option: undefined (the default applies) or a function returning milliseconds. */
export function checkClock(clock: unknown): (() => number) | undefined {
  if (clock !== undefined && typeof clock !== 'function') {
    throw new CacheOptionError(`clock must be a function returning milliseconds, got ${describe(clock)}`)
  }
  return clock as (() => number) | undefined
}

/** Only a missing option takes the default: null is a wrong value, not "use the default". */
export function orDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value
}

export function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new CacheOptionError(`name must be a non-empty string, got ${describe(name)}`)
  return name
}

/**
 * Validates a setMany argument, an array of [key, value, ttl?] entries, before anything is
 * stored (a bad entry stores nothing). Returns each entry's ttl in ms (`defaultTtlMs` when omitted).
 */
export function checkEntries(entries: unknown, defaultTtlMs: number, wellFormedKeys = false): number[] {
  if (!Array.isArray(entries)) throw new CacheOptionError(`setMany expects an array of [key, value, ttl?] entries, got ${describe(entries)}`)
  return entries.map((entry: unknown, i) => {
    if (!Array.isArray(entry)) throw new CacheOptionError(`setMany entry ${i} must be a [key, value, ttl?] array, got ${describe(entry)}`)
    checkKey(entry[0], wellFormedKeys)
    checkValue(entry[1])
    return entry[2] === undefined ? defaultTtlMs : ttlToMs(entry[2])
  })
}

export function checkLoader(load: unknown): void {
  if (typeof load !== 'function') throw new CacheOptionError(`getOrSet expects a loader function, got ${describe(load)}`)
}
