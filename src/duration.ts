/**
 * Durations: every TTL and time option takes a number in its documented unit (seconds for
 * TTLs, milliseconds for timeouts) or a duration string such as '250ms', '30s', '5m', '1h',
 * '1d', parsed by `ms`. Parsed here and nowhere else; the callers keep their range checks.
 */
import ms from 'ms'
import { CacheError, CacheOptionError, CacheTtlError, describe } from './errors'

/** A number in the option's documented unit, or a duration string with a unit ('250ms', '30s', '5m', '1h', '1d'). */
export type Duration = number | string

/** A TTL above this, given as a bare number of seconds, is likely milliseconds by mistake. */
export const LONG_TTL_SECONDS = 30 * 24 * 3600

// A unit is required: '10' would be 10 ms to `ms`, which for a TTL in seconds is a trap.
const HAS_UNIT = /[a-z]\s*$/i

let warnedLongTtl = false

/** Milliseconds of a duration string; a malformed one throws `make`'s error naming `what` and the value. */
export function durationStringMs(text: string, what: string, make: (message: string) => CacheError = (m) => new CacheOptionError(m)): number {
  const parsed = HAS_UNIT.test(text) && text.length <= 100 ? ms(text as ms.StringValue) : undefined
  if (typeof parsed !== 'number' || !Number.isFinite(parsed)) {
    throw make(`${what} must be a number or a duration string with a unit such as '250ms', '30s', '5m', '1h' or '1d', got ${describe(text)}`)
  }
  return parsed
}

/** A TTL string in milliseconds, as a TTL error naming `what` when it is malformed. */
export function ttlStringMs(text: string, what: string): number {
  return durationStringMs(text, what, (m) => new CacheTtlError(m))
}

/** Once per process: a TTL number so large it was probably meant in milliseconds. */
export function warnLongTtl(what: string, seconds: number): void {
  if (warnedLongTtl) return
  warnedLongTtl = true
  const days = Math.round(seconds / 86400)
  process.emitWarning(
    `${what} ${seconds} is in seconds (about ${days} days); if you meant milliseconds, pass '${seconds}ms' — a duration string such as '${days}d' or '5m' says its unit and silences this warning`,
    { type: 'CacheTtlWarning', code: 'ASTRA_CACHE_LONG_TTL' },
  )
}

/**
 * A copy of `options` whose timeout options (`names`, in milliseconds) given as duration
 * strings are numbers of milliseconds (errors name `owner` and the option). Other values are left for the caller's range checks.
 */
export function withMilliseconds<T extends object>(options: T, names: readonly string[], owner?: string): T {
  let out: Record<string, unknown> | undefined
  const source = options as Record<string, unknown>
  for (const name of names) {
    const value = source[name]
    if (typeof value === 'string') (out ??= { ...source })[name] = durationStringMs(value, owner === undefined ? name : `${owner} ${name}`)
  }
  return (out ?? options) as T
}
