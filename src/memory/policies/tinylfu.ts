import { keyHash } from './hash'
import type { EvictionPolicy } from './policy'
import { NONE, Queue, type Links } from './queue'
import { Sketch } from './sketch'

const WINDOW = 0
const PROBATION = 1
const PROTECTED = 2
const JITTER_THRESHOLD = 6
const MAX_MOVES = 2
// Caffeine's density climber constants; see tinylfu.rs.
const DENSITY_GAIN = 0.03
const MAX_STEP = 0.3
const WINDOW_FLOOR = 0.02
const SAMPLE_MULTIPLIER = 4
const MIN_SAMPLE = 2048

/**
 * W-TinyLFU with Caffeine's adaptive window; the pure-TS twin of
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
  // density climber
  private started = false
  private hits = 0
  private windowHits = 0
  private misses = 0
  private readonly sampleSize: number

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
    this.sketch = new Sketch(capacity)
    this.rng = (seed ^ 0x9e3779b9) | 0
    this.sampleSize = Math.min(Math.max(capacity * SAMPLE_MULTIPLIER, MIN_SAMPLE), 0xffffffff)
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
    if (this.adaptive) this.sample(-1)
  }

  touch(slot: number): void {
    this.sketch.increment(this.hashes[slot])
    const q = this.queue[slot]
    if (q === WINDOW) this.window.moveToHead(slot)
    else if (q === PROBATION) {
      this.probation.unlink(slot)
      this.queue[slot] = PROTECTED
      this.protected.pushHead(slot)
      this.demote()
    } else this.protected.moveToHead(slot)
    if (this.adaptive) this.sample(q)
  }

  place(key: string): void {
    const h = keyHash(key, this.seed)
    if (!this.hasLastMiss || this.lastMiss !== h) this.sketch.increment(h)
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
    this.started = true
    if (candidate !== NONE) {
      const v = this.probation.tail
      return v === candidate || this.admit(candidate, v) ? v : candidate
    }
    if (this.probation.len > 0) return this.probation.tail
    if (this.protected.len > 0) return this.protected.tail
    return this.window.tail
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
    this.sketch = new Sketch(this.capacity)
    this.hasLastMiss = false
    this.lastMiss = 0
    this.rng = (this.seed ^ 0x9e3779b9) | 0
    this.started = false
    this.hits = 0
    this.windowHits = 0
    this.misses = 0
  }

  /** Caffeine's density climber; see tinylfu.rs `sample`. `region` is the hit's queue, -1 a miss. */
  private sample(region: number): void {
    if (!this.started) return
    if (region < 0) this.misses++
    else {
      this.hits++
      if (region === WINDOW) this.windowHits++
    }
    if (this.hits + this.misses < this.sampleSize) return
    const capacity = this.capacity
    const window = this.windowMax
    const windowDensity = (this.windowHits + 1) / window
    const mainDensity = (this.hits - this.windowHits + 1) / Math.max(capacity - window, 1)
    const error = ln(windowDensity / mainDensity)
    const magnitude = Math.min(MAX_STEP * capacity, Math.abs(error) * DENSITY_GAIN * capacity)
    const amount = error >= 0 ? magnitude : -magnitude
    this.hits = 0
    this.windowHits = 0
    this.misses = 0
    const largest = capacity > 1 ? capacity - 1 : 1
    const floor = Math.min(Math.max(WINDOW_FLOOR * capacity, 1), largest)
    // Whole entries, at least one in the step's direction (see tinylfu.rs step_entries).
    let move = Math.trunc(amount)
    if (move === 0 && amount !== 0) move = Math.sign(amount)
    this.windowMax = Math.trunc(Math.min(Math.max(window + move, floor), largest))
    this.protectedMax = this.protectedTarget()
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

/** tinylfu.rs `ln`: the natural logarithm from + − × ÷ only, bit-identical in both engines. */
function ln(x: number): number {
  if (!(x > 0 && Number.isFinite(x))) return 0
  let m = x
  let e = 0
  while (m >= 2) {
    m /= 2
    e += 1
  }
  while (m < 1) {
    m *= 2
    e -= 1
  }
  const z = (m - 1) / (m + 1)
  const z2 = z * z
  let term = z
  let sum = 0
  for (let k = 0; k < 16; k++) {
    sum += term / (2 * k + 1)
    term *= z2
  }
  return 2 * sum + e * Math.LN2
}
