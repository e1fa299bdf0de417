import { SWEEP_PER_SET, type Clock, type Engine, type EngineCounters, type EngineOptions } from './engine'
import { createPolicy, randomPolicySeed } from './policies/create'
import type { EvictionPolicy } from './policies/policy'

const NONE = -1
const INITIAL_SLOTS = 16

/**
 * The pure-TS engine: an intrusive doubly linked LRU list over typed arrays, indexed by
 * slot, with a Map from key to slot. Same semantics as crates/core (see engine.ts).
 * The arrays grow by doubling up to `capacity`, so a large maxsize costs nothing up front.
 */
export class JsEngine<V> implements Engine<V> {
  readonly kind = 'js' as const
  readonly capacity: number
  private readonly clock: Clock
  private readonly index = new Map<string, number>()
  private keys: (string | undefined)[] = []
  private values: (V | undefined)[] = []
  private prev: Int32Array
  private next: Int32Array
  /** Expiry deadline in clock milliseconds; 0 = never expires. */
  private deadlines: Float64Array
  private free: Int32Array
  private freeTop = 0
  private highWater = 0
  private sweepCursor = 0
  private head = NONE // most recently used
  private tail = NONE // least recently used
  private hits = 0
  private misses = 0
  private evictions = 0
  private expirations = 0
  private sets = 0
  /** null for LRU (the list above); S3-FIFO / W-TinyLFU keep their queues through the same links. */
  private readonly policy: EvictionPolicy | null

  constructor(options: EngineOptions) {
    this.capacity = options.capacity
    this.clock = options.clock
    const n = Math.min(INITIAL_SLOTS, this.capacity)
    this.prev = new Int32Array(n)
    this.next = new Int32Array(n)
    this.deadlines = new Float64Array(n)
    this.free = new Int32Array(n)
    this.policy = createPolicy(options.policy ?? 'lru', this.capacity, options.policySeed ?? randomPolicySeed(), {
      prev: this.prev,
      next: this.next,
    })
  }

  get size(): number {
    return this.index.size
  }

  get(key: string): V | undefined {
    const slot = this.index.get(key)
    if (slot === undefined) {
      this.misses++
      if (this.policy !== null) this.policy.miss(key)
      return undefined
    }
    const deadline = this.deadlines[slot]
    if (deadline !== 0 && this.clock() >= deadline) {
      this.remove(slot)
      this.expirations++
      this.misses++
      if (this.policy !== null) this.policy.miss(key)
      return undefined
    }
    this.hits++
    if (this.policy !== null) this.policy.touch(slot)
    else if (slot !== this.head) this.moveToHead(slot)
    return this.values[slot]
  }

  peek(key: string): V | undefined {
    const slot = this.index.get(key)
    if (slot === undefined || this.isExpired(slot)) return undefined
    return this.values[slot]
  }

  has(key: string): boolean {
    const slot = this.index.get(key)
    return slot !== undefined && !this.isExpired(slot)
  }

  set(key: string, value: V, ttlMs: number): void {
    this.sets++
    if (this.highWater > 0) this.sweep()
    const deadline = ttlMs === 0 ? 0 : this.clock() + ttlMs
    const existing = this.index.get(key)
    if (existing !== undefined) {
      this.values[existing] = value
      this.deadlines[existing] = deadline
      if (this.policy !== null) this.policy.touch(existing)
      else if (existing !== this.head) this.moveToHead(existing)
      return
    }
    if (this.policy !== null) return this.insertByPolicy(this.policy, key, value, deadline)
    if (this.index.size === this.capacity) {
      const victim = this.tail
      if (this.isExpired(victim)) this.expirations++
      else this.evictions++
      this.remove(victim)
    }
    const slot = this.allocate()
    this.index.set(key, slot)
    this.keys[slot] = key
    this.values[slot] = value
    this.deadlines[slot] = deadline
    this.linkAtHead(slot)
  }

