import { CacheOptionError, NativeEngineUnavailableError } from '../errors'
import { loadNative, nativeLoadError, type NativeBinding } from '../native'
import type { Clock, Engine, EngineCounters, EngineOptions } from './engine'
import { randomPolicySeed } from './policies/create'
import { POLICY_CODES } from './policies/policy'

/**
 * The Rust engine (crates/core through crates/node) behind the Engine interface.
 *
 * Rust owns LRU order, deadlines, eviction, the sweep and the counters. A get hit does
 * not cross N-API (the crossing alone costs more than a whole JS Map hit, see
 * docs/native-hotpath.md): this class keeps its own index (key -> slot), the values and a
 * copy of each slot's deadline, serves hits from them, and records the hit's slot in
 * `ring`. Rust applies the recorded hits, in order, at the start of the next call that
 * reaches it (every set, delete, expiry, batch, counters(), keysMruToLru()) or when the
 * ring is full: so no access is dropped and the LRU order, evictions and counters are
 * exactly those of calling Rust's get each time. Misses and hits are counted here and
 * added to Rust's counters at the same moments.
 *
 * Keyless: Rust holds no keys for this engine (crates/core/src/keyless.rs). The index
 * already says whether a key is present, so a set of a present key crosses with its slot
 * only (hpUpdate) and a set of a new key with no key at all (hpInsert: Rust takes a free
 * slot or evicts the LRU tail and returns the slot). No string copy, hash or table probe
 * in Rust; the keys by slot live here only. LRU only (S3-FIFO's ghost and W-TinyLFU's
 * sketch need keys: those policies use NativeCallEngine, see engine-choice.ts).
 *
 * Staying in sync: every slot Rust frees (sweep, eviction, expiry, delete) is reported
 * back, and the key and value kept for it are dropped here, so the index holds exactly
 * Rust's entries and nothing dead stays reachable from the JS heap.
 *
 * Time: every call passes `clock()` in, so under an injected clock this engine and the
 * JS engine see the same instants and agree op for op. A batch sees one instant.
 */

/** Closes engines whose owner forgot to: Rust memory is not seen by the GC otherwise. */
const finalizer = new FinalizationRegistry<{ binding: NativeBinding; handle: number }>(({ binding, handle }) => {
  try {
    binding.close(handle)
  } catch {
    // Already closed: nothing to free.
  }
})

function loadBinding(): NativeBinding {
  const binding = loadNative()
  if (binding === null) {
    throw new NativeEngineUnavailableError(`native engine unavailable: ${nativeLoadError()?.message ?? 'unknown reason'}`, {
      cause: nativeLoadError(),
    })
  }
  return binding
}

/** Recorded hits held before Rust must apply them. */
const RING_SIZE = 1024
/** Keys per batch crossing (bounds the joined string and the result buffers). */
const BATCH = 256
const INITIAL_SLOTS = 16
/** Victims hpInsert hands out at most (crates/node/src/hotpath.rs VICTIMS). */
const VICTIMS = 64

/**
 * Views over the engine's shared area, Rust memory handed over once (hpBuffers): calls
 * then pass only counts, since reading a typed array argument costs ~55 ns per call.
 * Layout (crates/node/src/hotpath.rs): ring i32[1024] | ends i32[256] | out i32[768] | ttls f64[256]
 * | call block: f64 now, f64 ttlMs, i32 ringLen, i32 slot (the arguments of hpInsert/hpUpdate:
 * a shared word costs ~1 ns to pass, an N-API argument ~10 ns).
 */
interface Area {
  ring: Int32Array
  ends: Int32Array
  out: Int32Array
  ttls: Float64Array
  /** [now, ttlMs] */
  callF64: Float64Array
  /** [ringLen, slot] (for hpInsert: victims wanted, then victims given) */
  callI32: Int32Array
  /** The next victims, LRU tail first (hpInsert writes them when asked). */
  victims: Int32Array
}

