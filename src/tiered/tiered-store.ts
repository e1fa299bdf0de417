/**
 * TieredCache's store: L1 (local) over L2 (shared). Reads L1 then L2 (filling L1 for at most
 * `l1Ttl`), writes both, and tells other instances through the bus to drop their L1 copy of
 * every key written or invalidated here. Both tiers are used through the Cache contract (raw
 * reads where they offer them, so L1 holds the envelopes L2 holds).
 */
import type { Cache } from '../contract/cache'
import { rawManyReader, rawReader, remainingTtl, watchShared, WATCH_LEASE_MS, type RawRead, type RawReadMany, type RemainingTtl, type WatchShared } from '../contract/capabilities'
import { StoreLink, type AsyncStore, type StoreOwner, type StoreStats, type StoreTraits, type WriteOrigin } from '../facade/store'
import type { InvalidationBus } from './invalidation-bus'

/** Where a caller write stands in issue order: its sequence number and the clears issued before it. */
interface WriteStamp {
  seq: number
  clears: number
}

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
  /** (Re)subscriptions that kept a shared() L1: another instance (process or thread) was subscribed throughout. */
  resyncsVouched: number
  /** Times the subscription was lost: its connection closed, or stopped answering the bus's heartbeat. */
  subscriptionLosses: number
  pendingPublishes: number
}

