import { CacheOptionError, NativeEngineUnavailableError } from '../errors'
import { ENGINE_ENV_VAR, engineFromEnv, loadNative, nativeLoadError, selectEngine } from '../native'
import { jsonSerializer, type Serializer } from '../serializer'
import type { Clock, Engine, EngineCounters } from './engine'
import { randomPolicySeed } from './policies/create'
import { POLICY_CODES, type EnginePolicy } from './policies/policy'
import { decodeValue, encodeValue, SERIALIZED_TAG as SERIALIZED } from './serialized-values'

/**
 * Serialized storage (`storage: 'serialized'`, and every `shared()` cache): values are
 * turned into bytes and kept in Rust memory (crates/node/src/serialized.rs), so the JS
 * heap holds nothing per entry. Strings and Buffers are stored as they are (no serializer
 * round trip) and come back as the same type; anything else goes through the serializer
 * (default: JSON) at set time, so a value it cannot carry fails there, never at get.
 */

/** The serialized-storage functions of the binding (crates/node/src/serialized.rs). */
export interface SerializedBinding {
  /** policy: POLICY_CODES (default 0, lru); seed: u32 of the policy's key hash. */
  sCreate(capacity: number, maxBytes: number, policy?: number, seed?: number): number
  sOpen(name: string, capacity: number, maxBytes: number, shards: number, defaultTtlMs: number, policy?: number, seed?: number): number
  /** The policy code a cache runs (absent from binaries built before policies reached serialized storage). */
  sPolicy?(handle: number): number
  sClose(handle: number): void
  sGet(handle: number, key: string, now: number, meta: Int32Array): string | Buffer | undefined
  sPeek(handle: number, key: string, now: number, meta: Int32Array): string | Buffer | undefined
  sHas(handle: number, key: string, now: number): boolean
  sSet(handle: number, key: string, value: string | Uint8Array, serialized: number, ttlMs: number, now: number): void
  sRemove(handle: number, key: string, now: number): boolean
  sClear(handle: number): void
  sCounters(handle: number, out: Float64Array): void
  sKeys(handle: number): string[]
}

/** `now` value telling Rust to read its own (process-wide) clock. */
const ENGINE_CLOCK = -1

export interface SerializedCounters extends EngineCounters {
  /** Bytes of stored values (each value's serialized size plus a 1-byte type tag). */
  bytes: number
}

export interface SerializedEngineOptions {
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
}

/** Closes caches whose owner forgot to: Rust memory is not seen by the GC otherwise. */
const finalizer = new FinalizationRegistry<{ binding: SerializedBinding; handle: number }>(({ binding, handle }) => {
  try {
    binding.sClose(handle)
  } catch {
    // already closed
  }
})

/** The binding, when it loads and has serialized storage; else throws the reason. */
export function serializedBinding(engineOption: unknown): SerializedBinding {
  const forcedJs = engineFromEnv() === 'js'
  if (engineOption === 'js' || forcedJs) {
    const by = forcedJs ? `${ENGINE_ENV_VAR}=js` : `engine: 'js'`
    throw new CacheOptionError(`storage: 'serialized' keeps values in Rust memory and needs the native engine, but ${by} was requested`)
  }
  if (engineOption !== 'native' && engineOption !== 'auto') selectEngine(engineOption) // throws the standard message
  const binding = loadNative() as unknown as (SerializedBinding & object) | null
  if (binding === null || typeof binding.sGet !== 'function') {
    const why = binding === null ? (nativeLoadError()?.message ?? 'unknown reason') : 'the loaded binary has no serialized storage (stale build? run npm run build:native)'
    throw new NativeEngineUnavailableError(`storage: 'serialized' needs the native engine, which is unavailable: ${why}`, { cause: nativeLoadError() })
  }
  return binding
}

export class SerializedEngine<V> implements Engine<V> {
  readonly kind = 'native' as const
  readonly capacity: number
  private readonly binding: SerializedBinding
  private readonly clock: Clock | undefined
  private readonly serializer: Serializer
  /** The default JSON serializer reads strings directly (no Buffer in between). */
  private readonly readsStrings: boolean
  private handle: number
  private readonly meta = new Int32Array(1)
  private readonly counterBuffer = new Float64Array(7)