function areaViews(buffer: ArrayBuffer): Area {
  const callAt = 4 * (RING_SIZE + 4 * BATCH) + 8 * BATCH
  return {
    ring: new Int32Array(buffer, 0, RING_SIZE),
    ends: new Int32Array(buffer, 4 * RING_SIZE, BATCH),
    out: new Int32Array(buffer, 4 * (RING_SIZE + BATCH), 3 * BATCH),
    ttls: new Float64Array(buffer, 4 * (RING_SIZE + 4 * BATCH), BATCH),
    callF64: new Float64Array(buffer, callAt, 2),
    callI32: new Int32Array(buffer, callAt + 16, 2),
    victims: new Int32Array(buffer, callAt + 24, VICTIMS),
  }
}

/** Joins keys[from, from + n) and writes each key's end offset (UTF-16 units) to ends. */
function joinKeys(keys: readonly string[], from: number, n: number, ends: Int32Array): string {
  let end = 0
  for (let j = 0; j < n; j++) {
    end += keys[from + j].length
    ends[j] = end
  }
  return from === 0 && n === keys.length ? keys.join('') : keys.slice(from, from + n).join('')
}

export class NativeEngine<V> implements Engine<V> {
  readonly kind = 'native' as const
  readonly capacity: number
  private readonly binding: NativeBinding
  private readonly clock: Clock
  private handle: number
  /** key -> slot, exactly Rust's entries. */
  private readonly index = new Map<string, number>()
  /**
   * keys[slot] / values[slot]: the key and value of the entry Rust keeps in that slot.
   * Preallocated with deadlines (doubling, up to capacity) and never holey, so every slot
   * read or written is in bounds of packed arrays.
   */
  private keys: (string | undefined)[]
  private values: (V | undefined)[]
  /** Copy of Rust's deadline per slot (0 = never), computed with the same f64 addition. */
  private deadlines: Float64Array
  /** Slots of hits not yet applied by Rust: ring[0, ringLen). Also receives swept slots from hpSet. */
  private readonly ring: Int32Array
  private ringLen = 0
  /** The call block of the area: hpInsert/hpUpdate read their arguments there. */
  private readonly callF64: Float64Array
  private readonly callI32: Int32Array
  /**
   * Deferred inserts: after an hpInsert that asked for them, victims[victimPos, victimCount)
   * are the next LRU victims, valid while the ring holds nothing but deferred inserts since
   * (ringLen === deferLen; -1 = not valid) and no entry has a deadline. A set of a new key
   * with no TTL then takes the next victim's slot and is recorded in the ring as
   * -(slot + 2), no call: Rust applies it with the hits, in order, as the insert it is.
   */
  private readonly victims: Int32Array
  private victimPos = 0
  private victimCount = 0
  private deferLen = -1
  /** Victims to ask for next: doubles while runs use them all (up to VICTIMS), so a short run costs Rust a short walk. */
  private want = 4
  /** Entries with a deadline: while 0, a hit skips reading its deadline. */
  private expiring = 0
  /** Hits and misses served here, not yet added to Rust's counters. */
  private hits = 0
  private misses = 0
  private readonly counterBuffer = new Float64Array(6)
  private readonly area: Area

  constructor(options: EngineOptions) {
    if ((options.policy ?? 'lru') !== 'lru') {
      // Keyless sets need LRU: the other policies need each key's hash in Rust.
      throw new CacheOptionError(`NativeEngine supports policy 'lru' only, got policy: ${JSON.stringify(options.policy)} (use NativeCallEngine)`)
    }
    this.binding = loadBinding()
    this.capacity = options.capacity
    this.clock = options.clock
    const slots = Math.min(INITIAL_SLOTS, options.capacity)
    this.deadlines = new Float64Array(slots)
    this.keys = filledArray(slots)
    this.values = filledArray(slots)
    this.handle = this.binding.create(options.capacity, POLICY_CODES.lru, options.policySeed ?? randomPolicySeed())
    finalizer.register(this, { binding: this.binding, handle: this.handle }, this)
    this.area = areaViews(this.binding.hpBuffers(this.handle))
    this.ring = this.area.ring
    this.callF64 = this.area.callF64
    this.callI32 = this.area.callI32
    this.victims = this.area.victims
  }

  get size(): number {
    return this.index.size
  }

