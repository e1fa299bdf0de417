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
  // Past 2^53 ms (285,000 years) milliseconds stop being exact integers, and Redis refuses a PX
  // beyond 2^63: such a TTL is stored as what it means, no expiry.
  if (ms > Number.MAX_SAFE_INTEGER) return 0
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
 * Names other caches use for what an option here does (docs/readme/migration.md), with what
 * to write instead. Suggested only where `known` has the option the advice names.
 */
const PEER_NAMES: Readonly<Record<string, { option: string; advice: string }>> = {
  max: { option: 'maxsize', advice: 'maxsize' },
  maxSize: { option: 'maxsize', advice: "maxsize for a number of entries, or maxBytes with storage: 'serialized' for bytes" },
  sizeCalculation: { option: 'maxBytes', advice: "maxBytes with storage: 'serialized', where the engine measures each entry" },
  ttl: { option: 'defaultTtl', advice: 'defaultTtl, in seconds; lru-cache, cache-manager and Keyv take milliseconds' },
  url: { option: 'redisUrl', advice: 'redisUrl' },
  host: { option: 'redisUrl', advice: "redisUrl: 'redis://host:6379', or redisOptions: { host, port }" },
  port: { option: 'redisUrl', advice: "redisUrl: 'redis://host:6379', or redisOptions: { host, port }" },
  prefix: { option: 'keyPrefix', advice: 'keyPrefix' },
  namespace: { option: 'keyPrefix', advice: 'keyPrefix' },
  timeout: { option: 'timeouts', advice: "timeouts: { soft }; bentocache's timeout is the soft one" },
  hardTimeout: { option: 'timeouts', advice: 'timeouts: { hard }' },
}

/**
 * What an unknown option `key` was probably meant as, for the end of its error's first clause:
 * `: use b` (another cache's name for one of ours), `: did you mean b?` (a typo), or ''.
 */
export function suggestionFor(key: string, names: readonly string[]): string {
  const peer = Object.prototype.hasOwnProperty.call(PEER_NAMES, key) ? PEER_NAMES[key] : undefined
  if (peer !== undefined && names.includes(peer.option)) return `: use ${peer.advice}`
  const typo = closestName(key, names)
  return typo === undefined ? '' : `: did you mean ${typo}?`
}

/**
 * The name of `names` fewest edits from `key`, ignoring case, if any is within two (one for
 * names of four letters or fewer: two edits turn any short name into another, nope → name).
 */
export function closestName(key: string, names: readonly string[]): string | undefined {
  const lower = key.toLowerCase()
  let found: string | undefined
  let closest = 3
  for (const name of names) {
    const d = editDistance(lower, name.toLowerCase())
    if (d < closest && d <= (name.length <= 4 ? 1 : 2)) [found, closest] = [name, d]
  }
  return found
}

/**
 * Refuses a key `known` lacks (a typo such as maxSise), naming it, what it probably meant and
 * the known ones: `unknown ${what} "key": did you mean b? (known: a, b, c)`, or `: use b` for
 * another cache's name; `what` being e.g. 'RedisCache option'.
 */
export function checkKnownOptions(options: object, known: Iterable<string>, what: string, hint = ''): void {
  const names = [...known]
  for (const key of Object.keys(options)) {
    if (names.includes(key)) continue
    throw new CacheOptionError(`unknown ${what} "${key}"${suggestionFor(key, names)} (known: ${names.join(', ')}${hint})`)
  }
}

/**
 * Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`; 3 stands for
 * "more than 2", all closestName asks. Twelve lines for short option names did not warrant a
 * dependency.
 */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3
  let before: number[] = []
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j], before[j - 2] + 1)
    }
    before = previous
    previous = row
  }
  return previous[b.length]
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
  // Called once here, not on every read: a clock that returns undefined or a Date would
  // otherwise make every expiry comparison false (entries that never expire), silently.
  if (clock !== undefined) {
    const time: unknown = (clock as () => unknown)()
    if (typeof time !== 'number' || !Number.isFinite(time)) {
      throw new CacheOptionError(`clock must return milliseconds as a finite number, it returned ${describeTime(time)}`)
    }
  }
  return clock as (() => number) | undefined
}

function describeTime(time: unknown): string {
  if (time instanceof Date) return 'a Date: use () => Date.now(), or () => date.getTime()'
  if (typeof time === 'bigint') return `${describe(time)}: convert it, e.g. () => Number(process.hrtime.bigint() / 1_000_000n)`
  return describe(time)
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
