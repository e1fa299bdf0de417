import { CacheOptionError, NativeEngineUnavailableError } from '../errors'
import { loadNative, nativeArea, nativeLoadError, type NativeBinding } from '../native'
import type { Clock, Engine, EngineCounters, EngineOptions, RemovalHook, RemovalReason } from './engine'
import { LAYOUT, REASONS, type AreaViews } from './native-layout'
import { randomPolicySeed } from './policies/create'
import { POLICY_CODES } from './policies/policy'

/**
 * The Rust engine (crates/core through crates/node) in reference storage, for every
 * policy. Rust holds the keys, the index, the policy's order, deadlines and counters; this
 * class holds only the values, in a packed array indexed by the slot numbers Rust returns.
 * A get is one native call (the key read into a stack buffer, hashed once, looked up)
 * returning a slot, then `values[slot]`; docs/native-hotpath.md has the measurements.
 *
 * Staying in sync: Rust reports every slot it frees besides the one a call returns
 * (expired entries, by result code; the slots a set's sweep freed, in the shared area's
 * log), and the value kept for it is dropped here, so nothing dead stays reachable from
 * the JS heap. With an onRemove hook, Rust also hands over the key of every entry a set
 * or clear removed (takeRemovals), and the hook gets each one after the operation.
 *
 * Time: before every keyed call this writes `clock()` (the cache's clock) where Rust reads
 * it (the shared area's `now`: ~1 ns, where an argument costs ~7 ns), so under an
 * injected clock this engine and the JS engine see the same instants and agree op for op.
 */

/**
 * Most entries reference storage holds: the values array must stay within V8's limit for
 * one array's backing store (2^27 elements on 64-bit; growing past it is a fatal error),
 * with room for V8's growth step. Serialized storage has no such limit (up to 2^30).
 */
export const NATIVE_REFERENCE_MAX_ENTRIES = 2 ** 26

/** Closes engines whose owner forgot to: Rust memory is not seen by the GC otherwise. */
const finalizer = new FinalizationRegistry<{ binding: NativeBinding; handle: number }>(({ binding, handle }) => {
  try {
    binding.close(handle)
  } catch {
    // Already closed: nothing to free.
  }
})

/** The native binding, or NativeEngineUnavailableError saying why it did not load. */
export function requireNative(what: string): NativeBinding {
  const binding = loadNative()
  if (binding === null) {
    throw new NativeEngineUnavailableError(`${what} unavailable: ${nativeLoadError()?.message ?? 'unknown reason'}`, { cause: nativeLoadError() })
  }
  return binding
}

/** Registers `owner` to close `handle` if it is collected unclosed. */
export function closeWhenCollected(owner: object, binding: NativeBinding, handle: number): void {
  finalizer.register(owner, { binding, handle }, owner)
}

export function forgetHandle(owner: object): void {
  finalizer.unregister(owner)
}

/** Reads the counters the binding wrote into the area. */
export function readCounters(area: AreaViews): EngineCounters {
  const c = area.counters
  return {
    hits: c[LAYOUT.COUNTER_HITS],
    misses: c[LAYOUT.COUNTER_MISSES],
    evictions: c[LAYOUT.COUNTER_EVICTIONS],
    expirations: c[LAYOUT.COUNTER_EXPIRATIONS],
    sets: c[LAYOUT.COUNTER_SETS],
    size: c[LAYOUT.COUNTER_SIZE],
  }
}

const INITIAL_SLOTS = 16
const { MISS, EXPIRED_BASE, BATCH, STATUS_AT, LOG_AT, REMOVAL_FIELDS } = LAYOUT

export class NativeEngine<V> implements Engine<V> {
  readonly kind = 'native' as const
  readonly capacity: number
  private readonly binding: NativeBinding
  private readonly clock: Clock
  private handle: number
  /** values[slot]: the value of the entry Rust keeps in that slot. Packed (never holey), grown by doubling up to capacity. */
  private values: (V | undefined)[] = []
  private readonly area: AreaViews
  /** The area's words: the status word (removals to read) and the removal log. */
  private readonly words: Int32Array
  /** now[0]: the time Rust reads for the next call. */
  private readonly now: Float64Array
  private readonly onRemove: RemovalHook<V> | undefined

  constructor(options: EngineOptions<V>) {
    if (options.capacity > NATIVE_REFERENCE_MAX_ENTRIES) {
      throw new CacheOptionError(
        `maxsize ${options.capacity} is more than reference storage holds (${NATIVE_REFERENCE_MAX_ENTRIES}: the values array must stay within V8's array limit); use storage: 'serialized', which holds up to 2^30 entries`,
      )
    }
    this.binding = requireNative('native engine')
    this.capacity = options.capacity
    this.clock = options.clock
    this.onRemove = options.onRemove
    this.area = nativeArea(this.binding)
    this.words = this.area.i32
    this.now = this.area.now
    const flags = options.onRemove === undefined ? 0 : LAYOUT.FLAG_REPORT
    this.handle = this.binding.create(options.capacity, POLICY_CODES[options.policy ?? 'lru'], options.policySeed ?? randomPolicySeed(), flags)
    closeWhenCollected(this, this.binding, this.handle)
    this.grow(Math.min(INITIAL_SLOTS, options.capacity) - 1)
  }

  get size(): number {
    return this.binding.size(this.handle)
  }

  get(key: string): V | undefined {
    this.now[0] = this.clock()
    const r = this.binding.get(this.handle, key)
    if (r >= 0) return this.values[r]
    if (r !== MISS) this.expired(key, EXPIRED_BASE - r)
    return undefined
  }

