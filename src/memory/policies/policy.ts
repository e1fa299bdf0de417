import type { Links } from './queue'

export type PolicyName = 'lru' | 's3fifo' | 'tinylfu'
export const POLICY_NAMES: readonly PolicyName[] = ['lru', 's3fifo', 'tinylfu']
/** Engine-level variant: W-TinyLFU with the reference simulator's fixed 1 % window. */
export type EnginePolicy = PolicyName | 'tinylfu-fixed'

/** The binding's numeric policy codes (crates/core PolicyKind::from_code). */
export const POLICY_CODES: Record<EnginePolicy, number> = { lru: 0, s3fifo: 1, tinylfu: 2, 'tinylfu-fixed': 3 }

/**
 * What the pure-TS engine asks of a non-LRU policy (crates/core/src/policy mirrors it call
 * for call). Sequence for a new key: place(key), then prepare(full) -> victim or -1 (the
 * engine removes the victim, which calls unlink), then linkNew(slot).
 */
export interface EvictionPolicy {
  /** A hit: get, or set of a present key. */
  touch(slot: number): void
  /** A get that found nothing or an expired entry. */
  miss(key: string): void
  place(key: string): void
  prepare(full: boolean): number
  linkNew(slot: number): void
  unlink(slot: number): void
  /** Resident slots in the policy's order (tests). */
  order(): number[]
  clear(): void
  /** The engine reallocated its link arrays. */
  relink(links: Links): void
}
