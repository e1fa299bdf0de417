/**
 * A heartbeat on one ioredis connection of the invalidation bus. A connection that died
 * without closing (a half-open TCP connection: a NAT or load balancer forgot it, a host
 * vanished) stays 'ready' in ioredis until the operating system's keepalive gives up, which
 * takes hours by default; a subscriber on it misses every message meanwhile. So the bus PINGs
 * each connection every period: unanswered for DEAF_AFTER periods the connection is `silent`
 * (the subscriber then counts as deaf), for DEAD_AFTER it is destroyed, and ioredis makes a
 * new one (its retryStrategy), which the bus treats as any reconnect.
 */
import type { Redis } from 'ioredis'
import { socketOf } from '../redis/socket'

/** Periods without an answer after which the connection is silent, and dead. */
export const DEAF_AFTER = 2
export const DEAD_AFTER = 10

export interface HeartbeatEvents {
  /** No answer for DEAF_AFTER periods (the connection has not closed). */
  silent?(): void
  /** An answer again after silent(), on the same connection. */
  answered?(): void
}

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined
  /** performance.now() of the last answer, or of the connection becoming ready. */
  private answeredAt = performance.now()
  private pinging = false
  /** Bumped on every new connection: an answer on an older one says nothing about this one. */
  private connection = 0
  silent = false

  constructor(
    private readonly client: Redis,
    private readonly periodMs: number,
    private readonly events: HeartbeatEvents = {},
  ) {}

  start(): void {
    if (this.periodMs <= 0 || this.timer !== undefined) return
    this.timer = setInterval(() => this.beat(), this.periodMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** The connection is (again) ready: a new one, heard from just now. */
  connected(): void {
    this.connection++
    this.pinging = false
    this.silent = false
    this.answeredAt = performance.now()
  }

  private beat(): void {
    if (this.client.status !== 'ready') return
    const now = performance.now()
    const quiet = now - this.answeredAt
    if (!this.silent && quiet >= DEAF_AFTER * this.periodMs) {
      this.silent = true
      this.events.silent?.()
    }
    if (quiet >= DEAD_AFTER * this.periodMs) {
      this.answeredAt = now
      // destroy(), not quit() or disconnect(): on a dead connection those wait for the peer's
      // FIN through minutes of retransmissions. The close makes ioredis reconnect.
      const stream = socketOf(this.client)
      if (stream !== undefined) stream.destroy()
      else this.client.disconnect(true)
      return
    }
    if (this.pinging) return
    this.pinging = true
    const connection = this.connection
    this.client.ping().then(
      () => {
        if (connection !== this.connection) return
        this.pinging = false
        this.answeredAt = performance.now()
        if (this.silent) {
          this.silent = false
          this.events.answered?.()
        }
      },
      // A timeout (the publisher's commandTimeout) or a close: the next period pings again.
      () => {
        if (connection === this.connection) this.pinging = false
      },
    )
  }
}
