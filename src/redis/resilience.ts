/**
 * What keeps a RedisCache answering while Redis does not: the circuit breaker (stop calling a
 * Redis that keeps failing, probe it with PING, follow the connection's events), the queue of
 * invalidations that could not reach Redis and their replay once it is back (before anything is
 * read from Redis again), and the fallback cleared on recovery. Failures are counted and
 * emitted through the cache; with failOpen false they reject the call.
 */
import { CacheUnavailableError } from '../errors'
import type { StoreOwner } from '../facade/store'
import { CircuitBreaker } from './circuit-breaker'
import type { RedisCommands } from './commands'
import type { RedisConnection } from './connection'
import type { RedisFallback } from './fallback'
import { InvalidationQueue } from './invalidation-queue'
import type { ResolvedRedisCacheOptions } from './options'
import type { Redactor } from './redact'

export class Resilience {
  readonly breaker: CircuitBreaker
  readonly queue: InvalidationQueue
  readonly failOpen: boolean
  private commands!: RedisCommands
  private readonly name: string
  private readonly keyPrefix: string
  private readonly batchSize: number
  private readonly safeUrl: string
  private probeTimer: NodeJS.Timeout | undefined
  private replayTimer: NodeJS.Timeout | undefined
  private probing = false
  private replaying: Promise<void> | undefined
  private closed = false

  constructor(
    o: ResolvedRedisCacheOptions<unknown>,
    private readonly connection: RedisConnection,
    private readonly fallback: RedisFallback<unknown>,
    private readonly redactor: Redactor,
    private readonly owner: () => StoreOwner,
  ) {
    this.name = o.name
    this.keyPrefix = o.keyPrefix
    this.batchSize = o.batchSize
    this.safeUrl = o.safeUrl
    this.failOpen = o.failOpen
    this.breaker = new CircuitBreaker({ failureThreshold: o.breakerThreshold, openMs: o.breakerOpenMs, maxOpenMs: o.breakerMaxOpenMs })
    this.queue = new InvalidationQueue(o.invalidationQueueSize)
  }

  /** Starts following the connection, replaying and probing through `commands`. */
  start(commands: RedisCommands): void {
    this.commands = commands
    this.connection.watch({
      // 'ready' probes at once.
      ready: () => {
        if (this.breaker.state !== 'open') return
        if (this.probeTimer) clearTimeout(this.probeTimer)
        this.probeTimer = undefined
        void this.probe()
      },
      // A lost connection opens the breaker at once.
      lost: () => {
        if (this.closed || this.breaker.state !== 'closed') return
        this.breaker.open()
        this.opened()
      },
      error: (err) => {
        if (this.closed) return
        this.owner().reportError(
          new CacheUnavailableError(`redis connection error for cache "${this.name}" (${this.safeUrl}): ${this.redactor.text(err.message)}`, { cause: this.redactor.error(err) }),
          'connection',
        )
      },
    })
  }

  /** True when `fullKey` may be read from Redis: the breaker is closed and no invalidation of it is pending. */
  serves(fullKey: string): boolean {
    if (!this.breaker.allowsCalls) {
      this.skipped()
      return false
    }
    return this.queue.isEmpty || !this.queue.blocks(fullKey)
  }

  get allowsCalls(): boolean {
    return this.breaker.allowsCalls
  }

  /** Bookkeeping after any successful command (an arrow: passed to then() without a closure per call). */
  readonly succeeded = (): void => {
    this.breaker.recordSuccess()
    if (!this.queue.isEmpty && this.breaker.allowsCalls && this.replaying === undefined) this.replayInBackground()
  }

  /** Records a failed Redis call; with failOpen false (and `mayThrow`), rethrows it as CacheUnavailableError. */
  failed(op: string, err: unknown, mayThrow = true): void {
    const error = new CacheUnavailableError(`redis ${op} failed for cache "${this.name}": ${this.redactor.text(err instanceof Error ? err.message : String(err))}`, {
      cause: this.redactor.error(err),
    })
    if (this.breaker.recordFailure()) this.opened()
    this.owner().reportError(error, op)
    if (!this.failOpen && mayThrow) throw error
  }

