import { CacheOptionError, CacheSegmentError, CacheUnsupportedPlatformError, type SegmentErrorCode } from '../errors'
import { jsonSerializer, type Serializer } from '../serializer'
import type { Engine, EngineCounters } from './engine'
import { nativeArea, WATCH_OPS, type NativeBinding } from '../native'
import { LAYOUT, VALUE_TAG_AT, type AreaViews } from './native-layout'
import { decodeValue, storedForm } from './serialized-values'
import { serializedBinding } from './serialized-engine'
import { readCounters } from './native-engine'
import { WATCH_LEASE_MS } from '../contract/capabilities'

/**
 * The machine-wide engine (`InMemoryLRUCache.shared(name, { scope: 'machine' })`): one
 * cache in a memory-mapped segment file shared by every process of the machine
 * (crates/core/src/machine, bound in crates/node/src/machine.rs). Values are serialized
 * exactly as in serialized storage; time is the kernel's CLOCK_MONOTONIC, the same for
 * every process, so no JS clock is involved. Linux only.
 */

/** The machine-cache functions of the binding (crates/node/src/machine.rs). */
export interface MachineBinding {
  mSupported(): boolean
  mOpen(dir: string, name: string, capacity: number, maxBytes: number, shards: number, mode: number, lockTimeoutMs: number): number
  mClose(handle: number): void
  /** On a hit the value's tag is in the thread's shared area, as for sGet. */
  mGet(handle: number, key: string): string | Buffer | undefined
  mPeek(handle: number, key: string): string | Buffer | undefined
  mHas(handle: number, key: string): boolean
  /** False when key + value do not fit in one shard's region (nothing is stored). */
  mSet(handle: number, key: string, value: string | Uint8Array, serialized: number, ttlMs: number): boolean
  mRemove(handle: number, key: string): boolean
  mClear(handle: number): void
  /** Into the thread's shared area (LAYOUT.COUNTER_* places), as the other engines' counters. */
  mCounters(handle: number): void
  mVerify(handle: number): string[]
  mKeys(handle: number): string[]
  mSegmentBytes(handle: number): number
  mUnlink(dir: string, name: string): boolean
  /** The segment's identity: equal for every attachment of it, new when it is made again. */
  mIdentity(handle: number): string
  /** Watcher lease: op 1 start (answers the live watchers vouching for the segment), 2 renew, 0 stop. */
  mWatch(handle: number, op: 0 | 1 | 2, topic: string, leaseMs: number): number
}

export interface MachineCounters extends EngineCounters {
  bytes: number
  /** Shard rebuilds after a process died holding a shard lock (machine-wide, since creation). */
  recoveries: number
}

/** Where and how the segment is made (validated by shared-registry.ts). */
export interface MachineSpec {
  name: string
  shards: number
  dir: string
  mode: number
  lockTimeoutMs: number
}

const SEGMENT_CODES = new Set<string>(['ERR_CACHE_SEGMENT_MISMATCH', 'ERR_CACHE_SEGMENT_PERMISSION', 'ERR_CACHE_SEGMENT_IO', 'ERR_CACHE_LOCK_TIMEOUT'])

/** Rust's coded errors as this library's error classes. */
function translate(err: unknown): unknown {
  const code = (err as { code?: string }).code
  const message = (err as Error).message
  if (code !== undefined && SEGMENT_CODES.has(code)) return new CacheSegmentError(code as SegmentErrorCode, message, { cause: err })
  if (code === 'ERR_CACHE_INVALID_OPTION') return new CacheOptionError(message, { cause: err })
  if (code === 'ERR_CACHE_UNSUPPORTED_PLATFORM') return new CacheUnsupportedPlatformError(message)
  return err
}

function guarded<T>(run: () => T): T {
  try {
    return run()
  } catch (err) {
    throw translate(err)
  }
}

const UNSUPPORTED = `scope: 'machine' needs Linux (robust process-shared mutexes keep the cache usable when a process dies holding a lock); this is ${process.platform}`

/** The binding, on a platform that can run a machine-wide cache; else throws the coded reason. */
export function machineBinding(engineOption: unknown): MachineBinding {
  if (process.platform !== 'linux') throw new CacheUnsupportedPlatformError(UNSUPPORTED)
  const binding = serializedBinding(engineOption) as unknown as MachineBinding & object
  if (typeof binding.mOpen !== 'function') {
    throw new CacheUnsupportedPlatformError(`scope: 'machine' needs a native binary with machine-wide caches (stale build? run npm run build:native)`)
  }
  if (!binding.mSupported()) throw new CacheUnsupportedPlatformError(UNSUPPORTED)
  return binding
}

/** Removes a machine-wide cache's segment file; processes still attached keep working on their mapping. */
export function removeMachineSegment(binding: MachineBinding, dir: string, name: string): boolean {
  return guarded(() => binding.mUnlink(dir, name))
}

