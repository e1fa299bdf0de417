import { EventEmitter } from 'node:events'
import type { RedisOptions } from 'ioredis'
import type { Cache } from '../contract/cache'
import { CacheStats } from '../contract/cache'
import { CacheClosedError, CacheOptionError, describe } from '../errors'
import { SingleFlight } from '../facade/single-flight'
import { cacheStore, rawGet, rawGetMany, resolveGetOrSetOptions, Revalidator, unwrapFresh, type SwrStore, type TtlOrOptions } from '../facade/swr'
import { checkEntries, checkKey, checkKeys, checkLoader, checkName, checkOptionsObject, checkValue, ttlToMs } from '../validate'
import { RedisInvalidationBus, type InvalidationBus } from './invalidation-bus'

export interface TieredCacheOptions<V> {
  /** The local tier, usually an InMemoryLRUCache. */
  l1: Cache<V>
  /** The shared tier, usually a RedisCache. */
  l2: Cache<V>
  /** Longest life of an L1 entry, seconds (also bounds how long an instance can serve a value it missed the invalidation of). Default 10. */
  l1Ttl?: number
  /** Metrics label. Default 'tiered'. */
  name?: string
  /**
   * Redis for the invalidation channel. Default: the L2's, when it tells it (RedisCache
   * `connectionOptions()`); otherwise required unless `bus` is given or false.
   */
  redisUrl?: string
  redisOptions?: RedisOptions
  /** Pub/sub channel. Default `${l2.keyPrefix}__invalidate` ('astra:cache:__invalidate'). */
  channel?: string
  /** A ready bus, or false for a single instance (no cross-instance invalidation). */
  bus?: InvalidationBus | false
  /** ms clock for stale-while-revalidate envelopes; wall clock by default (they are shared through L2). */
  clock?: () => number
  /** Close l1 and l2 in close(). Default true. */
  closeTiers?: boolean
}

const KNOWN = new Set(['l1', 'l2', 'l1Ttl', 'name', 'redisUrl', 'redisOptions', 'channel', 'bus', 'clock', 'closeTiers'])

/** What tierStats() reports. */
export interface TierStats {
  l1Hits: number
  l2Hits: number
  misses: number
  /** Keys dropped from L1 because another instance published them. */
  remoteInvalidations: number
  /** L1 clears after the subscriber (re)connected. */
  resyncs: number
  pendingPublishes: number
}

/**
 * L1 (local) over L2 (shared): reads L1 then L2 (filling L1 for at most `l1Ttl`), writes
 * both, and tells other instances through Redis pub/sub to drop their L1 copy of every key
 * written or invalidated here. See docs/tiered.md.
 *
 * Events: 'error' (bus connection errors), 'resync' (L1 cleared after a reconnect),
 * 'invalidated' (keys dropped on another instance's message; undefined for a clear).
 */
export class TieredCache<V = unknown> extends EventEmitter implements Cache<V> {
  readonly name: string
  readonly l1: Cache<V>
  readonly l2: Cache<V>
  readonly l1Ttl: number
  private readonly l1TtlMs: number
  private readonly bus: InvalidationBus | undefined
  private readonly clock: () => number
  private readonly closeTiers: boolean
  private readonly flights = new SingleFlight<V>()
  private readonly revalidator: Revalidator<V>
  private readonly l1Raw: SwrStore['read']
  private readonly l2Raw: SwrStore['read']
  /** Bumped by every invalidation (local or remote): an L2 read that started before one must not fill L1. */
  private epoch = 0
  private counts = { l1Hits: 0, l2Hits: 0, misses: 0, remoteInvalidations: 0, resyncs: 0 }
  private warned = false
  private closed = false

