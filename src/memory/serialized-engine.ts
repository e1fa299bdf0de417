import { CacheOptionError, NativeEngineUnavailableError } from '../errors'
import { ENGINE_ENV_VAR, engineFromEnv, loadNative, nativeArea, nativeLoadError, selectEngine, WATCH_OPS, type NativeBinding } from '../native'
import { WATCH_LEASE_MS } from '../contract/capabilities'
import { jsonSerializer, type Serializer } from '../serializer'
import type { Clock, Engine, EngineCounters, RemovalHook, RemovalReason } from './engine'
import { closeWhenCollected, forgetHandle, readCounters } from './native-engine'
import { LAYOUT, REASONS, VALUE_TAG_AT, type AreaViews } from './native-layout'
import { decodeValue, storedForm } from './serialized-values'
import { randomPolicySeed } from './policies/create'
import { POLICY_CODES, type EnginePolicy } from './policies/policy'

/**
 * Serialized storage (`storage: 'serialized'`, and every `shared()` cache): values are
 * turned into bytes and kept in Rust memory, inline in the arena's pages with their keys
 * (crates/core/src/arena), so the JS heap holds nothing per entry. Strings and Buffers are
 * stored as they are (no serializer round trip) and come back as the same type; anything
 * else goes through the serializer (default: JSON) at set time, so a value it cannot carry
 * fails there, never at get. With an onRemove hook, the values of removed entries are
 * copied out and deserialized for it; without one nothing is.
 */

/** `now` value telling Rust to read its own (process-wide) clock. */
const ENGINE_CLOCK = -1
// Module-level copies of the layout read on every call (a cross-module read is a property load, a
// getter call under loaders that compile ES modules to CommonJS).
const { STATUS_AT, TAG_SERIALIZED, REMOVAL_FIELDS } = LAYOUT
const TAG_AT = VALUE_TAG_AT

export interface SerializedCounters extends EngineCounters {
  /** What the entries cost in Rust memory: records (key + value + header, in size-class chunks) plus LAYOUT.ENTRY_BYTES each (docs/native-storage.md). The quantity maxBytes bounds. */
  bytes: number
  /** Bytes the arena holds from the allocator: pages in use (with their free chunks) and large records. */
  arenaBytes: number
  /** Share of the arena's page bytes not holding a live record (0..1), kept under ~1/8 by compaction. */
  fragmentation: number
}

export interface SerializedEngineOptions<V = unknown> {
  capacity: number
  clock: Clock
  /** 0 = no byte budget. */
  maxBytes: number
  serializer: Serializer
  /** Eviction policy (every shard of a shared cache runs it). Default 'lru'. */
  policy?: EnginePolicy
  /** Seed of the policy's key hash (as EngineOptions.policySeed). Default: random. */
  policySeed?: number
  /** Open (or create) the process-wide shared cache of this name instead of a private one. */
  shared?: { name: string; shards: number; defaultTtlMs: number }
  /** Called for every entry this cache object's operations remove (engine.ts "Removal events"). */
  onRemove?: RemovalHook<V>
}

/** The binding, when it loads; else throws the reason. */
export function serializedBinding(engineOption: unknown): NativeBinding {
  const forcedJs = engineFromEnv() === 'js'
  if (engineOption === 'js' || forcedJs) {
    const by = forcedJs ? `${ENGINE_ENV_VAR}=js` : `engine: 'js'`
    throw new CacheOptionError(`storage: 'serialized' keeps values in Rust memory and needs the native engine, but ${by} was requested`)
  }
  if (engineOption !== 'native' && engineOption !== 'auto') selectEngine(engineOption) // throws the standard message
  const binding = loadNative()
  if (binding === null) {
    throw new NativeEngineUnavailableError(`storage: 'serialized' needs the native engine, which is unavailable: ${nativeLoadError()?.message ?? 'unknown reason'}`, { cause: nativeLoadError() })
  }
  return binding
}

export class SerializedEngine<V> implements Engine<V> {
  readonly kind = 'native' as const
  readonly capacity: number
  private readonly binding: NativeBinding
  private readonly clock: Clock | undefined
  private readonly serializer: Serializer
  /** The default JSON serializer reads strings directly (no Buffer in between). */
  private readonly readsStrings: boolean
  private handle: number
  private readonly area: AreaViews
  /** The area's words (status, tag) and its `now`, held directly: one load fewer per call. */
  private readonly words: Int32Array
  private readonly now: Float64Array
  private readonly onRemove: RemovalHook<V> | undefined
  /** A shared cache's identity (its counters are every thread's); undefined for an own cache. */
  readonly countersId: string | undefined

