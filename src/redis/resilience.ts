/**
 * What keeps a RedisCache answering while Redis does not: the circuit breaker (stop calling a
 * Redis that keeps failing, probe it with PING until it answers, follow the connection's
 * events), the queue of invalidations that could not reach Redis and their replay once it is
 * back (before anything is read from Redis again), and the fallback's outage-time entries
 * dropped on recovery. Failures are counted and emitted through the cache; with failOpen false
 * they reject the call.
 */
import { CacheUnavailableError, TimeoutError } from '../errors'
import type { StoreOwner } from '../facade/store'
import { CircuitBreaker } from './circuit-breaker'
import type { RedisCommands } from './commands'
import type { Client, RedisConnection } from './connection'
import type { RedisFallback } from './fallback'
import { InvalidationQueue } from './invalidation-queue'
import type { ResolvedRedisCacheOptions } from './options'
import type { Redactor } from './redact'

/** The longest wait between two probes of an open breaker. */
export const PROBE_INTERVAL_CAP_MS = 1000

/**
 * How long probes may go unanswered on a connection ioredis calls ready before it is taken for
 * dead and made again: 10 command timeouts, at least 2 s. A Redis that only hangs that long
 * costs one reconnect when it runs again (50 ms at first); a dead connection would otherwise
 * keep the cache off Redis until the operating system's keepalive gives up.
 */
export function silentConnectionMs(commandTimeoutMs: number): number {
  return Math.max(2000, 10 * commandTimeoutMs)
}

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
  /** performance.now() when unanswered probes began on a ready connection; 0: Redis answers. */
  private silentSince = 0
  private readonly silentLimitMs: number
  private replaying: Promise<void> | undefined
  private closed = false
  /** Issue stamps of writes (see stamp()). */
  private writes = 0

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
    this.silentLimitMs = silentConnectionMs(o.commandTimeoutMs)
    this.breaker = new CircuitBreaker({ failureThreshold: o.breakerThreshold, openMs: o.breakerOpenMs, maxOpenMs: o.breakerMaxOpenMs })
    this.queue = new InvalidationQueue(o.invalidationQueueSize)
  }

  /** Starts following the connection, replaying and probing through `commands`. */
  start(commands: RedisCommands): void {
    this.commands = commands
    this.connection.watch({
      // 'ready' probes at once.
      ready: () => {
        this.silentSince = 0
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

  /** The next write's place in issue order (what invalidateLater and supersede compare). */
  stamp(): number {
    return ++this.writes
  }

  /** Redis may hold an older value of `fullKey` than we know (the write stamped `issued` did not reach it): remove it there once Redis is back. */
  invalidateLater(fullKey: string, issued: number): void {
    const dropped = this.queue.add(fullKey, issued)
    if (dropped !== undefined) this.owner().emit('invalidationDropped', this.queue.dropped)
    if (this.breaker.state === 'open') this.scheduleProbe()
    else this.scheduleReplay()
  }

  /** A SET stamped `issued` is on its way to Redis: a removal queued by earlier writes of the key would only undo it. */
  supersede(fullKey: string, issued: number): void {
    if (!this.queue.isEmpty) this.queue.supersede(fullKey, issued)
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

  /**
   * While open, Redis is asked (one PING, bounded by the command timeout) at least every
   * PROBE_INTERVAL_CAP_MS whatever breakerOpenMs has grown to: a cache is back on Redis within
   * about a second of Redis answering, however long the outage. One PING a second is no load.
   */
  private scheduleProbe(delayMs: number = Math.min(this.breaker.probeDelayMs, PROBE_INTERVAL_CAP_MS)): void {
    if (this.probeTimer !== undefined || this.closed) return
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined
      void this.probe()
    }, delayMs)
    this.probeTimer.unref()
  }

  /**
   * While open: PING until Redis answers (the breaker stays open meanwhile). Then half-open:
   * replay every pending invalidation, close the breaker, and drop what the fallback took
   * during the outage. Nothing is read from Redis before the replay is done.
   */
  private async probe(): Promise<void> {
    if (this.closed || this.probing || this.breaker.state !== 'open') return
    this.probing = true
    try {
      const { answered, failure, silent } = await this.commands.probe()
      if (!answered) {
        this.probeFailed(failure, silent)
        return
      }
      this.silentSince = 0
      this.breaker.startProbe()
      this.owner().emit('breaker', 'half-open')
      try {
        await this.replayAll()
      } catch (err) {
        this.probeFailed(err)
        this.owner().emit('breaker', 'open')
        return
      }
      this.breaker.probeSucceeded()
      this.owner().emit('breaker', 'closed')
      // Entries written to the fallback during the outage may be replaced in Redis from now
      // on, unseen here: a later blip must not serve them.
      await this.fallback.recovered()
    } finally {
      this.probing = false
    }
  }

  /**
   * The next probe: at once after a PING that timed out on a live connection (Redis hung, or
   * the network holds the bytes), so one PING always waits at Redis and is answered the moment
   * Redis runs again, however long the hang; after a fast failure (no connection) the probe
   * delay (doubled up to breakerMaxOpenMs, capped at PROBE_INTERVAL_CAP_MS; a reconnect probes
   * at once anyway). `silent`: the clients whose probe timed out (see RedisCommands.probe).
   */
  private probeFailed(err: unknown, silent: readonly Client[] = []): void {
    this.owner().countError('probe')
    this.breaker.probeFailed()
    const timedOutWhileReady = err instanceof TimeoutError && this.connection.ready
    if (timedOutWhileReady) this.judgeSilence(silent)
    this.scheduleProbe(timedOutWhileReady ? 0 : undefined)
  }

  /** A probe timed out on a ready connection: after silentConnectionMs of that, make it again. */
  private judgeSilence(silent: readonly Client[]): void {
    const now = performance.now()
    // The probe that just timed out was sent one command timeout ago.
    if (this.silentSince === 0) this.silentSince = now - this.commands.timeoutMs
    if (now - this.silentSince < this.silentLimitMs) return
    const dropped = this.connection.replaceSilentConnection(silent)
    if (dropped === 0) return
    const silentMs = Math.round(now - this.silentSince)
    this.silentSince = 0
    const what = this.connection.isCluster ? `${dropped} redis Cluster node connection${dropped === 1 ? '' : 's'}` : 'redis connection'
    this.owner().reportError(
      new CacheUnavailableError(`${what} for cache "${this.name}" (${this.safeUrl}) answered nothing for ${silentMs} ms while ready: dropped and made again`),
      'connection',
    )
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
