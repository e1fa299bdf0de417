/**
 * How an entry written by getOrSet/cached() with `staleTtl` or `grace` is stored: an envelope
 * holding the value and absolute timestamps (ms of the writer's clock), with a physical TTL
 * long enough to cover the stale/grace window:
 *
 *   |---- ttl (fresh) ----|---- staleTtl: serve old value, one background refresh ----|
 *   |---- ttl (fresh) ----|---- grace: serve old value only when the loader fails -------------|
 *
 * Plain JSON, so it survives any serializer and is read alike by every process: `f`
 * fresh-until, `s` stale-until, `g` grace-until; `f === 0` means fresh forever; `s`/`g` of -1
 * mean an endless window (JSON has no Infinity). A plain read (get, getMany) sees the value
 * while it is fresh and a miss afterwards.
 */
import type { ResolvedGetOrSetOptions } from './get-or-set-options'

const MARK = '__astraSwr'

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

/** Where an envelope stands at `now`. */
export type EnvelopePhase = 'fresh' | 'stale' | 'grace' | 'expired'

export function phaseOf(envelope: SwrEnvelope<unknown>, now: number): EnvelopePhase {
  if (envelope.f === 0 || now < envelope.f) return 'fresh'
  if (now < until(envelope.s)) return 'stale'
  if (now < until(envelope.g)) return 'grace'
  return 'expired'
}

function until(stamp: number): number {
  return stamp === -1 ? Infinity : stamp
}

/** What a plain read returns: an envelope's value while fresh, a miss afterwards; other values as they are. */
export function unwrapFresh<V>(value: unknown, now: number): V | undefined {
  if (!isEnvelope(value)) return value as V | undefined
  return value.f === 0 || now < value.f ? (value.v as V) : undefined
}

/** The envelope for `value` written at `now`, and the physical TTL (ms, 0 = never expires) that covers its windows. */
export function makeEnvelope<V>(value: V, options: ResolvedGetOrSetOptions, defaultTtlMs: number, now: number): { envelope: SwrEnvelope<V>; ttlMs: number } {
  const ttlMs = options.ttlMs ?? defaultTtlMs
  if (ttlMs === 0) return { envelope: { [MARK]: 1, v: value, f: 0, s: 0, g: 0 }, ttlMs: 0 }
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
    ttlMs: windowMs === Infinity ? 0 : ttlMs + windowMs,
  }
}