  constructor(binding: NativeBinding, options: SerializedEngineOptions<V>) {
    this.binding = binding
    this.capacity = options.capacity
    this.serializer = options.serializer
    this.readsStrings = options.serializer === jsonSerializer
    this.onRemove = options.onRemove
    this.area = nativeArea(binding)
    this.words = this.area.i32
    this.now = this.area.now
    const code = POLICY_CODES[options.policy ?? 'lru']
    const seed = options.policySeed ?? randomPolicySeed()
    const flags = options.onRemove === undefined ? 0 : LAYOUT.FLAG_REPORT
    if (options.shared) {
      const s = options.shared
      try {
        this.handle = binding.sOpen(s.name, options.capacity, options.maxBytes, s.shards, s.defaultTtlMs, code, seed, flags)
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_ASTRA_NATIVE_MISMATCH') throw new CacheOptionError((err as Error).message, { cause: err })
        throw err
      }
      this.clock = undefined // one clock for every thread: Rust's
      this.countersId = binding.sIdentity?.(this.handle)
    } else {
      this.handle = binding.sCreate(options.capacity, options.maxBytes, code, seed, flags)
      this.clock = options.clock
      this.countersId = undefined
    }
    closeWhenCollected(this, binding, this.handle)
  }

  /** Writes the time Rust reads for the next call. */
  private tick(): void {
    this.now[0] = this.clock === undefined ? ENGINE_CLOCK : this.clock()
  }

  get size(): number {
    return this.binding.size(this.handle)
  }

  get(key: string): V | undefined {
    this.tick()
    const v = this.binding.sGet(this.handle, key)
    if (this.onRemove !== undefined) this.report()
    return v === undefined ? undefined : this.value(v, this.words[TAG_AT])
  }

  peek(key: string): V | undefined {
    this.tick()
    const v = this.binding.sPeek(this.handle, key)
    return v === undefined ? undefined : this.value(v, this.words[TAG_AT])
  }

  has(key: string): boolean {
    this.tick()
    return this.binding.sHas(this.handle, key)
  }

  set(key: string, value: V, ttlMs: number): void {
    this.write(key, value, storedForm(this.serializer, value, key), ttlMs)
  }

  private write(key: string, value: V, stored: string | Uint8Array, ttlMs: number): void {
    this.tick()
    this.binding.sSet(this.handle, key, stored, stored === value ? 0 : 1, ttlMs)
    if (this.onRemove !== undefined) this.report()
  }

  /** One crossing per key: serialized values are copied out one by one anyway. */
  getMany(keys: readonly string[]): (V | undefined)[] {
    const out = new Array<V | undefined>(keys.length)
    for (let i = 0; i < keys.length; i++) out[i] = this.get(keys[i])
    return out
  }

  /** Every value is encoded before any is written: one the serializer refuses stores nothing. */
  setMany(entries: readonly (readonly [string, V, ...unknown[]])[], ttlsMs: ArrayLike<number>): void {
    const payloads = entries.map(([key, value]) => storedForm(this.serializer, value, key))
    for (let i = 0; i < entries.length; i++) this.write(entries[i][0], entries[i][1], payloads[i], ttlsMs[i])
  }

  delete(key: string): boolean {
    this.tick()
    const removed = this.binding.sRemove(this.handle, key)
    if (this.onRemove !== undefined) this.report()
    return removed
  }

  clear(): void {
    this.binding.clear(this.handle)
    if (this.onRemove !== undefined) this.report()
  }

  counters(): SerializedCounters {
    this.binding.counters(this.handle)
    const c = this.area.counters
    return { ...readCounters(this.area), bytes: c[LAYOUT.COUNTER_BYTES], arenaBytes: c[LAYOUT.COUNTER_ARENABYTES], fragmentation: c[LAYOUT.COUNTER_FRAGMENTATION] }
  }

  /**
   * A shared cache's watcher lease for this handle (see capabilities.ts watchShared): what
   * its threads' TieredCaches use to vouch for it. undefined: an own cache, a closed handle
   * (its lease was given up), or a build without leases.
   */
  watch(op: keyof typeof WATCH_OPS, topic: string): number | undefined {
    if (this.handle === 0 || this.countersId === undefined || this.binding.sWatch === undefined) return undefined
    return this.binding.sWatch(this.handle, WATCH_OPS[op], topic, WATCH_LEASE_MS)
  }

  /** Releases this handle (the entries are not reported: closing is not removing). */
  close(): void {
    if (this.handle === 0) return
    forgetHandle(this)
    this.binding.close(this.handle)
    this.handle = 0
  }

  /** Hands the last call's removals (Rust kept them: FLAG_REPORT) to the hook, in order. */
  private report(): void {
    if (this.words[STATUS_AT] === 0) return
    const raw = this.binding.takeRemovals()
    const events: [string, V, RemovalReason][] = []
    for (let i = 0; i < raw.length; i += REMOVAL_FIELDS) {
      events.push([raw[i + 2] as string, this.value(raw[i + 3] as string | Buffer, raw[i + 4] as number), REASONS[raw[i + 1] as number]])
    }
    for (const [key, value, reason] of events) this.onRemove!(key, value, reason)
  }

  private value(stored: string | Buffer, tag: number): V {
    return (tag & TAG_SERIALIZED) !== 0 ? this.decode(stored) : (stored as V)
  }

  private decode(stored: string | Buffer): V {
    return decodeValue<V>(this.serializer, this.readsStrings, stored)
  }
}
