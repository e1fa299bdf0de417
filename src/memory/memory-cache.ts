import type { Serializer } from '../serializer'
import { SyncStoreFacade } from '../facade/sync-store-facade'
import { checkMetricsSink } from '../facade/latency-sampler'
import type { MetricsSink } from '../contract/metrics'
import type { Duration } from '../duration'
import type { LoaderTimeouts } from '../contract/cache'
import { resolveTimeouts } from '../facade/get-or-set-options'
import { timersOf } from '../facade/loader-timers'
import { checkClock, checkKnownOptions, checkMaxsize, checkName, checkOptionsObject, orDefault, ttlOption } from '../validate'
import { MEMORY_OPTION_KEYS } from './option-keys'
import { coarseClock } from './clock'
import type { Clock, Engine } from './engine'
import { disposeHook, type Dispose } from './dispose'
import { createEngine, type EngineChoice } from './engine-choice'
import { MemoryStore } from './memory-store'
import { checkPolicy } from './policies/check'
import type { PolicyName } from './policies/policy'
import { MachineEngine, machineBinding, removeMachineSegment } from './machine-engine'
import { SerializedEngine } from './serialized-engine'
import { watchShared } from '../contract/capabilities'
import { defaultMachineDir } from './machine-options'
import { sharedConstructorOptions } from './shared-registry'
import { createStorageEngine, SHARED_SPEC, storageOf, type StorageChoice } from './storage'

export type { EngineChoice }

export interface InMemoryLRUCacheOptions<V = unknown> {
  /** Most entries held; the least recently used is evicted beyond it. Default 1024. */
  maxsize?: number
  /** Seconds (or a duration string, '5m') an entry lives when set() gets no ttl; 0 or Infinity = never expires. Default 60. */
  defaultTtl?: Duration
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
  /**
   * Called with each entry that leaves the cache, after the operation that removed it:
   * reason 'evict', 'expire', 'delete', 'set' (replaced) or 'clear'; see docs/native-storage.md.
   */
  dispose?: Dispose<V>
  /** Loader timeouts of every getOrSet that gives none ({ soft, hard }, ms or duration strings); see docs/contract.md. Default: none. */
  timeouts?: LoaderTimeouts
}

/** Options of shared() beyond the constructor's (docs/shared-memory.md). */
export interface SharedScopeOptions {
  /** Shards (each its own lock). Default: maxsize / 1024, 1 to 16. */
  shards?: number
  /** 'process': every thread of this process (default). 'machine': every process of the machine, in a shared-memory segment (Linux). */
  scope?: 'process' | 'machine'
  /** scope 'machine': directory of the segment file. Default '/dev/shm' (else the OS temp directory). */
  dir?: string
  /** scope 'machine': file mode of a segment this call creates. Default 0o600 (this user only). */
  mode?: number
  /** scope 'machine': seconds (or a duration string) to wait for a shard lock before throwing ERR_CACHE_LOCK_TIMEOUT. Default 10. */
  lockTimeout?: Duration
}


/**
 * An LRU cache (or S3-FIFO, W-TinyLFU) with per-entry TTL, in process memory: the facade over
 * a MemoryStore, which holds the engine this cache's options chose.
 *
 * Events: 'error' (a value getOrSet loaded that the storage could not take; without a
 * listener the first one is a process warning).
 */
export class InMemoryLRUCache<V = unknown> extends SyncStoreFacade<V> {
  /** The engine actually serving this cache. */
  readonly engine: 'native' | 'js'
  readonly maxsize: number
  /** Seconds (a duration string given as the option is converted). */
  readonly defaultTtl: number
  /** Where values live: 'reference' (JS heap) or 'serialized' (Rust memory). */
  readonly storage: StorageChoice
  /** The eviction policy. */
  readonly policy: PolicyName
  /** The engine behind the store, for inspection in tests and debugging (the cache itself goes through its store). */
  private readonly impl: Engine<V>