  constructor(options: TieredCacheOptions<V>) {
    super()
    checkOptionsObject(options, 'TieredCache')
    if (options === undefined) throw new CacheOptionError('TieredCache needs options { l1, l2 }')
    for (const key of Object.keys(options)) {
      if (!KNOWN.has(key)) throw new CacheOptionError(`unknown TieredCache option "${key}"`)
    }
    this.l1 = checkTier(options.l1, 'l1')
    this.l2 = checkTier(options.l2, 'l2')
    if (this.l1 === this.l2) throw new CacheOptionError('l1 and l2 must be two different caches')
    this.l1Ttl = options.l1Ttl ?? 10
    this.l1TtlMs = ttlToMs(this.l1Ttl, 'l1Ttl')
    if (this.l1TtlMs === 0) throw new CacheOptionError(`l1Ttl must be a positive finite number of seconds, got ${describe(this.l1Ttl)}`)
    this.name = checkName(options.name ?? 'tiered')
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new CacheOptionError(`clock must be a function returning milliseconds, got ${describe(options.clock)}`)
    }
    this.clock = options.clock ?? Date.now
    this.closeTiers = options.closeTiers ?? true
    this.revalidator = new Revalidator<V>({ clock: this.clock, onError: (err) => this.emitError(err) })
    this.l1Raw = cacheStore(this.l1).read
    this.l2Raw = cacheStore(this.l2).read
    this.bus = options.bus === false ? undefined : (options.bus ?? defaultBus(options, this.l2))
    this.bus?.start({
      keys: (keys) => this.dropRemote(keys),
      clear: () => this.dropRemote(undefined),
      resync: () => this.resync(),
      error: (err) => this.emitError(err),
    })
  }

  async get(key: string): Promise<V | undefined> {
    this.assertOpen()
    checkKey(key)
    const [raw, tier] = await this.readTiers(key)
    const value = unwrapFresh<V>(raw, this.clock())
    this.count(value === undefined ? 0 : tier)
    return value
  }

  /** The stored value (SWR envelopes included), L1 first; an L2 hit fills L1. Counts tier hits. */
  async [rawGet](key: string): Promise<unknown> {
    this.assertOpen()
    return this.readRaw(key)
  }

  private async readRaw(key: string): Promise<unknown> {
    return (await this.readTiers(key))[0]
  }

  /** [stored value, tier that had it: 1, 2, or 0 for none]. */
  private async readTiers(key: string): Promise<[unknown, 0 | 1 | 2]> {
    const local = await this.l1Raw(key)
    if (local !== undefined) return [local, 1]
    const epoch = this.epoch
    const shared = await this.l2Raw(key)
    if (shared === undefined) return [undefined, 0]
    if (epoch === this.epoch && !this.closed) await this.l1.set(key, shared as V, this.l1TtlMs / 1000)
    return [shared, 2]
  }

  private count(tier: 0 | 1 | 2): void {
    if (tier === 1) this.counts.l1Hits++
    else if (tier === 2) this.counts.l2Hits++
    else this.counts.misses++
  }

  async set(key: string, value: V, ttl?: number): Promise<void> {
    this.assertOpen()
    checkKey(key)
    checkValue(value)
    const l1Ttl = this.boundedL1Ttl(ttl)
    this.epoch++
    await this.l2.set(key, value, ttl)
    await this.l1.set(key, value, l1Ttl)
    this.bus?.publishKeys([key])
  }

  async invalidate(key: string): Promise<boolean> {
    this.assertOpen()
    checkKey(key)
    this.epoch++
    const [local, shared] = await Promise.all([this.l1.invalidate(key), this.l2.invalidate(key)])
    this.bus?.publishKeys([key])
    return local || shared
  }

  async clear(): Promise<void> {
    this.assertOpen()
    this.epoch++
    await Promise.all([this.l1.clear(), this.l2.clear()])
    this.bus?.publishClear()
  }

  async has(key: string): Promise<boolean> {
    this.assertOpen()
    checkKey(key)
    return (await this.l1.has(key)) || this.l2.has(key)
  }

  async getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    this.assertOpen()
    checkKeys(keys)
    const values = (await this.l1.getMany(keys)) as unknown[]
    const tiers = values.map((v) => (v === undefined ? 0 : 1)) as (0 | 1 | 2)[]
    const missing: number[] = []
    for (let i = 0; i < keys.length; i++) if (values[i] === undefined) missing.push(i)
    if (missing.length > 0) {
      const epoch = this.epoch
      // Raw when the L2 can (RedisCache): L1 must hold the envelopes, not values unwrapped at fill time.
      const l2 = this.l2 as Cache<V> & { [rawGetMany]?: (keys: readonly string[]) => Promise<unknown[]> }
      const missingKeys = missing.map((i) => keys[i])
      const shared = (l2[rawGetMany] ? await l2[rawGetMany](missingKeys) : await l2.getMany(missingKeys)) as (V | undefined)[]
      const fill: [string, V, number][] = []
      missing.forEach((index, j) => {
        const v = shared[j]
        if (v === undefined) return
        tiers[index] = 2
        values[index] = v
        fill.push([keys[index], v, this.l1TtlMs / 1000])
      })
      if (fill.length > 0 && epoch === this.epoch && !this.closed) await this.l1.setMany(fill)
    }
    const now = this.clock()
    return values.map((v, i) => {
      const value = unwrapFresh<V>(v, now)
      this.count(value === undefined ? 0 : tiers[i])
      return value
    })
  }

  async setMany(entries: readonly (readonly [string, V, number?])[]): Promise<void> {
    this.assertOpen()
    checkEntries(entries, 0)
    const local = entries.map((entry) => [entry[0], entry[1], this.boundedL1Ttl(entry[2])] as [string, V, number])
    if (local.length === 0) return
    this.epoch++
    await this.l2.setMany(entries)
    await this.l1.setMany(local)
    this.bus?.publishKeys(local.map((e) => e[0]))
  }

  /** `ttlOrOptions`: seconds, or { ttl, staleTtl, grace } (see swr.ts). Single-flight per key in this process. */
  async getOrSet(key: string, load: () => Promise<V> | V, ttlOrOptions?: TtlOrOptions): Promise<V> {
    this.assertOpen()
    checkKey(key)
    checkLoader(load)
    const options = resolveGetOrSetOptions(ttlOrOptions)
    if (options.swr) {
      const store: SwrStore = { read: (k) => this.readRaw(k), write: (k, v, ttlSeconds) => this.set(k, v as V, ttlSeconds) }
      return this.revalidator.getOrSet(store, key, load, options, defaultTtlOf(this.l2))
    }
    const hit = await this.get(key)
    if (hit !== undefined) return hit
    return this.flights.run(key, async () => {
      const again = unwrapFresh<V>(await this.readRaw(key), this.clock())
      if (again !== undefined) return again
      const loaded = await load()
      if (loaded !== undefined && !this.closed) await this.set(key, loaded, options.ttl)
      return loaded
    })
  }

  /** hits/misses as seen by callers; evictions, expirations, size and maxsize are L1's. */
  stats(): CacheStats {
    this.assertOpen()
    const l1 = this.l1.stats()
    return new CacheStats({
      hits: this.counts.l1Hits + this.counts.l2Hits,
      misses: this.counts.misses,
      evictions: l1.evictions,
      expirations: l1.expirations,
      size: l1.size,
      maxsize: l1.maxsize,
    })
  }

  tierStats(): TierStats {
    return { ...this.counts, pendingPublishes: this.bus?.pending ?? 0 }
  }

  /** Stops listening, closes the channel connections and (closeTiers, default) both tiers. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.bus?.close()
    if (this.closeTiers) await Promise.all([this.l1.close(), this.l2.close()])
  }

  private boundedL1Ttl(ttl: number | undefined): number {
    // No ttl: the L2's defaultTtl applies there, so it bounds the L1 copy too.
    const ms = ttlToMs(ttl ?? defaultTtlOf(this.l2))
    return ms === 0 ? this.l1Ttl : Math.min(ms, this.l1TtlMs) / 1000
  }

  private dropRemote(keys: string[] | undefined): void {
    if (this.closed) return
    this.epoch++
    if (keys === undefined) {
      this.counts.remoteInvalidations++
      this.l1.clear().catch((err) => this.emitError(err))
    } else {
      this.counts.remoteInvalidations += keys.length
      for (const key of keys) this.l1.invalidate(key).catch((err) => this.emitError(err))
    }
    this.emit('invalidated', keys)
  }

  /** The subscriber was away: any message may have been missed, so nothing in L1 can be trusted. */
  private resync(): void {
    if (this.closed) return
    this.epoch++
    this.counts.resyncs++
    this.l1
      .clear()
      .then(() => this.emit('resync'))
      .catch((err) => this.emitError(err))
  }

  private emitError(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err))
    if (this.listenerCount('error') > 0) {
      this.emit('error', error)
    } else if (!this.warned) {
      this.warned = true
      process.emitWarning(`tiered cache "${this.name}": ${error.message} (further errors are silent; listen to its 'error' event)`, {
        type: 'TieredCacheWarning',
        code: 'ASTRA_CACHE_TIERED',
      })
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new CacheClosedError(this.name)
  }
}

