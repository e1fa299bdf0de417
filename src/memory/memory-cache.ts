import type { Cache } from '../cache'
import { CacheStats } from '../cache'
import { CacheClosedError, CacheOptionError, describe } from '../errors'
import { checkMetricsSink, latencySampleInterval, type CacheOp, type MetricsSink, type MetricsSource } from '../metrics/sink'
import { SingleFlight } from '../single-flight'
import { rawGet, resolveGetOrSetOptions, Revalidator, unwrapFresh, type SwrStore, type TtlOrOptions } from '../swr'
import { checkEntries, checkKey, checkKeys, checkLoader, checkMaxsize, checkName, checkOptionsObject, checkValue, ttlToMs } from '../validate'
import { coarseClock } from './clock'
import type { Clock, Engine, EngineCounters } from './engine'
import type { SerializedCounters } from './serialized-engine'
import { createEngine, type EngineChoice } from './engine-choice'
import { checkPolicy } from './policies/check'
import type { PolicyName } from './policies/policy'
import type { Serializer } from '../serializer'
import { sharedConstructorOptions } from './shared-registry'
import { createStorageEngine, SHARED_SPEC, storageOf, type StorageChoice } from './storage'

export type { EngineChoice }

export interface InMemoryLRUCacheOptions {
  /** Most entries held; the least recently used is evicted beyond it. Default 1024. */
  maxsize?: number
  /** Seconds an entry lives when set() gets no ttl; 0 or Infinity = never expires. Default 60. */
  defaultTtl?: number
  /** Receives the cache's metrics (counters are pulled at scrape time). */
  metricsSink?: MetricsSink
  /** Metrics label. Default 'memory'. */
  name?: string
  /** 'native' (Rust), 'js', or 'auto' (native when it loads, else js with one warning). Default 'auto'. */
  engine?: EngineChoice
  /**
   * 'reference' keeps the values you pass (like lru-cache). 'serialized' keeps bytes in Rust
   * memory (native engine only): nothing per entry on the JS heap; strings and Buffers are
   * stored as they are, other values through `serializer`. Default 'reference'.
   */
  storage?: StorageChoice
  /** Serialized storage: how non-string, non-Buffer values become bytes. Default: JSON. */
  serializer?: Serializer
  /** Serialized storage: byte budget for stored values (the policy's victims are evicted to fit); 0 = none. Default 0. */
  maxBytes?: number
  /** Time source in milliseconds, for tests. Default: performance.now() cached for 1 ms. */
  clock?: Clock
  /** Eviction policy: 'lru', 's3fifo' or 'tinylfu' (W-TinyLFU); see docs/policies.md. Default 'lru'. */
  policy?: PolicyName
}

const KNOWN_OPTIONS = new Set(['maxsize', 'defaultTtl', 'metricsSink', 'name', 'engine', 'storage', 'clock', 'serializer', 'maxBytes', 'policy'])

/** An LRU cache with per-entry TTL, in process memory. */
export class InMemoryLRUCache<V = unknown> implements Cache<V>, MetricsSource {
  readonly name: string
  /** The engine actually serving this cache. */
  readonly engine: 'native' | 'js'
  readonly maxsize: number
  readonly defaultTtl: number
  /** Where values live: 'reference' (JS heap) or 'serialized' (Rust memory). */
  readonly storage: StorageChoice
  /** The eviction policy. */
  readonly policy: PolicyName
  private readonly impl: Engine<V>
  private readonly defaultTtlMs: number
  private readonly sink: MetricsSink | undefined
  private readonly clock: Clock
  private readonly flights = new SingleFlight<V>()
  /** Observe latency every `sampleEvery`-th op; 0 = never. A countdown avoids Math.random per op. */
  private readonly sampleEvery: number
  private countdown: number
  private closed = false
  /** Set once getOrSet stored a stale-while-revalidate envelope: only then do reads unwrap (keeps get() cost flat otherwise). */
  private swrUsed = false
  private revalidator: Revalidator<V> | undefined