  /** A call that did not try Redis because the breaker is open. */
  skipped(mayThrow = true): void {
    if (!this.failOpen && mayThrow) throw new CacheUnavailableError(`redis is unavailable for cache "${this.name}" (circuit breaker ${this.breaker.state})`)
  }

  /** Redis may hold an older value of `fullKey` than we know: remove it there once Redis is back. */
  invalidateLater(fullKey: string): void {
    const dropped = this.queue.add(fullKey)
    if (dropped !== undefined) this.owner().emit('invalidationDropped', this.queue.dropped)
    if (this.breaker.state === 'open') this.scheduleProbe()
    else this.scheduleReplay()
  }

  /** A clear() that could not reach Redis: replayed before Redis serves any read again. */
  clearLater(): void {
    this.queue.addClear()
  }

  close(): void {
    this.closed = true
    if (this.probeTimer) clearTimeout(this.probeTimer)
    if (this.replayTimer) clearTimeout(this.replayTimer)
    this.probeTimer = this.replayTimer = undefined
  }

  private opened(): void {
    this.owner().emit('breaker', this.breaker.state)
    this.scheduleProbe()
  }

  private scheduleProbe(): void {
    if (this.probeTimer !== undefined || this.closed) return
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined
      void this.probe()
    }, this.breaker.probeDelayMs)
    this.probeTimer.unref()
  }

  /** Half-open: PING, then replay every pending invalidation, then close the breaker. */
  private async probe(): Promise<void> {
    if (this.closed || this.probing || this.breaker.state !== 'open') return
    this.probing = true
    this.breaker.startProbe()
    this.owner().emit('breaker', 'half-open')
    try {
      await this.commands.ping()
      await this.replayAll()
      // Entries written to the fallback during the outage were invalidated in Redis by the
      // replay; drop them here too so a later blip cannot serve them.
      if (this.fallback.dirty) await this.fallback.clear()
      this.breaker.probeSucceeded()
      this.owner().emit('breaker', 'closed')
    } catch {
      this.owner().countError('probe')
      this.breaker.probeFailed()
      this.owner().emit('breaker', 'open')
      this.scheduleProbe()
    } finally {
      this.probing = false
    }
  }

  private replayAll(): Promise<void> {
    this.replaying ??= (async () => {
      try {
        while (!this.queue.isEmpty && !this.closed) {
          const clearGeneration = this.queue.pendingClear
          if (clearGeneration !== 0) {
            await this.commands.clearPrefix(this.keyPrefix, this.batchSize)
            this.queue.clearDone(clearGeneration)
            continue
          }
          const batch = this.queue.peek(this.batchSize)
          await this.commands.unlinkMany(batch.keys)
          this.queue.done(batch)
        }
      } finally {
        this.replaying = undefined
      }
    })()
    return this.replaying
  }

  private replayInBackground(): void {
    this.replayAll().catch((err) => {
      if (this.breaker.recordFailure()) this.opened()
      else this.scheduleReplay()
      this.owner().reportError(
        new CacheUnavailableError(`redis invalidation replay failed for cache "${this.name}": ${this.redactor.text(String((err as Error)?.message ?? err))}`, { cause: this.redactor.error(err) }),
        'replay',
      )
    })
  }

  /** With the breaker closed (a lone failure), retry the queue later even if no other call comes. */
  private scheduleReplay(): void {
    if (this.replayTimer !== undefined || this.closed) return
    this.replayTimer = setTimeout(() => {
      this.replayTimer = undefined
      if (this.closed || this.queue.isEmpty) return
      if (this.breaker.allowsCalls) this.replayInBackground()
      else this.scheduleProbe()
    }, this.breaker.probeDelayMs)
    this.replayTimer.unref()
  }
}