function checkTier<V>(tier: unknown, what: string): Cache<V> {
  const ok = tier !== null && typeof tier === 'object' && ['get', 'set', 'invalidate', 'clear', 'close', 'getMany', 'setMany', 'has', 'stats'].every((m) => typeof (tier as Record<string, unknown>)[m] === 'function')
  if (!ok) throw new CacheOptionError(`${what} must be a Cache (e.g. ${what === 'l1' ? 'an InMemoryLRUCache' : 'a RedisCache'}), got ${describe(tier)}`)
  return tier as Cache<V>
}

function defaultTtlOf(cache: Cache<unknown>): number {
  const ttl = (cache as { defaultTtl?: unknown }).defaultTtl
  return typeof ttl === 'number' ? ttl : 60
}

/** What a RedisCache may tell about its connection (an accessor added to RedisCache). */
interface ConnectionSource {
  keyPrefix?: string
  /** undefined when the RedisCache was given a client instead of a URL. */
  connectionOptions?(): { redisUrl: string; redisOptions?: RedisOptions; commandTimeoutMs?: number } | undefined
}

function defaultBus<V>(options: TieredCacheOptions<V>, l2: Cache<V>): InvalidationBus {
  const source = l2 as unknown as ConnectionSource
  const fromL2 = typeof source.connectionOptions === 'function' ? source.connectionOptions() : undefined
  const redisUrl = options.redisUrl ?? fromL2?.redisUrl
  if (redisUrl === undefined) {
    throw new CacheOptionError('TieredCache needs redisUrl for its invalidation channel (the l2 does not tell its own), or bus: false for a single instance')
  }
  const prefix = typeof source.keyPrefix === 'string' ? source.keyPrefix : 'astra:cache:'
  return new RedisInvalidationBus({
    redisUrl,
    redisOptions: options.redisOptions ?? fromL2?.redisOptions,
    commandTimeoutMs: fromL2?.commandTimeoutMs,
    channel: options.channel ?? `${prefix}__invalidate`,
  })
}