  get(key: string): V | undefined {
    const slot = this.index.get(key)
    if (slot === undefined) {
      if (this.handle === 0) this.assertOpen() // closed: the index is empty, so every call lands here
      this.misses++
      return undefined
    }
    if (this.expiring !== 0) {
      const deadline = this.deadlines[slot]
      if (deadline !== 0) {
        const now = this.clock()
        if (now >= deadline) {
          this.removeSlot(slot, now) // Rust counts the expiration
          this.misses++
          return undefined
        }
      }
    }
    this.hits++
    // Record the access; a repeat of the last one would not change the order.
    const n = this.ringLen
    if (n === 0 || this.ring[n - 1] !== slot) {
      this.ring[n] = slot
      this.ringLen = n + 1
      if (n + 1 === RING_SIZE) this.flush() // the ring is full: Rust applies it, nothing is dropped
    }
    return this.values[slot]
  }

  peek(key: string): V | undefined {
    const slot = this.index.get(key)
    if (slot === undefined && this.handle === 0) this.assertOpen()
    return slot === undefined || this.isExpired(slot) ? undefined : this.values[slot]
  }

  has(key: string): boolean {
    const slot = this.index.get(key)
    if (slot === undefined && this.handle === 0) this.assertOpen()
    return slot !== undefined && !this.isExpired(slot)
  }

  set(key: string, value: V, ttlMs: number): void {
    // While no entry has a deadline and this one gets none, Rust never reads `now`: skip the clock.
    const now = ttlMs === 0 && this.expiring === 0 ? 0 : this.clock()
    const known = this.index.get(key)
    // A run of inserts with no TTL and no hits between: no deadline anywhere, so the sweep
    // frees nothing and the victim is the LRU tail, which Rust listed ahead (victims).
    const plain = known === undefined && ttlMs === 0 && this.expiring === 0 && this.ringLen === this.deferLen
    if (plain && this.victimPos < this.victimCount) {
      const slot = this.victims[this.victimPos++]
      const n = this.ringLen
      this.ring[n] = -slot - 2
      this.ringLen = this.deferLen = n + 1
      this.place(slot, key, value, 0)
      if (n + 1 === RING_SIZE) this.flush() // keeps the victims valid
      return
    }
    this.callF64[0] = now
    this.callF64[1] = ttlMs
    this.callI32[0] = this.ringLen
    this.ringLen = 0
    let slot: number
    if (known === undefined) {
      // The second insert of a run asks for the next victims; more each time a run used them all.
      this.callI32[1] = plain ? (this.want = this.victimCount > 0 ? Math.min(VICTIMS, this.want * 2) : 4) : 0
      slot = this.binding.hpInsert(this.handle) // Rust keeps no key: it returns the slot it chose
      this.victimCount = this.callI32[1]
      this.victimPos = 0
      this.deferLen = 0
    } else {
      this.callI32[1] = known
      slot = this.binding.hpUpdate(this.handle)
      this.deferLen = -1
    }
    if (slot < 0) {
      // The sweep freed slots (in ring[0..2]): forget them first, the new key may reuse one.
      slot = -slot - 1
      const a = this.ring[0]
      const b = this.ring[1]
      if (a >= 0) this.forget(a)
      if (b >= 0) this.forget(b)
    }
    this.place(slot, key, value, ttlMs === 0 ? 0 : now + ttlMs)
  }

  delete(key: string): boolean {
    const slot = this.index.get(key)
    if (slot === undefined) {
      if (this.handle === 0) this.assertOpen()
      return false
    }
    return this.removeSlot(slot, this.clock())
  }