  constructor(binding: SerializedBinding, options: SerializedEngineOptions) {
    this.binding = binding
    this.capacity = options.capacity
    this.serializer = options.serializer
    this.readsStrings = options.serializer === jsonSerializer
    const policy = options.policy ?? 'lru'
    if (policy !== 'lru' && typeof binding.sPolicy !== 'function') {
      throw new NativeEngineUnavailableError(`policy: '${policy}' with storage: 'serialized' needs a newer native binary (stale build? run npm run build:native)`)
    }
    const code = POLICY_CODES[policy]
    const seed = options.policySeed ?? randomPolicySeed()
    if (options.shared) {
      const s = options.shared
      try {
        this.handle = binding.sOpen(s.name, options.capacity, options.maxBytes, s.shards, s.defaultTtlMs, code, seed)
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_ASTRA_NATIVE_MISMATCH') throw new CacheOptionError((err as Error).message, { cause: err })
        throw err
      }
      this.clock = undefined // one clock for every thread: Rust's
    } else {
      this.handle = binding.sCreate(options.capacity, options.maxBytes, code, seed)
      this.clock = options.clock
    }
    finalizer.register(this, { binding, handle: this.handle }, this)
  }

  private now(): number {
    return this.clock === undefined ? ENGINE_CLOCK : this.clock()
  }

  get size(): number {
    return this.counters().size
  }

  get(key: string): V | undefined {
    const v = this.binding.sGet(this.handle, key, this.now(), this.meta)
    if (v === undefined) return undefined
    return (this.meta[0] & SERIALIZED) !== 0 ? this.decode(v) : (v as V)
  }

  peek(key: string): V | undefined {
    const v = this.binding.sPeek(this.handle, key, this.now(), this.meta)
    if (v === undefined) return undefined
    return (this.meta[0] & SERIALIZED) !== 0 ? this.decode(v) : (v as V)
  }

  has(key: string): boolean {
    return this.binding.sHas(this.handle, key, this.now())
  }

  set(key: string, value: V, ttlMs: number): void {
    if (typeof value === 'string' || Buffer.isBuffer(value)) {
      this.binding.sSet(this.handle, key, value, 0, ttlMs, this.now())
      return
    }
    this.binding.sSet(this.handle, key, this.encode(value), 1, ttlMs, this.now())
  }

  /** One crossing per key: serialized values are copied out one by one anyway. */
  getMany(keys: readonly string[]): (V | undefined)[] {
    const out = new Array<V | undefined>(keys.length)
    for (let i = 0; i < keys.length; i++) out[i] = this.get(keys[i])
    return out
  }

  setMany(entries: readonly (readonly [string, V, ...unknown[]])[], ttlsMs: ArrayLike<number>): void {
    for (let i = 0; i < entries.length; i++) this.set(entries[i][0], entries[i][1], ttlsMs[i])
  }

  delete(key: string): boolean {
    return this.binding.sRemove(this.handle, key, this.now())
  }

  clear(): void {
    this.binding.sClear(this.handle)
  }

  counters(): SerializedCounters {
    const c = this.counterBuffer
    this.binding.sCounters(this.handle, c)
    return { hits: c[0], misses: c[1], evictions: c[2], expirations: c[3], sets: c[4], size: c[5], bytes: c[6] }
  }

  /** Keys, most to least recently used (per shard for a shared cache); tests and debugging. */
  keysMruToLru(): string[] {
    return this.binding.sKeys(this.handle)
  }

  close(): void {
    if (this.handle === 0) return
    finalizer.unregister(this)
    this.binding.sClose(this.handle)
    this.handle = 0
  }

  private encode(value: V): string | Uint8Array {
    return encodeValue(this.serializer, value)
  }

  private decode(stored: string | Buffer): V {
    return decodeValue<V>(this.serializer, this.readsStrings, stored)
  }
}
