import { SWEEP_PER_SET, type RemovalReason } from './engine'

/**
 * The numbers of the native boundary, as crates/node/src/layout.rs defines them. The
 * loader (src/native.ts) compares every one with the binary's `layout()` and refuses a
 * binary that disagrees, so this copy cannot drift from Rust unnoticed.
 */
export const LAYOUT = {
  BINDING_VERSION: 4,
  MISS: -1,
  EXPIRED_BASE: -2,
  STATUS_AT: 0,
  LOG_AT: 4,
  LOG_PAIRS: 8,
  COUNTERS_AT: 20,
  COUNTERS: 10,
  NOW_AT: 40,
  BATCH: 256,
  ENDS_AT: 42,
  OUT_AT: 298,
  AREA_WORDS: 554,
  TAG_LATIN1: 0,
  TAG_UTF16: 1,
  TAG_BYTES: 2,
  TAG_SERIALIZED: 4,
  FLAG_REPORT: 1,
  REMOVAL_FIELDS: 5,
  MAX_CAPACITY: 2 ** 30,
  SWEEP_PER_SET,
  MAX_KEY_UNITS: 65536,
  ENTRY_BYTES: 22,
  POLICY_ENTRY_BYTES: 5,
  COUNTER_HITS: 0,
  COUNTER_MISSES: 1,
  COUNTER_EVICTIONS: 2,
  COUNTER_EXPIRATIONS: 3,
  COUNTER_SETS: 4,
  COUNTER_SIZE: 5,
  COUNTER_BYTES: 6,
  COUNTER_ARENABYTES: 7,
  COUNTER_FRAGMENTATION: 8,
  COUNTER_RECOVERIES: 9,
  REASON_EVICT: 0,
  REASON_EXPIRE: 1,
  REASON_DELETE: 2,
  REASON_SET: 3,
  REASON_CLEAR: 4,
} as const

/** The area word where a serialized or machine-wide read leaves its value's tag (crates/node/src/area.rs: STATUS_AT + 1). */
export const VALUE_TAG_AT = LAYOUT.STATUS_AT + 1

/** The differences between this copy and a binary's layout() (empty when they agree). */
export function layoutDifferences(native: Record<string, number>): string[] {
  const out: string[] = []
  const names = new Set([...Object.keys(LAYOUT), ...Object.keys(native)])
  for (const name of names) {
    const mine = (LAYOUT as Record<string, number>)[name]
    if (mine !== native[name]) out.push(`${name}: binary ${String(native[name])}, expected ${String(mine)}`)
  }
  return out
}

/** Reason names by code (layout.rs reason_code). */
export const REASONS: readonly RemovalReason[] = ['evict', 'expire', 'delete', 'set', 'clear']

/** Views over the per-thread shared area (crates/node/src/area.rs). */
export interface AreaViews {
  i32: Int32Array
  /** now[0]: the time of the next keyed call (ms; negative: the engine's own clock). */
  now: Float64Array
  counters: Float64Array
  ends: Int32Array
  out: Int32Array
}

export function areaViews(buffer: ArrayBuffer): AreaViews {
  return {
    i32: new Int32Array(buffer, 0, LAYOUT.AREA_WORDS),
    counters: new Float64Array(buffer, 4 * LAYOUT.COUNTERS_AT, LAYOUT.COUNTERS),
    now: new Float64Array(buffer, 4 * LAYOUT.NOW_AT, 1),
    ends: new Int32Array(buffer, 4 * LAYOUT.ENDS_AT, LAYOUT.BATCH),
    out: new Int32Array(buffer, 4 * LAYOUT.OUT_AT, LAYOUT.BATCH),
  }
}
