import type { StoreStats, StoreTraits, SyncStore } from '../facade/store'
import type { Engine, EngineCounters } from './engine'
import type { SerializedCounters } from './serialized-engine'

const TRAITS: StoreTraits = Object.freeze({
  sync: true,
  // The engine counts (process-wide for a shared cache, whichever thread looked up).
  countsLookups: true,
  sharedEnvelopes: false,
  wellFormedKeys: false,
})
/** A shared() cache: another thread or process may have written a stale-while-revalidate envelope, so reads are checked. */
const SHARED_TRAITS: StoreTraits = Object.freeze({ ...TRAITS, sharedEnvelopes: true })

/**
 * The memory cache's store: the synchronous engine (native or JS, reference or serialized
 * storage) behind the facade. A thin pass-through: the facade validates, the engine decides
 * (see engine.ts for the shared semantics).
 */
export class MemoryStore<V> implements SyncStore<V> {
  readonly traits: StoreTraits
  /** The engine answers get itself (this class adds nothing to a read). */
  readonly reader: Engine<V>

  readonly countersId: string | undefined

  constructor(
    readonly engine: Engine<V>,
    private readonly maxsize: number,
  ) {
    this.reader = engine
    this.countersId = engine.countersId
    this.traits = engine.countersId === undefined ? TRAITS : SHARED_TRAITS
  }

  get(key: string): V | undefined {
    return this.engine.get(key)
  }

  getMany(keys: readonly string[]): (V | undefined)[] {
    return this.engine.getMany(keys)
  }

  set(key: string, value: unknown, ttlMs: number): void {
    this.engine.set(key, value as V, ttlMs)
  }

  setMany(entries: readonly (readonly [string, V, ...unknown[]])[], ttlsMs: readonly number[]): void {
    this.engine.setMany(entries, ttlsMs)
  }

  delete(key: string): boolean {
    return this.engine.delete(key)
  }

  peek(key: string): V | undefined {
    return this.engine.peek(key)
  }

  has(key: string): boolean {
    return this.engine.has(key)
  }

  clear(): void {
    this.engine.clear()
  }

  stats(): StoreStats {
    const c = this.engine.counters() as EngineCounters & Partial<SerializedCounters>
    return {
      hits: c.hits,
      misses: c.misses,
      evictions: c.evictions,
      expirations: c.expirations,
      size: c.size,
      maxsize: this.maxsize,
      ...(c.bytes !== undefined ? { bytes: c.bytes, arenaBytes: c.arenaBytes, fragmentation: c.fragmentation } : {}),
    }
  }

  close(): void {
    this.engine.close()
  }
}