  /**
   * get() per key: hits never cross N-API, so a JS loop (~Map.get per key) beats one
   * batch crossing (joining the keys and re-hashing them in Rust cost ~65 ns per key,
   * docs/native-hotpath.md).
   */
  getMany(keys: readonly string[]): (V | undefined)[] {
    if (this.handle === 0) this.assertOpen()
    const n = keys.length
    const out = new Array<V | undefined>(n)
    // get() inlined, with the state in locals (written back before anything that crosses)
    // and the clock read at most once: a batch sees one instant.
    const index = this.index
    const values = this.values
    const ring = this.ring
    let len = this.ringLen
    let hits = 0
    let misses = 0
    let now = -1
    for (let i = 0; i < n; i++) {
      const slot = index.get(keys[i])
      if (slot === undefined) {
        misses++
        out[i] = undefined // assigned, not left a hole: callers map over the result
        continue
      }
      if (this.expiring !== 0) {
        const deadline = this.deadlines[slot]
        if (deadline !== 0) {
          if (now === -1) now = this.clock()
          if (now >= deadline) {
            this.ringLen = len
            this.removeSlot(slot, now) // applies the ring first; Rust counts the expiration
            len = 0
            misses++
            out[i] = undefined
            continue
          }
        }
      }
      hits++
      if (len === 0 || ring[len - 1] !== slot) {
        ring[len++] = slot
        if (len === RING_SIZE) {
          this.ringLen = len
          this.flush()
          len = 0
        }
      }
      out[i] = values[slot]
    }
    this.ringLen = len
    this.hits += hits
    this.misses += misses
    return out
  }

  /**
   * set() per entry: Rust holds no keys here, so a batch crossing would have to replay
   * each set's evictions before deciding the next key's update or insert; a keyless set
   * crosses with numbers only (no string), so the loop is the cheap form.
   */
  setMany(entries: readonly (readonly [string, V, ...unknown[]])[], ttlsMs: ArrayLike<number>): void {
    for (let i = 0; i < entries.length; i++) this.set(entries[i][0], entries[i][1], ttlsMs[i])
  }

  clear(): void {
    if (this.ringLen !== 0) this.flush() // deferred inserts in the ring count sets and evictions
    this.binding.clear(this.handle)
    this.deferLen = -1
    this.expiring = 0
    this.index.clear()
    this.keys.fill(undefined)
    this.values.fill(undefined)
    this.deadlines.fill(0)
  }

  counters(): EngineCounters {
    this.flush()
    const c = this.counterBuffer
    this.binding.counters(this.handle, c)
    return { hits: c[0], misses: c[1], evictions: c[2], expirations: c[3], sets: c[4], size: c[5] }
  }

  /** Keys from most to least recently used, in Rust's order (tests and debugging; O(n)). */
  keysMruToLru(): string[] {
    this.flush()
    // Rust has the order (slots), this side the keys.
    return this.binding.hpOrder(this.handle, 0).map((slot) => this.keys[slot] as string)
  }

  close(): void {
    if (this.handle === 0) return
    finalizer.unregister(this)
    this.binding.close(this.handle)
    this.handle = 0 // never a valid handle: later calls throw instead of touching memory
    this.index.clear()
    this.keys.fill(undefined)
    this.values.fill(undefined)
    this.deadlines.fill(0)
    this.ringLen = 0
    this.deferLen = -1 // no deferred insert after close: the next set must reach Rust and throw
    this.victimCount = 0
  }

  /** Throws the binding's "not open" error (handle 0 is never valid). */
  private assertOpen(): void {
    this.binding.size(this.handle)
  }

  /** Hands Rust the recorded hits and the hit/miss counts kept here. */
  private flush(): void {
    const n = this.ringLen
    this.ringLen = 0
    // Applying only deferred inserts leaves the remaining victims valid; a hit does not.
    this.deferLen = n === this.deferLen ? 0 : -1
    this.binding.hpFlush(this.handle, n, this.hits, this.misses)
    this.hits = 0
    this.misses = 0
  }

  private isExpired(slot: number): boolean {
    const deadline = this.deadlines[slot]
    return deadline !== 0 && this.clock() >= deadline
  }

  /** Removes the entry in `slot` in Rust and here; true if it was live (false: expired). */
  private removeSlot(slot: number, now: number): boolean {
    const n = this.ringLen
    this.ringLen = 0
    this.deferLen = -1
    const live = this.binding.hpRemove(this.handle, slot, now, n) === 1
    this.forget(slot)
    return live
  }