  /** A new key under S3-FIFO / W-TinyLFU: same steps, same order as crates/core insert_by_policy. */
  private insertByPolicy(policy: EvictionPolicy, key: string, value: V, deadline: number): void {
    policy.place(key)
    const victim = policy.prepare(this.index.size === this.capacity)
    if (victim !== NONE) {
      if (this.isExpired(victim)) this.expirations++
      else this.evictions++
      this.remove(victim)
    }
    const slot = this.allocate()
    this.index.set(key, slot)
    this.keys[slot] = key
    this.values[slot] = value
    this.deadlines[slot] = deadline
    policy.linkNew(slot)
  }

  delete(key: string): boolean {
    const slot = this.index.get(key)
    if (slot === undefined) return false
    const expired = this.isExpired(slot)
    this.remove(slot)
    if (expired) this.expirations++
    return !expired
  }

  getMany(keys: readonly string[]): (V | undefined)[] {
    const out = new Array<V | undefined>(keys.length)
    for (let i = 0; i < keys.length; i++) out[i] = this.get(keys[i])
    return out
  }

  setMany(entries: readonly (readonly [string, V, ...unknown[]])[], ttlsMs: ArrayLike<number>): void {
    for (let i = 0; i < entries.length; i++) this.set(entries[i][0], entries[i][1], ttlsMs[i])
  }

  clear(): void {
    this.index.clear()
    this.keys = []
    this.values = []
    this.freeTop = 0
    this.highWater = 0
    this.sweepCursor = 0
    this.head = NONE
    this.tail = NONE
    this.policy?.clear()
  }

  counters(): EngineCounters {
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      expirations: this.expirations,
      sets: this.sets,
      size: this.index.size,
    }
  }

  close(): void {
    this.clear()
  }

  /** Keys from most to least recently used (for tests and debugging; O(n)). */
  keysMruToLru(): string[] {
    if (this.policy !== null) return this.policy.order().map((s) => this.keys[s] as string)
    const out: string[] = []
    for (let s = this.head; s !== NONE; s = this.next[s]) out.push(this.keys[s] as string)
    return out
  }

  private isExpired(slot: number): boolean {
    const deadline = this.deadlines[slot]
    return deadline !== 0 && this.clock() >= deadline
  }

  /** Bounded reclamation: look at SWEEP_PER_SET slots, round robin over the used ones. */
  private sweep(): void {
    for (let i = 0; i < SWEEP_PER_SET; i++) {
      if (this.sweepCursor >= this.highWater) this.sweepCursor = 0
      const slot = this.sweepCursor++
      if (this.keys[slot] !== undefined && this.isExpired(slot)) {
        this.remove(slot)
        this.expirations++
      }
    }
  }

  private allocate(): number {
    if (this.freeTop > 0) return this.free[--this.freeTop]
    const slot = this.highWater++
    if (slot >= this.prev.length) this.grow()
    return slot
  }

  private grow(): void {
    const n = Math.min(this.prev.length * 2, this.capacity)
    const grown = (a: Int32Array) => {
      const b = new Int32Array(n)
      b.set(a)
      return b
    }
    this.prev = grown(this.prev)
    this.next = grown(this.next)
    this.free = grown(this.free)
    const d = new Float64Array(n)
    d.set(this.deadlines)
    this.deadlines = d
    this.policy?.relink({ prev: this.prev, next: this.next })
  }

  private remove(slot: number): void {
    this.index.delete(this.keys[slot] as string)
    this.keys[slot] = undefined
    this.values[slot] = undefined
    if (this.policy !== null) this.policy.unlink(slot)
    else this.unlink(slot)
    this.free[this.freeTop++] = slot
  }

  private unlink(slot: number): void {
    const p = this.prev[slot]
    const n = this.next[slot]
    if (p === NONE) this.head = n
    else this.next[p] = n
    if (n === NONE) this.tail = p
    else this.prev[n] = p
  }

  private linkAtHead(slot: number): void {
    this.prev[slot] = NONE
    this.next[slot] = this.head
    if (this.head !== NONE) this.prev[this.head] = slot
    this.head = slot
    if (this.tail === NONE) this.tail = slot
  }

  private moveToHead(slot: number): void {
    this.unlink(slot)
    this.linkAtHead(slot)
  }
}
