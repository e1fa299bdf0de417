/**
 * TieredCache's store: L1 (local) over L2 (shared). Reads L1 then L2 (filling L1 for at most
 * `l1Ttl`), writes both, and tells other instances through the bus to drop their L1 copy of
 * every key written or invalidated here. Both tiers are used through the Cache contract (raw
 * reads where they offer them, so L1 holds the envelopes L2 holds).
 */
import type { Cache } from '../contract/cache'
import { rawManyReader, rawReader, type RawRead, type RawReadMany } from '../contract/capabilities'
import { StoreLink, type AsyncStore, type StoreOwner, type StoreStats, type StoreTraits, type WriteOrigin } from '../facade/store'
import type { InvalidationBus } from './invalidation-bus'

const TRAITS: StoreTraits = Object.freeze({ sync: false, countsLookups: false, sharedEnvelopes: true, wellFormedKeys: false })

/** What tierStats() reports. */
export interface TierStats {
  /** Lookups answered from L1 / from L2 (which had an entry), and by neither. */
  l1Hits: number
  l2Hits: number
  misses: number
  /** Keys dropped from L1 because another instance published them. */
  remoteInvalidations: number
  /** L1 clears after the subscriber (re)connected. */
  resyncs: number
  pendingPublishes: number
}

export class TieredStore<V> implements AsyncStore<V> {
  readonly traits = TRAITS
  private readonly link = new StoreLink()
  private readonly l1Read: RawRead
  private readonly l2Read: RawRead
  private readonly l1ReadMany: RawReadMany
  private readonly l2ReadMany: RawReadMany
  /** Bumped by every invalidation (local or remote): an L2 read that started before one must not fill L1. */
  private epoch = 0
  private readonly counts = { l1Hits: 0, l2Hits: 0, misses: 0, remoteInvalidations: 0, resyncs: 0 }
  private closed = false

  constructor(
    private readonly l1: Cache<V>,
    private readonly l2: Cache<V>,
    private readonly l1TtlMs: number,
    private readonly bus: InvalidationBus | undefined,
    private readonly closeTiers: boolean,
  ) {
    this.l1Read = rawReader(l1)
    this.l2Read = rawReader(l2)
    this.l1ReadMany = rawManyReader(l1)
    this.l2ReadMany = rawManyReader(l2)
  }

  attach(owner: StoreOwner): void {
    this.link.attach(owner)
    this.bus?.start({
      keys: (keys) => this.dropRemote(keys),
      clear: () => this.dropRemote(undefined),
      resync: () => this.resync(),
      error: (err) => owner.reportError(err),
    })
  }

  async get(key: string): Promise<unknown> {
    const local = await this.l1Read(key)
    if (local !== undefined) {
      this.counts.l1Hits++
      return local
    }
    const epoch = this.epoch
    const shared = await this.l2Read(key)
    if (shared === undefined) {
      this.counts.misses++
      return undefined
    }
    this.counts.l2Hits++
    if (epoch === this.epoch && !this.closed) await this.l1.set(key, shared as V, this.l1TtlMs / 1000)
    return shared
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    const values = await this.l1ReadMany(keys)
    const missing: number[] = []
    for (let i = 0; i < keys.length; i++) {
      if (values[i] === undefined) missing.push(i)
      else this.counts.l1Hits++
    }
    if (missing.length === 0) return values
    const epoch = this.epoch
    const shared = await this.l2ReadMany(missing.map((i) => keys[i]))
    const fill: [string, V, number][] = []
    missing.forEach((index, j) => {
      const value = shared[j]
      if (value === undefined) {
        this.counts.misses++
        return
      }
      this.counts.l2Hits++
      values[index] = value
      fill.push([keys[index], value as V, this.l1TtlMs / 1000])
    })
    if (fill.length > 0 && epoch === this.epoch && !this.closed) await this.l1.setMany(fill)
    return values
  }

  /**
   * A caller's set writes L2 first: when L2 rejects it (failOpen false), L1 keeps the old value.
   * A value getOrSet loaded (a fill) goes to both at once: it is a copy of the source of truth,
   * so this instance serves it from L1 from the moment it was loaded.
   */
  async set(key: string, value: unknown, ttlMs: number, origin?: WriteOrigin): Promise<void> {
    this.epoch++
    if (origin === undefined) {
      await this.l2.set(key, value as V, ttlMs / 1000)
      await this.l1.set(key, value as V, this.l1Ttl(ttlMs))
    } else {
      await Promise.all([this.l1.set(key, value as V, this.l1Ttl(ttlMs)), this.l2.set(key, value as V, ttlMs / 1000)])
    }
    this.bus?.publishKeys([key])
  }

  async setMany(entries: readonly (readonly [string, V, ...unknown[]])[], ttlsMs: readonly number[]): Promise<void> {
    this.epoch++
    await this.l2.setMany(entries.map(([key, value], i) => [key, value, ttlsMs[i] / 1000] as const))
    await this.l1.setMany(entries.map(([key, value], i) => [key, value, this.l1Ttl(ttlsMs[i])] as const))
    this.bus?.publishKeys(entries.map((e) => e[0]))
  }

  async delete(key: string): Promise<boolean> {
    this.epoch++
    const [local, shared] = await Promise.all([this.l1.invalidate(key), this.l2.invalidate(key)])
    this.bus?.publishKeys([key])
    return local || shared
  }

  async has(key: string): Promise<boolean> {
    return (await this.l1.has(key)) || this.l2.has(key)
  }

  async clear(): Promise<void> {
    this.epoch++
    await Promise.all([this.l1.clear(), this.l2.clear()])
    this.bus?.publishClear()
  }

  /** Evictions, expirations, size and maxsize are L1's (hits and misses are counted by the facade). */
  stats(): StoreStats {
    const l1 = this.l1.stats()
    return { evictions: l1.evictions, expirations: l1.expirations, size: l1.size, maxsize: l1.maxsize }
  }

  tierStats(): TierStats {
    return { ...this.counts, pendingPublishes: this.bus?.pending ?? 0 }
  }

  /** Stops listening, closes the channel connections and (closeTiers) both tiers. */
  async close(): Promise<void> {
    this.closed = true
    await this.bus?.close()
    if (this.closeTiers) await Promise.all([this.l1.close(), this.l2.close()])
  }

  /** An L1 copy lives at most l1Ttl, in seconds for the L1's set (0: the entry never expires in L2). */
  private l1Ttl(ttlMs: number): number {
    return (ttlMs === 0 ? this.l1TtlMs : Math.min(ttlMs, this.l1TtlMs)) / 1000
  }

  private dropRemote(keys: string[] | undefined): void {
    if (this.closed) return
    this.epoch++
    const owner = this.link.owner
    if (keys === undefined) {
      this.counts.remoteInvalidations++
      this.l1.clear().catch((err) => owner.reportError(err))
    } else {
      this.counts.remoteInvalidations += keys.length
      for (const key of keys) this.l1.invalidate(key).catch((err) => owner.reportError(err))
    }
    owner.emit('invalidated', keys)
  }

  /** The subscriber was away: any message may have been missed, so nothing in L1 can be trusted. */
  private resync(): void {
    if (this.closed) return
    this.epoch++
    this.counts.resyncs++
    const owner = this.link.owner
    this.l1
      .clear()
      .then(() => owner.emit('resync'))
      .catch((err) => owner.reportError(err))
  }
}