  constructor(options: InMemoryLRUCacheOptions = {}) {
    checkOptionsObject(options, 'InMemoryLRUCache')
    for (const key of Object.keys(options)) {
      if (!KNOWN_OPTIONS.has(key)) throw new CacheOptionError(`unknown InMemoryLRUCache option "${key}"`)
    }
    this.maxsize = checkMaxsize(orDefault(options.maxsize, 1024))
    this.defaultTtl = orDefault(options.defaultTtl, 60)
    this.defaultTtlMs = ttlToMs(this.defaultTtl, 'defaultTtl')
    this.name = checkName(orDefault(options.name, 'memory'))
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new CacheOptionError(`clock must be a function returning milliseconds, got ${describe(options.clock)}`)
    }
    this.sink = checkMetricsSink(options.metricsSink)
    this.policy = checkPolicy(orDefault(options.policy, 'lru'))
    // A shared cache's threads have different performance.now() origins: wall time for stale-while-revalidate envelopes.
    this.clock = options.clock ?? ((options as { [SHARED_SPEC]?: unknown })[SHARED_SPEC] ? Date.now : coarseClock)
    this.impl =
      createStorageEngine<V>(options, { capacity: this.maxsize, clock: this.clock, defaultTtlMs: this.defaultTtlMs, policy: this.policy }) ??
      createEngine<V>(orDefault(options.engine, 'auto'), {
        capacity: this.maxsize,
        clock: this.clock,
        policy: this.policy,
      })
    this.storage = storageOf(this.impl)
    this.engine = this.impl.kind
    this.sampleEvery = latencySampleInterval(this.sink)
    this.countdown = this.sampleEvery
    this.sink?.attach(this)
  }

  async get(key: string): Promise<V | undefined> {
    this.assertOpen()
    checkKey(key)
    if (this.countdown !== 0 && --this.countdown === 0) return this.timed('get', () => this.read(key))
    return this.swrUsed ? unwrapFresh<V>(this.impl.get(key), this.clock()) : this.impl.get(key)
  }

  /** The stored value, stale-while-revalidate envelopes included (swr.ts reads through this). */
  async [rawGet](key: string): Promise<unknown> {
    this.assertOpen()
    return this.impl.get(key)
  }

  private read(key: string): V | undefined {
    return this.swrUsed ? unwrapFresh<V>(this.impl.get(key), this.clock()) : this.impl.get(key)
  }

  async set(key: string, value: V, ttl?: number): Promise<void> {
    this.assertOpen()
    checkKey(key)
    checkValue(value)
    const ttlMs = ttl === undefined ? this.defaultTtlMs : ttlToMs(ttl)
    if (this.countdown !== 0 && --this.countdown === 0) return this.timed('set', () => this.impl.set(key, value, ttlMs))
    this.impl.set(key, value, ttlMs)
  }

  async invalidate(key: string): Promise<boolean> {
    this.assertOpen()
    checkKey(key)
    return this.impl.delete(key)
  }

  async has(key: string): Promise<boolean> {
    this.assertOpen()
    checkKey(key)
    return this.impl.has(key)
  }

  async clear(): Promise<void> {
    this.assertOpen()
    this.impl.clear()
  }

  async getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    this.assertOpen()
    checkKeys(keys)
    // One engine call (one N-API crossing per batch on the native engine), same counters and order as get() per key.
    const out = this.impl.getMany(keys)
    if (this.swrUsed) for (let i = 0; i < out.length; i++) out[i] = unwrapFresh<V>(out[i], this.clock())
    return out
  }

  async setMany(entries: readonly (readonly [string, V, number?])[]): Promise<void> {
    this.assertOpen()
    const ttls = checkEntries(entries, this.defaultTtlMs)
    this.impl.setMany(entries, ttls)
  }

  /** `ttlOrOptions`: seconds, or { ttl, staleTtl, grace } (stale-while-revalidate and grace, see swr.ts). */
  async getOrSet(key: string, load: () => Promise<V> | V, ttlOrOptions?: TtlOrOptions): Promise<V> {
    this.assertOpen()
    checkKey(key)
    checkLoader(load)
    const options = resolveGetOrSetOptions(ttlOrOptions)
    if (options.swr) {
      this.swrUsed = true
      this.revalidator ??= new Revalidator<V>({ clock: this.clock })
      return this.revalidator.getOrSet(this.swrStore(), key, load, options, this.defaultTtl)
    }
    const ttl = options.ttl
    const ttlMs = ttl === undefined ? this.defaultTtlMs : ttlToMs(ttl)
    const cached = this.read(key)
    if (cached !== undefined) return cached
    return this.flights.run(key, async () => {
      const value = await load()
      // undefined cannot be stored (it means "absent"); hand it back uncached.
      if (value !== undefined && !this.closed) this.impl.set(key, value, ttlMs)
      return value
    })
  }

  private swrStore(): SwrStore {
    return {
      read: async (key) => this.impl.get(key),
      write: async (key, value, ttlSeconds) => {
        if (!this.closed) this.impl.set(key, value as V, ttlToMs(ttlSeconds))
      },
    }
  }

  stats(): CacheStats {
    this.assertOpen()
    const c = this.impl.counters() as EngineCounters & Partial<SerializedCounters>
    return new CacheStats({
      hits: c.hits,
      misses: c.misses,
      evictions: c.evictions,
      expirations: c.expirations,
      size: c.size,
      maxsize: this.maxsize,
      ...(c.bytes !== undefined ? { bytes: c.bytes, arenaBytes: c.arenaBytes, fragmentation: c.fragmentation } : {}),
    })
  }

  /**
   * The process-wide cache `name`, shared by every thread that opens it (worker_threads
   * included): one memory budget, one set of counters. Values are serialized (storage
   * 'reference' is refused). Options as for the constructor plus `shards` (default: maxsize / 1024, 1 to 16);
   * opening an existing name with different maxsize/maxBytes/shards/defaultTtl/policy throws.
   * `close()` releases this thread's reference; the cache is freed with the last one.
   */
  static shared<V = unknown>(name: string, options: InMemoryLRUCacheOptions & { shards?: number } = {}): InMemoryLRUCache<V> {
    return new InMemoryLRUCache<V>(sharedConstructorOptions(name, options) as InMemoryLRUCacheOptions)
  }

  async close(): Promise<void> {
    if (this.closed) return
    // Detach first: the sink reads the final stats() so no count is lost.
    this.sink?.detach?.(this)
    this.closed = true
    this.impl.close()
  }

  private assertOpen(): void {
    if (this.closed) throw new CacheClosedError(this.name)
  }

  private timed<T>(op: CacheOp, run: () => T): T {
    this.countdown = this.sampleEvery
    const start = performance.now()
    try {
      return run()
    } finally {
      this.sink!.observeLatency!(this.name, op, performance.now() - start)
    }
  }
}

/** Only a missing option takes the default: null is a wrong value, not "use the default". */
function orDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value
}