  /** Rust freed `slot`: drop its key from the index and its value. */
  private forget(slot: number): void {
    const key = this.keys[slot]
    if (key === undefined) return
    this.index.delete(key)
    if (this.deadlines[slot] !== 0) {
      this.expiring--
      this.deadlines[slot] = 0 // a free slot has no deadline (place counts on it)
    }
    this.keys[slot] = undefined
    this.values[slot] = undefined
  }

  /** Rust put `key` in `slot` (new, replaced, or reusing an evicted entry's slot). */
  private place(slot: number, key: string, value: V, deadline: number): void {
    if (slot >= this.deadlines.length) this.grow(slot)
    const keys = this.keys
    const deadlines = this.deadlines
    const old = keys[slot]
    if (old !== key) {
      // In place: the evicted entry's slot is the one the new key takes (Rust's LIFO free list).
      if (old !== undefined) this.index.delete(old)
      this.index.set(key, slot)
      keys[slot] = key
    }
    this.values[slot] = value
    const was = deadlines[slot] // 0 for a free slot (forget clears it)
    if (was !== deadline) {
      deadlines[slot] = deadline
      if (was === 0) this.expiring++
      else if (deadline === 0) this.expiring--
    }
  }

  /** Room for `slot`: doubles the slot arrays (up to capacity), keeping keys/values packed. */
  private grow(slot: number): void {
    let n = this.deadlines.length * 2
    while (n <= slot) n *= 2
    n = Math.min(n, this.capacity)
    const grown = new Float64Array(n)
    grown.set(this.deadlines)
    this.deadlines = grown
    for (let i = this.keys.length; i < n; i++) {
      this.keys.push(undefined)
      this.values.push(undefined)
    }
  }
}

/** An array of n undefined elements, packed (not holey: `new Array(n)` would be). */
function filledArray<T>(n: number): (T | undefined)[] {
  const a: (T | undefined)[] = []
  for (let i = 0; i < n; i++) a.push(undefined)
  return a
}

/**
 * The previous design, kept for measurement (bench/quick-native.ts, docs/native-hotpath.md):
 * every operation crosses N-API, Rust owns the index, JS keeps only values by slot. Less
 * JS heap per entry (no Map entry, no key kept), about 2.5x slower per get hit.
 */
export class NativeCallEngine<V> implements Engine<V> {
  readonly kind = 'native' as const
  readonly capacity: number
  private readonly binding: NativeBinding
  private readonly clock: Clock
  private handle: number
  private values: (V | undefined)[] = []
  private readonly counterBuffer = new Float64Array(6)
  private area: Area | undefined

  constructor(options: EngineOptions) {
    this.binding = loadBinding()
    this.capacity = options.capacity
    this.clock = options.clock
    this.handle = this.binding.create(options.capacity, POLICY_CODES[options.policy ?? 'lru'], options.policySeed ?? randomPolicySeed())
    finalizer.register(this, { binding: this.binding, handle: this.handle }, this)
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
    if (slot < -1) this.values[-slot - 2] = undefined
    return false
  }

  getMany(keys: readonly string[]): (V | undefined)[] {
    const out = new Array<V | undefined>(keys.length)
    const buf = (this.area ??= areaViews(this.binding.hpBuffers(this.handle)))
    for (let from = 0; from < keys.length; from += BATCH) {
      const m = Math.min(BATCH, keys.length - from)
      const joined = joinKeys(keys, from, m, buf.ends)
      this.binding.getMany(this.handle, joined, m, this.clock(), 0)
      for (let j = 0; j < m; j++) {
        const slot = buf.out[j]
        out[from + j] = slot >= 0 ? this.values[slot] : undefined
        if (slot < -1) this.values[-slot - 2] = undefined
      }
    }
    return out
  }

  setMany(entries: readonly (readonly [string, V, ...unknown[]])[], ttlsMs: ArrayLike<number>): void {
    for (let i = 0; i < entries.length; i++) this.set(entries[i][0], entries[i][1], ttlsMs[i])
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

  keysMruToLru(): string[] {
    return this.binding.keys(this.handle)
  }

  close(): void {
    if (this.handle === 0) return
    finalizer.unregister(this)
    this.binding.close(this.handle)
    this.handle = 0
    this.values = []
  }
}