// Module-level copies of the layout read on every read (a cross-module read is a property load, a getter
// call under loaders that compile ES modules to CommonJS).
const TAG_AT = VALUE_TAG_AT
const { TAG_SERIALIZED } = LAYOUT

/** Closes attachments whose owner forgot to (the mapping is not seen by the GC). */
const finalizer = new FinalizationRegistry<{ binding: MachineBinding; handle: number }>(({ binding, handle }) => binding.mClose(handle))

export class MachineEngine<V> implements Engine<V> {
  readonly kind = 'native' as const
  readonly capacity: number
  private readonly binding: MachineBinding
  private readonly serializer: Serializer
  private readonly readsStrings: boolean
  private handle: number
  private readonly area: AreaViews
  /** The thread's shared area's words (a read leaves its value's tag there). */
  private readonly words: Int32Array
  /** The segment's identity: its counters are every attached process's (metrics count them once). */
  readonly countersId: string

  constructor(binding: MachineBinding, options: { capacity: number; maxBytes: number; serializer: Serializer; spec: MachineSpec }) {
    this.binding = binding
    this.capacity = options.capacity
    this.serializer = options.serializer
    this.readsStrings = options.serializer === jsonSerializer
    this.area = nativeArea(binding as unknown as NativeBinding)
    this.words = this.area.i32
    const s = options.spec
    this.handle = guarded(() => binding.mOpen(s.dir, s.name, options.capacity, options.maxBytes, s.shards, s.mode, s.lockTimeoutMs))
    finalizer.register(this, { binding, handle: this.handle }, this)
    this.countersId = binding.mIdentity(this.handle)
  }

  get size(): number {
    return this.counters().size
  }

  get(key: string): V | undefined {
    return this.value(guarded(() => this.binding.mGet(this.handle, key)))
  }

  peek(key: string): V | undefined {
    return this.value(guarded(() => this.binding.mPeek(this.handle, key)))
  }

  /** A stored value as the caller's: its tag (written to the area by the read) says whether the serializer made it. */
  private value(stored: string | Buffer | undefined): V | undefined {
    if (stored === undefined) return undefined
    const tag = this.words[TAG_AT]
    return (tag & TAG_SERIALIZED) !== 0 ? decodeValue<V>(this.serializer, this.readsStrings, stored) : (stored as V)
  }

  has(key: string): boolean {
    return guarded(() => this.binding.mHas(this.handle, key))
  }

  set(key: string, value: V, ttlMs: number): void {
    this.write(key, value, storedForm(this.serializer, value, key), ttlMs)
  }

  getMany(keys: readonly string[]): (V | undefined)[] {
    return keys.map((k) => this.get(k))
  }

  /** Every value is encoded before any is written: one the serializer refuses stores nothing. */
  setMany(entries: readonly (readonly [string, V, ...unknown[]])[], ttlsMs: ArrayLike<number>): void {
    const payloads = entries.map(([key, value]) => storedForm(this.serializer, value, key))
    for (let i = 0; i < entries.length; i++) this.write(entries[i][0], entries[i][1], payloads[i], ttlsMs[i])
  }

  /** Tag 0: `value` itself was stored (a string or Buffer); 1: its serialized bytes. */
  private write(key: string, value: V, stored: string | Uint8Array, ttlMs: number): void {
    guarded(() => this.binding.mSet(this.handle, key, stored, stored === value ? 0 : 1, ttlMs))
  }

  delete(key: string): boolean {
    return guarded(() => this.binding.mRemove(this.handle, key))
  }

  clear(): void {
    guarded(() => this.binding.mClear(this.handle))
  }

  /** Watcher lease of this attachment (see capabilities.ts watchShared); 0 once closed. */
  watch(op: keyof typeof WATCH_OPS, topic: string): number {
    if (this.handle === 0) return 0
    return guarded(() => this.binding.mWatch(this.handle, WATCH_OPS[op], topic, WATCH_LEASE_MS))
  }

  counters(): MachineCounters {
    guarded(() => this.binding.mCounters(this.handle))
    const c = this.area.counters
    return { ...readCounters(this.area), bytes: c[LAYOUT.COUNTER_BYTES], recoveries: c[LAYOUT.COUNTER_RECOVERIES] }
  }

  /** Every broken invariant of the segment (empty when sound); takes each shard's lock in turn. */
  verify(): string[] {
    return guarded(() => this.binding.mVerify(this.handle))
  }

  /** Bytes of the mapped segment (the same memory in every attached process). */
  segmentBytes(): number {
    return this.binding.mSegmentBytes(this.handle)
  }

  /** Keys per shard, from the eviction list's head (newest or last given a second chance) to the entry examined next; tests and debugging. */
  keysMruToLru(): string[] {
    return this.binding.mKeys(this.handle)
  }

  /** Detaches this process (unmaps); the segment and its entries stay for the others. */
  close(): void {
    if (this.handle === 0) return
    finalizer.unregister(this)
    this.binding.mClose(this.handle)
    this.handle = 0
  }
}
