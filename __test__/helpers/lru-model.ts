import { SWEEP_PER_SET, type EngineCounters, type RemovalReason } from '../../src/memory/engine'

interface Entry {
  key: string
  value: unknown
  deadline: number
}

/**
 * A deliberately naive model of the engine semantics in src/memory/engine.ts: arrays and
 * linear scans, no cleverness, so it is easy to check by reading. The property tests
 * compare both engines against it op for op, removals included (`removed`: every entry
 * removed so far, as [key, value, reason], in order).
 */
export class LruModel {
  /** Slot -> entry; undefined = free. */
  private slots: (Entry | undefined)[] = []
  /** Slots from most to least recently used. */
  private order: number[] = []
  private freeStack: number[] = []
  private cursor = 0
  readonly counters: EngineCounters = { hits: 0, misses: 0, evictions: 0, expirations: 0, sets: 0, size: 0 }
  readonly removed: [string, unknown, RemovalReason][] = []

  constructor(private readonly capacity: number, private readonly now: () => number) {}

  private find(key: string): number {
    return this.slots.findIndex((e) => e !== undefined && e.key === key)
  }
  private expired(slot: number): boolean {
    const d = this.slots[slot]!.deadline
    return d !== 0 && this.now() >= d
  }
  private remove(slot: number, reason: RemovalReason): void {
    const e = this.slots[slot]!
    this.removed.push([e.key, e.value, reason])
    this.slots[slot] = undefined
    this.order = this.order.filter((s) => s !== slot)
    this.freeStack.push(slot)
    this.counters.size--
  }
  private touch(slot: number): void {
    this.order = [slot, ...this.order.filter((s) => s !== slot)]
  }

  get(key: string): unknown {
    const slot = this.find(key)
    if (slot < 0) {
      this.counters.misses++
      return undefined
    }
    if (this.expired(slot)) {
      this.remove(slot, 'expire')
      this.counters.expirations++
      this.counters.misses++
      return undefined
    }
    this.counters.hits++
    this.touch(slot)
    return this.slots[slot]!.value
  }

  peek(key: string): unknown {
    const slot = this.find(key)
    return slot < 0 || this.expired(slot) ? undefined : this.slots[slot]!.value
  }

  has(key: string): boolean {
    const slot = this.find(key)
    return slot >= 0 && !this.expired(slot)
  }

  set(key: string, value: unknown, ttlMs: number): void {
    this.counters.sets++
    for (let i = 0; i < SWEEP_PER_SET && this.slots.length > 0; i++) {
      if (this.cursor >= this.slots.length) this.cursor = 0
      const slot = this.cursor++
      if (this.slots[slot] !== undefined && this.expired(slot)) {
        this.remove(slot, 'expire')
        this.counters.expirations++
      }
    }
    const deadline = ttlMs === 0 ? 0 : this.now() + ttlMs
    const existing = this.find(key)
    if (existing >= 0) {
      this.removed.push([key, this.slots[existing]!.value, 'set'])
      this.slots[existing] = { key, value, deadline }
      this.touch(existing)
      return
    }
    if (this.counters.size === this.capacity) {
      const victim = this.order[this.order.length - 1]
      const expired = this.expired(victim)
      if (expired) this.counters.expirations++
      else this.counters.evictions++
      this.remove(victim, expired ? 'expire' : 'evict')
    }
    const slot = this.freeStack.length > 0 ? this.freeStack.pop()! : this.slots.length
    this.slots[slot] = { key, value, deadline }
    this.counters.size++
    this.touch(slot)
  }

  delete(key: string): boolean {
    const slot = this.find(key)
    if (slot < 0) return false
    const expired = this.expired(slot)
    this.remove(slot, expired ? 'expire' : 'delete')
    if (expired) this.counters.expirations++
    return !expired
  }

  clear(): void {
    for (const s of this.order) this.removed.push([this.slots[s]!.key, this.slots[s]!.value, 'clear'])
    this.slots = []
    this.order = []
    this.freeStack = []
    this.cursor = 0
    this.counters.size = 0
  }

  /** The value stored for `key`, expired or not (no counting). */
  peekAny(key: string): unknown {
    const slot = this.find(key)
    return slot < 0 ? undefined : this.slots[slot]!.value
  }

  keysMruToLru(): string[] {
    return this.order.map((s) => this.slots[s]!.key)
  }
}