  peek(key: string): V | undefined {
    this.now[0] = this.clock()
    const r = this.binding.peek(this.handle, key)
    return r >= 0 ? this.values[r] : undefined
  }

  has(key: string): boolean {
    this.now[0] = this.clock()
    return this.binding.peek(this.handle, key) >= 0
  }

  set(key: string, value: V, ttlMs: number): void {
    this.now[0] = this.clock()
    const slot = this.binding.set(this.handle, key, ttlMs)
    const logged = this.words[STATUS_AT]
    if (this.onRemove !== undefined) return this.setReporting(value, slot, logged)
    if (logged !== 0) {
      // Slots the set's sweep freed (not the returned one): their values go.
      const words = this.words
      for (let i = 0; i < logged; i++) {
        const freed = words[LOG_AT + 2 * i]
        if (freed >= 0) this.values[freed] = undefined // -1: a value that was never stored
      }
    }
    if (slot >= 0) this.place(slot, value)
  }

  /** set with a hook: every removal's key from Rust, its value from here, reported after the set. */
  private setReporting(value: V, slot: number, logged: number): void {
    const events = logged === 0 ? [] : this.takeRemovals(value)
    for (let i = 0; i < events.length; i += 4) {
      const freed = events[i + 3] as number
      if (freed >= 0 && freed !== slot) this.values[freed] = undefined
    }
    if (slot >= 0) this.place(slot, value)
    this.report(events)
  }

  delete(key: string): boolean {
    this.now[0] = this.clock()
    const r = this.binding.remove(this.handle, key)
    if (r >= 0) {
      const value = this.values[r]
      this.values[r] = undefined
      if (this.onRemove !== undefined) this.onRemove(key, value as V, 'delete')
      return true
    }
    if (r !== MISS) this.expired(key, EXPIRED_BASE - r)
    return false
  }

  /** get() per key, in one crossing per LAYOUT.BATCH keys (same counters and order). */
  getMany(keys: readonly string[]): (V | undefined)[] {
    const n = keys.length
    const out = new Array<V | undefined>(n)
    const { ends, out: codes } = this.area
    for (let from = 0; from < n; from += BATCH) {
      const m = Math.min(BATCH, n - from)
      let end = 0
      for (let j = 0; j < m; j++) {
        end += keys[from + j].length
        ends[j] = end
      }
      const joined = from === 0 && m === n ? keys.join('') : keys.slice(from, from + m).join('')
      this.now[0] = this.clock()
      this.binding.getMany(this.handle, joined, m)
      for (let j = 0; j < m; j++) {
        const r = codes[j]
        if (r >= 0) out[from + j] = this.values[r]
        else {
          out[from + j] = undefined // assigned, not left a hole: callers map over the result
          if (r !== MISS) this.expired(keys[from + j], EXPIRED_BASE - r)
        }
      }
    }
    return out
  }

  setMany(entries: readonly (readonly [string, V, ...unknown[]])[], ttlsMs: ArrayLike<number>): void {
    for (let i = 0; i < entries.length; i++) this.set(entries[i][0], entries[i][1], ttlsMs[i])
  }

  clear(): void {
    this.binding.clear(this.handle)
    const events = this.onRemove !== undefined && this.words[STATUS_AT] !== 0 ? this.takeRemovals(undefined) : undefined
    this.values = []
    this.grow(Math.min(INITIAL_SLOTS, this.capacity) - 1)
    if (events !== undefined) this.report(events)
  }

  counters(): EngineCounters {
    this.binding.counters(this.handle)
    return readCounters(this.area)
  }

  /** Releases native memory (the entries are not reported: closing is not removing). */
  close(): void {
    if (this.handle === 0) return
    forgetHandle(this)
    this.binding.close(this.handle)
    this.handle = 0 // never a valid handle: later calls throw instead of touching memory
    this.values = []
  }

  /** Rust removed the expired entry of `key` from `slot`. */
  private expired(key: string, slot: number): void {
    const value = this.values[slot]
    this.values[slot] = undefined
    if (this.onRemove !== undefined) this.onRemove(key, value as V, 'expire')
  }

  /**
   * The last call's removals as [key, value, reason, slot] groups: keys from Rust, values
   * from here (a slot of -1 is a value that was never stored: `unstored`).
   */
  private takeRemovals(unstored: V | undefined): unknown[] {
    const raw = this.binding.takeRemovals()
    const events: unknown[] = []
    for (let i = 0; i < raw.length; i += REMOVAL_FIELDS) {
      const slot = raw[i] as number
      events.push(raw[i + 2], slot >= 0 ? this.values[slot] : unstored, REASONS[raw[i + 1] as number], slot)
    }
    return events
  }

  private report(events: unknown[]): void {
    for (let i = 0; i < events.length; i += 4) this.onRemove!(events[i] as string, events[i + 1] as V, events[i + 2] as RemovalReason)
  }

  private place(slot: number, value: V): void {
    if (slot >= this.values.length) this.grow(slot)
    // An equal string already held stays (see "Equal strings" in engine.ts): no young copy to promote.
    if (typeof value !== 'string' || this.values[slot] !== value) this.values[slot] = value
  }

  /** Room for `slot`: doubles the values array (up to capacity), keeping it packed. */
  private grow(slot: number): void {
    const values = this.values
    let n = Math.max(values.length * 2, INITIAL_SLOTS)
    while (n <= slot) n *= 2
    n = Math.min(n, this.capacity)
    for (let i = values.length; i < n; i++) values.push(undefined)
  }
}
