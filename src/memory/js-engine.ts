import { CacheOptionError } from '../errors'
import { SWEEP_PER_SET, type Clock, type Engine, type EngineCounters, type EngineOptions, type RemovalHook, type RemovalReason } from './engine'
import { createPolicy, randomPolicySeed } from './policies/create'
import type { EvictionPolicy } from './policies/policy'

const NONE = -1
const INITIAL_SLOTS = 16

/** Most entries the JS engine holds: V8's Map holds at most 2^24 entries. */
export const JS_ENGINE_MAX_ENTRIES = 2 ** 24

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
  private readonly onRemove: RemovalHook<V> | undefined
  /** Removals of the running operation (key, value, reason, ...), reported when it ends. */
  private readonly removed: unknown[] = []

  constructor(options: EngineOptions<V>) {
    if (options.capacity > JS_ENGINE_MAX_ENTRIES) {
      throw new CacheOptionError(
        `maxsize ${options.capacity} is more than the JS engine holds (${JS_ENGINE_MAX_ENTRIES}: V8's Map limit); use the native engine, whose serialized storage holds up to 2^30 entries`,
      )
    }
    this.capacity = options.capacity
    this.clock = options.clock
    this.onRemove = options.onRemove
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
      this.remove(slot, 'expire')
      this.expirations++
      this.misses++
      if (this.policy !== null) this.policy.miss(key)
      if (this.onRemove !== undefined) this.report()
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
    this.store(key, value, ttlMs)
    if (this.onRemove !== undefined) this.report()
  }

  private store(key: string, value: V, ttlMs: number): void {
    this.sets++
    if (this.highWater > 0) this.sweep()
    const deadline = ttlMs === 0 ? 0 : this.clock() + ttlMs
    const existing = this.index.get(key)
    if (existing !== undefined) {
      if (this.onRemove !== undefined) this.removed.push(key, this.values[existing], 'set')
      // An equal string already held stays (see "Equal strings" in engine.ts): no young copy to promote.
      if (typeof value !== 'string' || this.values[existing] !== value) this.values[existing] = value
      this.deadlines[existing] = deadline
      if (this.policy !== null) this.policy.touch(existing)
      else if (existing !== this.head) this.moveToHead(existing)
      return
    }
    if (this.policy !== null) return this.insertByPolicy(this.policy, key, value, deadline)
    if (this.index.size === this.capacity) this.evict(this.tail)
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
    if (victim !== NONE) this.evict(victim)
    const slot = this.allocate()
    this.index.set(key, slot)
    this.keys[slot] = key
    this.values[slot] = value
    this.deadlines[slot] = deadline
    policy.linkNew(slot)
  }

  /** Removes a victim to make room: an eviction, or an expiration if it had expired. */
  private evict(victim: number): void {
    if (this.isExpired(victim)) {
      this.expirations++
      this.remove(victim, 'expire')
    } else {
      this.evictions++
      this.remove(victim, 'evict')
    }
  }

  delete(key: string): boolean {
    const slot = this.index.get(key)
    if (slot === undefined) return false
    const expired = this.isExpired(slot)
    this.remove(slot, expired ? 'expire' : 'delete')
    if (expired) this.expirations++
    if (this.onRemove !== undefined) this.report()
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
    if (this.onRemove !== undefined) {
      for (const slot of this.order()) this.removed.push(this.keys[slot], this.values[slot], 'clear')
    }
    this.reset()
    if (this.onRemove !== undefined) this.report()
  }

  private reset(): void {
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

  /** Releases the entries without reporting them (closing is not removing). */
  close(): void {
    this.reset()
  }

  /** Keys from most to least recently used, in the policy's order (tests and debugging; O(n)). */
  keysMruToLru(): string[] {
    return this.order().map((s) => this.keys[s] as string)
  }

  private order(): number[] {
    if (this.policy !== null) return this.policy.order()
    const out: number[] = []
    for (let s = this.head; s !== NONE; s = this.next[s]) out.push(s)
    return out
  }

  /** Hands the operation's removals to the hook, in order (after the operation: the hook may use the engine). */
  private report(): void {
    const r = this.removed
    if (r.length === 0) return
    const batch = r.splice(0, r.length)
    for (let i = 0; i < batch.length; i += 3) this.onRemove!(batch[i] as string, batch[i + 1] as V, batch[i + 2] as RemovalReason)
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
        this.remove(slot, 'expire')
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

  private remove(slot: number, reason: RemovalReason): void {
    const key = this.keys[slot] as string
    if (this.onRemove !== undefined) this.removed.push(key, this.values[slot], reason)
    this.index.delete(key)
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
