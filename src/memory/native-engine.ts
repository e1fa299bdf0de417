import { NativeEngineUnavailableError } from '../errors'
import { loadNative, nativeLoadError, type NativeBinding } from '../native'
import type { Clock, Engine, EngineCounters, EngineOptions } from './engine'

/**
 * The Rust engine (crates/core through crates/node) behind the Engine interface.
 *
 * Rust owns keys, LRU order, deadlines and counters; this class keeps the values in a
 * plain array indexed by the slot numbers Rust returns, so a get hit is one native call
 * plus one array read. Slots Rust frees (expired on get, deleted, swept on set) are
 * reported back and their values dropped here, so no dead value stays reachable.
 *
 * Time: every call passes `clock()` in, so under an injected clock this engine and the
 * JS engine see the same instants and agree op for op.
 */

/** Closes engines whose owner forgot to: Rust memory is not seen by the GC otherwise. */
const finalizer = new FinalizationRegistry<{ binding: NativeBinding; handle: number }>(({ binding, handle }) => {
  try {
    binding.close(handle)
  } catch {
    // Already closed: nothing to free.
  }
})

export class NativeEngine<V> implements Engine<V> {
  readonly kind = 'native' as const
  readonly capacity: number
  private readonly binding: NativeBinding
  private readonly clock: Clock
  private handle: number
  /** values[slot] is the value of the entry Rust keeps in that slot. */
  private values: (V | undefined)[] = []
  private readonly counterBuffer = new Float64Array(6)

  constructor(options: EngineOptions) {
    const binding = loadNative()
    if (binding === null) {
      throw new NativeEngineUnavailableError(`native engine unavailable: ${nativeLoadError()?.message ?? 'unknown reason'}`, {
        cause: nativeLoadError(),
      })
    }
    this.binding = binding
    this.capacity = options.capacity
    this.clock = options.clock
    this.handle = binding.create(options.capacity)
    finalizer.register(this, { binding, handle: this.handle }, this)
  }

  get size(): number {
    return this.binding.size(this.handle)
  }

  get(key: string): V | undefined {
    const slot = this.binding.getAt(this.handle, key, this.clock())
    if (slot >= 0) return this.values[slot]
    if (slot < -1) this.values[-slot - 2] = undefined // expired and removed
    return undefined
  }

  peek(key: string): V | undefined {
    const slot = this.binding.peekAt(this.handle, key, this.clock())
    return slot >= 0 ? this.values[slot] : undefined
  }

  has(key: string): boolean {
    return this.binding.peekAt(this.handle, key, this.clock()) >= 0
  }

  set(key: string, value: V, ttlMs: number): void {
    let slot = this.binding.setAt(this.handle, key, ttlMs, this.clock())
    if (slot < 0) {
      // The sweep freed slots: drop their values first, since the new entry may reuse one.
      slot = -slot - 1
      for (let freed = this.binding.takeSwept(this.handle); freed >= 0; freed = this.binding.takeSwept(this.handle)) {
        this.values[freed] = undefined
      }
    }
    this.values[slot] = value
  }

  delete(key: string): boolean {
    const slot = this.binding.removeAt(this.handle, key, this.clock())
    if (slot >= 0) {
      this.values[slot] = undefined
      return true
    }
    if (slot < -1) this.values[-slot - 2] = undefined // was expired
    return false
  }

  clear(): void {
    this.binding.clear(this.handle)
    this.values = []
  }

  counters(): EngineCounters {
    const c = this.counterBuffer
    this.binding.counters(this.handle, c)
    return { hits: c[0], misses: c[1], evictions: c[2], expirations: c[3], sets: c[4], size: c[5] }
  }

  /** Keys from most to least recently used (for tests and debugging; O(n)). */
  keysMruToLru(): string[] {
    return this.binding.keys(this.handle)
  }

  close(): void {
    if (this.handle === 0) return
    finalizer.unregister(this)
    this.binding.close(this.handle)
    this.handle = 0 // never a valid handle: later calls throw instead of touching memory
    this.values = []
  }
}
