export type BreakerState = 'closed' | 'open' | 'half-open'

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number
  /** How long the breaker stays open before the first probe, in ms. */
  openMs: number
  /** Upper bound of the probe delay, which doubles after each failed probe. */
  maxOpenMs: number
}

/**
 * Closed: calls go to Redis; `failureThreshold` consecutive failures open it.
 * Open: calls skip Redis; after `openMs` the owner probes (half-open). A good probe closes
 * it, a bad one reopens it with a doubled delay (capped at `maxOpenMs`).
 * The breaker only keeps state; the cache decides what a probe is and when to run it.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed'
  private failures = 0
  private delayMs: number
  /** Times the breaker opened, for health(). */
  opened = 0

  constructor(private readonly options: BreakerOptions) {
    this.delayMs = options.openMs
  }

  get state(): BreakerState {
    return this.current
  }

  /** True when calls may go to Redis. */
  get allowsCalls(): boolean {
    return this.current === 'closed'
  }

  get consecutiveFailures(): number {
    return this.failures
  }

  /** The delay before the next probe, in ms. */
  get probeDelayMs(): number {
    return this.delayMs
  }

  recordSuccess(): void {
    if (this.current === 'closed') this.failures = 0
  }

  /** Returns true when this failure opened the breaker. */
  recordFailure(): boolean {
    if (this.current !== 'closed') return false
    this.failures++
    if (this.failures < this.options.failureThreshold) return false
    this.open()
    return true
  }

  /** Opens at once (e.g. the connection is known to be down). */
  open(): void {
    this.current = 'open'
    this.opened++
    this.delayMs = this.options.openMs
  }

  startProbe(): void {
    this.current = 'half-open'
  }

  probeSucceeded(): void {
    this.current = 'closed'
    this.failures = 0
    this.delayMs = this.options.openMs
  }

  probeFailed(): void {
    this.current = 'open'
    this.delayMs = Math.min(this.delayMs * 2, this.options.maxOpenMs)
  }
}
