import { Access, WindowClimber } from './climber'
import { keyHash } from './hash'
import type { EvictionPolicy } from './policy'
import { NONE, Queue, type Links } from './queue'
import { Sketch, WIDE } from './sketch'

const WINDOW = 0
const PROBATION = 1
const PROTECTED = 2
const JITTER_THRESHOLD = 6
const MAX_MOVES = 2

/**
 * W-TinyLFU with an adaptive window (climber.ts); the pure-TS twin of
 * crates/core/src/policy/tinylfu.rs (see there for the rules), decision for decision.
 */
export class TinyLfuPolicy implements EvictionPolicy {
  private window: Queue
  private probation: Queue
  private protected: Queue
  windowMax: number
  private protectedMax: number
  private sketch: Sketch
  private queue = new Uint8Array(16)
  private hashes = new Uint32Array(16)
  private lastMiss = 0
  private hasLastMiss = false
  private rng: number
  private pendingHash = 0
  /** The adaptive window (null: the fixed 1 % window of the reference). */
  climber: WindowClimber | null
  /** The victim prepare() returned, until the engine unlinks it (any other unlink is a delete or an expiry). */
  private evicting = NONE

  constructor(
    private readonly capacity: number,
    private readonly seed: number,
    private links: Links,
    private readonly adaptive: boolean,
  ) {
    this.window = new Queue(links)
    this.probation = new Queue(links)
    this.protected = new Queue(links)
    this.windowMax = capacity - Math.floor(capacity * 0.99)
    this.protectedMax = this.protectedTarget()
    this.sketch = new Sketch(capacity, adaptive ? WIDE : 1)
    this.rng = (seed ^ 0x9e3779b9) | 0
    this.climber = adaptive ? new WindowClimber(capacity) : null
  }

  relink(links: Links): void {
    this.links = links
    const rebuild = (q: Queue) => Object.assign(new Queue(links), { head: q.head, tail: q.tail, len: q.len })
    this.window = rebuild(this.window)
    this.probation = rebuild(this.probation)
    this.protected = rebuild(this.protected)
  }

  private protectedTarget(): number {
    return Math.floor((this.capacity - this.windowMax) * 0.8)
  }

  miss(key: string): void {
    const h = keyHash(key, this.seed)
    this.sketch.increment(h)
    this.lastMiss = h
    this.hasLastMiss = true
    if (this.climber !== null) this.climb(h, Access.Miss)
  }

  touch(slot: number): void {
    const hash = this.hashes[slot]
    this.sketch.increment(hash)
    const q = this.queue[slot]
    if (q === WINDOW) this.window.moveToHead(slot)
    else if (q === PROBATION) {
      this.probation.unlink(slot)
      this.queue[slot] = PROTECTED
      this.protected.pushHead(slot)
      this.demote()
    } else this.protected.moveToHead(slot)
    if (this.climber !== null) this.climb(hash, q === WINDOW ? Access.WindowHit : Access.MainHit)
  }

  place(key: string): void {
    const h = keyHash(key, this.seed)
    if (!this.hasLastMiss || this.lastMiss !== h) {
      this.sketch.increment(h)
      if (this.climber !== null) this.climb(h, Access.Insert)
    }
    this.hasLastMiss = false
    this.pendingHash = h
  }

  prepare(full: boolean): number {
    this.demote()
    let candidate = NONE
    let moves = 0
    while (this.window.len > 0 && this.window.len >= this.windowMax && moves < MAX_MOVES) {
      const t = this.window.tail
      this.window.unlink(t)
      this.queue[t] = PROBATION
      this.probation.pushHead(t)
      if (candidate === NONE) candidate = t
      moves++
    }
    if (!full) return NONE
    let victim: number
    if (candidate !== NONE) {
      const v = this.probation.tail
      victim = v === candidate || this.admit(candidate, v) ? v : candidate
    } else if (this.probation.len > 0) victim = this.probation.tail
    else if (this.protected.len > 0) victim = this.protected.tail
    else victim = this.window.tail
    if (this.climber !== null) {
      this.climber.start()
      this.evicting = victim
    }
    return victim
  }

  private admit(candidate: number, victim: number): boolean {
    const cf = this.sketch.frequency(this.hashes[candidate])
    const vf = this.sketch.frequency(this.hashes[victim])
    if (cf > vf) return true
    if (cf < JITTER_THRESHOLD) return false
    let x = this.rng
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.rng = x
    return (x & 127) === 0
  }

  private demote(): void {
    let moves = 0
    while (this.protected.len > this.protectedMax && moves < MAX_MOVES) {
      const t = this.protected.tail
      this.protected.unlink(t)
      this.queue[t] = PROBATION
      this.probation.pushHead(t)
      moves++
    }
  }

  linkNew(slot: number): void {
    if (slot >= this.queue.length) this.grow(slot)
    this.hashes[slot] = this.pendingHash
    this.queue[slot] = WINDOW
    this.window.pushHead(slot)
  }

  unlink(slot: number): void {
    if (this.climber !== null) {
      if (this.evicting === slot) this.evicting = NONE
      else this.climber.forget(this.hashes[slot])
    }
    const q = this.queue[slot]
    if (q === WINDOW) this.window.unlink(slot)
    else if (q === PROBATION) this.probation.unlink(slot)
    else this.protected.unlink(slot)
  }

  order(): number[] {
    return this.protected.slots(this.probation.slots(this.window.slots()))
  }

  clear(): void {
    this.window.clear()
    this.probation.clear()
    this.protected.clear()
    this.windowMax = this.capacity - Math.floor(this.capacity * 0.99)
    this.protectedMax = this.protectedTarget()
    this.sketch = new Sketch(this.capacity, this.adaptive ? WIDE : 1)
    this.hasLastMiss = false
    this.lastMiss = 0
    this.rng = (this.seed ^ 0x9e3779b9) | 0
    const onSample = this.climber?.onSample
    this.climber = this.adaptive ? new WindowClimber(this.capacity) : null
    if (this.climber !== null) this.climber.onSample = onSample
    this.evicting = NONE
  }

  private climb(hash: number, access: Access): void {
    const window = (this.climber as WindowClimber).record(hash, access, this.capacity, this.windowMax)
    if (window >= 0) {
      this.windowMax = window
      this.protectedMax = this.protectedTarget()
    }
  }

  private grow(slot: number): void {
    let n = this.queue.length * 2
    while (n <= slot) n *= 2
    const queue = new Uint8Array(n)
    queue.set(this.queue)
    this.queue = queue
    const hashes = new Uint32Array(n)
    hashes.set(this.hashes)
    this.hashes = hashes
  }
}
