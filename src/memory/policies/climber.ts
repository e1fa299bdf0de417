import { Ghost } from './ghost'

// The twin of crates/core/src/policy/tinylfu/climber.rs (see there for the rules and why),
// decision for decision.
const DENSITY_GAIN = 0.03
const MAX_STEP = 0.3
const WINDOW_FLOOR = 0.01
const SAMPLE_MULTIPLIER = 4
const MIN_SAMPLE = 2048
const LOOKS_PER_SAMPLE = 4
const MOMENTUM_LIMIT = 16
const SHADOW_ENTRIES = 512
const SHADOW_SHARE = 8
const MIN_SHADOW = 8

/**
 * What an access was, for the climber: a hit in the window or the main space, a get that
 * missed, or a set of a new key that no get missed just before (not a request of the sample).
 */
export const Access = { WindowHit: 0, MainHit: 1, Miss: 2, Insert: 3 } as const
export type Access = (typeof Access)[keyof typeof Access]

/** One closed sample, for debugging the climber (bench --climber). */
export interface ClimberSample {
  windowBefore: number
  windowAfter: number
  windowHits: number
  mainHits: number
  requests: number
  /** The miniature LRU beat this cache on the sampled keys: the window took the largest step. */
  lruAhead: boolean
}

/** W-TinyLFU's adaptive window: density steering, momentum and a sampled-LRU guard. */
export class WindowClimber {
  private started = false
  private readonly sampleSize: number
  private requests = 0
  /** The request count of the guard's next look within the sample. */
  private nextLook: number
  private hits = 0
  private windowHits = 0
  /** -1 before the first step, else 1 (rising) or 0. */
  private rising = -1
  private run = 0
  private readonly guard: LruGuard | null
  /** Called after every sample (debugging only; unset on the hot path). */
  onSample?: (s: ClimberSample) => void

  constructor(capacity: number) {
    this.sampleSize = Math.min(Math.max(capacity * SAMPLE_MULTIPLIER, MIN_SAMPLE), 0xffffffff)
    this.nextLook = Math.floor(this.sampleSize / LOOKS_PER_SAMPLE)
    const entries = Math.min(Math.floor(capacity / SHADOW_SHARE), SHADOW_ENTRIES)
    this.guard = entries >= MIN_SHADOW ? new LruGuard(capacity, entries) : null
  }

  start(): void {
    this.started = true
  }

  /** An access to the key with policy hash `hash`; after a sample's last request, the new window. */
  record(hash: number, access: Access, capacity: number, window: number): number {
    if (this.guard !== null) this.guard.observe(hash, access, this.started)
    if (!this.started || access === Access.Insert) return -1
    this.requests++
    if (access === Access.WindowHit) {
      this.hits++
      this.windowHits++
    } else if (access === Access.MainHit) this.hits++
    if (this.requests < this.sampleSize && (this.requests < this.nextLook || !this.look())) return -1
    return this.adjust(capacity, window)
  }

  /** The guard's look within a sample: whether LRU already leads beyond doubt. */
  private look(): boolean {
    this.nextLook += Math.floor(this.sampleSize / LOOKS_PER_SAMPLE)
    return this.guard !== null && this.guard.lruAheadBy(3)
  }

  forget(hash: number): void {
    if (this.guard !== null) this.guard.forget(hash)
  }

  private adjust(capacity: number, window: number): number {
    const windowDensity = (this.windowHits + 1) / window
    const mainDensity = (this.hits - this.windowHits + 1) / Math.max(capacity - window, 1)
    const error = ln(windowDensity / mainDensity)
    const rising = error >= 0 ? 1 : 0
    this.run = this.rising === rising ? Math.min(this.run + 1, MOMENTUM_LIMIT) : 0
    this.rising = rising
    const boost = 1 << this.run
    const magnitude = Math.min(MAX_STEP * capacity, Math.abs(error) * DENSITY_GAIN * capacity * boost)
    let step = stepEntries(rising ? magnitude : -magnitude)
    const lruAhead = this.guard !== null && this.guard.lruAheadBy(2)
    if (lruAhead) step = Math.max(step, stepEntries(MAX_STEP * capacity))
    if (this.guard !== null) this.guard.restart()
    const largest = capacity > 1 ? capacity - 1 : 1
    const floor = Math.min(Math.max(WINDOW_FLOOR * capacity, 1), largest)
    const next = Math.trunc(Math.min(Math.max(window + step, floor), largest))
    if (this.onSample !== undefined) {
      this.onSample({ windowBefore: window, windowAfter: next, windowHits: this.windowHits, mainHits: this.hits - this.windowHits, requests: this.requests, lruAhead })
    }
    this.requests = 0
    this.nextLook = Math.floor(this.sampleSize / LOOKS_PER_SAMPLE)
    this.hits = 0
    this.windowHits = 0
    return next
  }
}

/** The miniature LRU over hash-sampled keys and the disagreements counted against it. */
class LruGuard {
  private readonly shadow: Ghost
  private readonly threshold: number
  private sampled = 0
  private lruOnly = 0
  private oursOnly = 0

  constructor(capacity: number, entries: number) {
    this.shadow = new Ghost(entries)
    // floor(entries · 2^32 / capacity): exact here (the quotient is never within an ulp of an integer).
    this.threshold = Math.floor((entries * 4294967296) / capacity)
  }

  observe(hash: number, access: Access, counting: boolean): void {
    if (hash >= this.threshold) return
    const lruHit = this.shadow.access(hash)
    if (!counting || access === Access.Insert) return
    this.sampled++
    const oursHit = access !== Access.Miss
    if (lruHit && !oursHit) this.lruOnly++
    else if (oursHit && !lruHit) this.oursOnly++
  }

  forget(hash: number): void {
    if (hash < this.threshold) this.shadow.take(hash)
  }

  lruAheadBy(z: number): boolean {
    const lead = this.lruOnly - this.oursOnly
    return lead > 0 && lead * 100 > this.sampled && lead * lead > z * z * (this.lruOnly + this.oursOnly)
  }

  restart(): void {
    this.sampled = 0
    this.lruOnly = 0
    this.oursOnly = 0
  }
}

/** climber.rs `ln`: the natural logarithm from + − × ÷ only, bit-identical in both engines. */
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

/** Whole entries, at least one in the step's direction (climber.rs `step_entries`). */
function stepEntries(amount: number): number {
  const t = Math.trunc(amount)
  return t === 0 && amount !== 0 ? Math.sign(amount) : t
}