  constructor(options: InMemoryLRUCacheOptions<V> = {}) {
    const o = resolveMemoryOptions(options)
    const engine =
      createStorageEngine<V>(options, { capacity: o.maxsize, clock: o.clock, defaultTtlMs: o.defaultTtlMs, policy: o.policy, onRemove: o.onRemove }) ??
      createEngine<V>(orDefault(options.engine, 'auto'), { capacity: o.maxsize, clock: o.clock, policy: o.policy, onRemove: o.onRemove })
    super(new MemoryStore<V>(engine, o.maxsize), { name: o.name, defaultTtlMs: o.defaultTtlMs, clock: o.clock, metricsSink: o.sink, warningCode: 'ASTRA_CACHE_MEMORY_ERROR', timeouts: o.timeouts, timers: timersOf(options) })
    this.maxsize = o.maxsize
    this.defaultTtl = o.defaultTtl
    this.policy = o.policy
    this.impl = engine
    this.storage = storageOf(engine)
    this.engine = engine.kind
  }

  /**
   * The process-wide cache `name`, shared by every thread that opens it (worker_threads
   * included): one memory budget, one set of counters. Values are serialized (storage
   * 'reference' is refused). Options as for the constructor plus `shards` (default: maxsize / 1024, 1 to 16);
   * opening an existing name with different maxsize/maxBytes/shards/defaultTtl/policy throws.
   * `close()` releases this thread's reference; the cache is freed with the last one.
   */
  static shared<V = unknown>(name: string, options: InMemoryLRUCacheOptions<V> & SharedScopeOptions = {}): InMemoryLRUCache<V> {
    return new InMemoryLRUCache<V>(sharedConstructorOptions(name, options) as InMemoryLRUCacheOptions<V>)
  }

  /**
   * Removes the segment file of the machine-wide cache `name` (false if there was none).
   * Processes still attached keep using their mapping; the next shared() creates a new one.
   */
  static removeShared(name: string, options: { dir?: string } = {}): boolean {
    return removeMachineSegment(machineBinding('auto'), options.dir ?? defaultMachineDir(), name)
  }

  /** A machine-wide cache: every broken invariant of its segment (empty when sound). Other caches: []. */
  verify(): string[] {
    return this.impl instanceof MachineEngine ? this.impl.verify() : []
  }

  /** A shared() cache's watcher lease, for a TieredCache over it (capabilities.ts); undefined for other caches. */
  [watchShared](op: 'start' | 'beat' | 'stop', topic: string): number | undefined {
    return this.impl instanceof MachineEngine || this.impl instanceof SerializedEngine ? this.impl.watch(op, topic) : undefined
  }

  /** A machine-wide cache: its segment's size and how many times a shard was rebuilt after a process died holding its lock. */
  segmentStats(): { segmentBytes: number; recoveries: number } | undefined {
    if (!(this.impl instanceof MachineEngine)) return undefined
    return { segmentBytes: this.impl.segmentBytes(), recoveries: this.impl.counters().recoveries }
  }
}

/** The options every engine gets, validated (the storage options are checked by createStorageEngine). */
function resolveMemoryOptions<V>(options: InMemoryLRUCacheOptions<V>) {
  checkOptionsObject(options, 'InMemoryLRUCache')
  checkKnownOptions(options, MEMORY_OPTION_KEYS, 'InMemoryLRUCache option')
  const maxsize = checkMaxsize(orDefault(options.maxsize, 1024))
  const { seconds: defaultTtl, ms: defaultTtlMs } = ttlOption(orDefault(options.defaultTtl, 60), 'defaultTtl')
  const name = checkName(orDefault(options.name, 'memory'))
  // A shared cache's threads have different performance.now() origins: wall time for stale-while-revalidate envelopes.
  const clock = checkClock(options.clock) ?? ((options as { [SHARED_SPEC]?: unknown })[SHARED_SPEC] ? Date.now : coarseClock)
  const sink = checkMetricsSink(options.metricsSink)
  const policy = checkPolicy(orDefault(options.policy, 'lru'))
  const onRemove = disposeHook<V>(options.dispose)
  const timeouts = resolveTimeouts(options.timeouts, 'InMemoryLRUCache timeouts')
  return { maxsize, defaultTtl, defaultTtlMs, name, clock, sink, policy, onRemove, timeouts }
}
