import { isEnvelope } from './envelope'
import type { StoreStats } from './store'

/**
 * What a read gives the caller, and what counts as a hit, decided here for every backend: a
 * lookup is a hit when the caller got a value. A stale-while-revalidate envelope is its value
 * while fresh and a miss afterwards for a plain read; getOrSet judges its own lookups (a stale
 * value it serves is a hit). Counted here, unless the store counts its own lookups (the memory
 * engine, shared by threads): then only the store's hits that were misses for the caller are.
 */
export class Lookups<V> {
  private hits = 0
  private misses = 0
  /** Lookups a counting store took for hits that were misses for the caller (stale envelopes). */
  private demoted = 0

  constructor(
    private readonly storeCounts: boolean,
    /** Reads are checked for envelopes (the store is shared with other writers, or this cache wrote one). */
    public envelopes: boolean,
    private readonly clock: () => number,
  ) {}

  /** A read's value goes to the caller as the store gave it: no envelope to check, nothing to count here. */
  get passThrough(): boolean {
    return this.storeCounts && !this.envelopes
  }

  /** A plain read (get, getMany) of a stored value. */
  served(raw: unknown): V | undefined {
    const value = this.envelopes && isEnvelope(raw) ? (raw.f === 0 || this.clock() < raw.f ? (raw.v as V) : undefined) : (raw as V | undefined)
    if (this.storeCounts) {
      if (value === undefined && raw !== undefined) this.demoted++
    } else if (value === undefined) {
      this.misses++
    } else {
      this.hits++
    }
    return value
  }

  servedAll(raws: unknown[]): (V | undefined)[] {
    for (let i = 0; i < raws.length; i++) raws[i] = this.served(raws[i])
    return raws as (V | undefined)[]
  }

  /** A raw read (envelopes as stored): an entry found is a hit. */
  found(raw: unknown): void {
    if (this.storeCounts) return
    if (raw === undefined) this.misses++
    else this.hits++
  }

  /** getOrSet's verdict on its lookup: an entry was `found`, and served (`hit`) without waiting for a load. */
  judged(found: boolean, hit: boolean): void {
    if (this.storeCounts) {
      if (found && !hit) this.demoted++
    } else if (hit) {
      this.hits++
    } else {
      this.misses++
    }
  }

  /** The cache's hits and misses, given its store's stats. */
  totals(stats: StoreStats): { hits: number; misses: number } {
    if (!this.storeCounts) return { hits: this.hits, misses: this.misses }
    return { hits: (stats.hits ?? 0) - this.demoted, misses: (stats.misses ?? 0) + this.demoted }
  }
}