export class TieredStore<V> implements AsyncStore<V> {
  readonly traits = TRAITS
  private readonly link = new StoreLink()
  private readonly l1Read: RawRead
  private readonly l2Read: RawRead
  private readonly l1ReadMany: RawReadMany
  private readonly l2ReadMany: RawReadMany
  /** The L2's remaining TTLs, when it can tell them (a RedisCache): an L1 copy must not outlive its L2 entry. */
  private readonly l2Left: RemainingTtl | undefined
  /** Bumped by every invalidation (local or remote): an L2 read that started before one must not fill L1. */
  private epoch = 0
  private readonly counts = { l1Hits: 0, l2Hits: 0, misses: 0, remoteInvalidations: 0, resyncs: 0, resyncsVouched: 0, subscriptionLosses: 0 }
  /** A shared() L1's watcher lease (capabilities.ts watchShared), with the bus topic it is for. */
  private readonly watch: { lease: WatchShared; topic: string } | undefined
  private beat: NodeJS.Timeout | undefined
  private closed = false
  /** Issue order of in-flight writes: key -> stamp of the latest caller write (or delete) issued for it. */
  private readonly latestWrite = new Map<string, number>()
  private writes = 0
  private clears = 0

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
    const left = (l2 as { [remainingTtl]?: RemainingTtl })[remainingTtl]
    this.l2Left = typeof left === 'function' ? left.bind(l2) : undefined
    const lease = (l1 as { [watchShared]?: WatchShared })[watchShared]
    const topic = bus?.topic
    this.watch = typeof lease === 'function' && topic !== undefined ? { lease: lease.bind(l1), topic } : undefined
  }

  attach(owner: StoreOwner): void {
    this.link.attach(owner)
    this.bus?.start({
      keys: (keys) => this.dropRemote(keys),
      clear: () => this.dropRemote(undefined),
      resync: () => this.resync(),
      lost: () => {
        this.counts.subscriptionLosses++
        this.unwatch()
      },
      resumed: () => this.rewatch(),
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
    // Sent beside the read, so it costs no round trip of its own.
    const left = this.l2Left?.([key])
    const shared = await this.l2Read(key)
    if (shared === undefined) {
      this.counts.misses++
      return undefined
    }
    this.counts.l2Hits++
    const leftMs = left === undefined ? undefined : (await left)[0]
    if (epoch === this.epoch && !this.closed) await this.l1.set(key, shared as V, this.l1Ttl(leftMs ?? 0))
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
    const missingKeys = missing.map((i) => keys[i])
    const left = this.l2Left?.(missingKeys)
    const shared = await this.l2ReadMany(missingKeys)
    const leftMs = left === undefined ? undefined : await left
    const fill: [string, V, number][] = []
    missing.forEach((index, j) => {
      const value = shared[j]
      if (value === undefined) {
        this.counts.misses++
        return
      }
      this.counts.l2Hits++
      values[index] = value
      fill.push([keys[index], value as V, this.l1Ttl(leftMs?.[j] ?? 0)])
    })
    if (fill.length > 0 && epoch === this.epoch && !this.closed) await this.l1.setMany(fill)
    return values
  }

  /**
   * A caller's set drops the L1 copy at once (a read issued after it goes to L2, which answers
   * in issue order), writes L2, then L1, unless a later write of the key (or a clear) was issued
   * meanwhile: L1 then takes effect in issue order too. When L2 rejects it (failOpen false), L1
   * holds no copy. A value getOrSet loaded (a fill) goes to both at once: it is a copy of the
   * source of truth, so this instance serves it from L1 from the moment it was loaded.
   */
  async set(key: string, value: unknown, ttlMs: number, origin?: WriteOrigin): Promise<void> {
    this.epoch++
    if (origin === undefined) {
      const write = this.issue([key])
      const dropped = this.l1.invalidate(key)
      try {
        await this.l2.set(key, value as V, ttlMs / 1000)
        await dropped
        if (this.isLatest(key, write)) await this.l1.set(key, value as V, this.l1Ttl(ttlMs))
      } finally {
        this.settle([key], write)
      }
    } else {
      await Promise.all([this.l1.set(key, value as V, this.l1Ttl(ttlMs)), this.l2.set(key, value as V, ttlMs / 1000)])
    }
    this.bus?.publishKeys([key])
  }

  async setMany(entries: readonly (readonly [string, V, ...unknown[]])[], ttlsMs: readonly number[]): Promise<void> {
    this.epoch++
    const keys = entries.map((e) => e[0])
    const write = this.issue(keys)
    const dropped = Promise.all(keys.map((key) => this.l1.invalidate(key)))
    try {
      await this.l2.setMany(entries.map(([key, value], i) => [key, value, ttlsMs[i] / 1000] as const))
      await dropped
      const current = entries.map((e, i) => [e, i] as const).filter(([e]) => this.isLatest(e[0], write))
      if (current.length > 0) await this.l1.setMany(current.map(([[key, value], i]) => [key, value, this.l1Ttl(ttlsMs[i])] as const))
    } finally {
      this.settle(keys, write)
    }
    this.bus?.publishKeys(keys)
  }

  async delete(key: string): Promise<boolean> {
    this.epoch++
    const write = this.issue([key])
    try {
      const [local, shared] = await Promise.all([this.l1.invalidate(key), this.l2.invalidate(key)])
      this.bus?.publishKeys([key])
      return local || shared
    } finally {
      this.settle([key], write)
    }
  }

  async has(key: string): Promise<boolean> {
    return (await this.l1.has(key)) || this.l2.has(key)
  }

  async clear(): Promise<void> {
    this.epoch++
    this.clears++
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
    this.unwatch()
    await this.bus?.close()
    if (this.closeTiers) await Promise.all([this.l1.close(), this.l2.close()])
  }

  /** Stamps a write of `keys` issued now; the stamp is what isLatest compares. */
  private issue(keys: readonly string[]): WriteStamp {
    const write = { seq: ++this.writes, clears: this.clears }
    for (const key of keys) this.latestWrite.set(key, write.seq)
    return write
  }

  /** No write of `key` and no clear was issued after `write`: its L1 copy may be stored. */
  private isLatest(key: string, write: WriteStamp): boolean {
    return this.clears === write.clears && this.latestWrite.get(key) === write.seq && !this.closed
  }

  /** `write` is done: forget its stamps (a later write keeps its own). */
  private settle(keys: readonly string[], write: WriteStamp): void {
    for (const key of keys) if (this.latestWrite.get(key) === write.seq) this.latestWrite.delete(key)
  }

  /** An L1 copy lives at most l1Ttl and no longer than its L2 entry, in seconds for the L1's set (0: the entry never expires in L2, or its TTL there is unknown). */
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
    // A load running here read the source before that instance's write: it must not store over it.
    owner.supersede(keys)
    owner.emit('invalidated', keys)
  }

  /**
   * The subscriber was away (or is new): any message may have been missed, so nothing in L1
   * can be trusted, unless L1 is shared() and another instance stayed subscribed meanwhile
   * (it applied every message to the same L1).
   */
  private resync(): void {
    if (this.closed) return
    this.epoch++
    const owner = this.link.owner
    // A load running now may have missed an invalidation while this instance was not listening.
    owner.supersede(undefined)
    if (this.startWatching() > 0) {
      this.counts.resyncsVouched++
      owner.emit('resync', { cleared: false })
      return
    }
    this.counts.resyncs++
    this.l1
      .clear()
      .then(() => owner.emit('resync', { cleared: true }))
      .catch((err) => owner.reportError(err))
  }

  /** Takes the L1's watcher lease (renewed every third of it): answers the other watchers vouching for L1. */
  private startWatching(): number {
    if (this.watch === undefined) return 0
    try {
      const vouching = this.watch.lease('start', this.watch.topic) ?? 0
      if (this.beat === undefined) {
        this.beat = setInterval(() => this.renew(), WATCH_LEASE_MS / 3)
        this.beat.unref()
      }
      return vouching
    } catch (err) {
      this.link.owner.reportError(err)
      return 0
    }
  }

  private renew(): void {
    try {
      this.watch?.lease('beat', this.watch.topic)
    } catch (err) {
      this.link.owner.reportError(err)
    }
  }

  /** Heard again on the same connection (nothing was missed): others may count on this one again. */
  private rewatch(): void {
    if (!this.closed) this.startWatching()
  }

  /** Deaf (subscription lost) or closing: the other processes must not count on this one. */
  private unwatch(): void {
    clearInterval(this.beat)
    this.beat = undefined
    try {
      this.watch?.lease('stop', this.watch.topic)
    } catch {
      // Closed L1: its lease went with it.
    }
  }
}
