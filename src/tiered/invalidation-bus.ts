/**
 * Cross-instance invalidation over Redis pub/sub: every TieredCache publishes the keys it
 * wrote or invalidated, and drops the keys other instances publish from its L1.
 *
 * Pub/sub is fire-and-forget: a subscriber that is disconnected misses messages. So each
 * time the subscriber (re)connects, the bus calls `onResync`, and the TieredCache clears its
 * L1 (see docs/tiered.md, "Outages"). Messages that cannot be published are kept (bounded;
 * beyond the bound one "clear" replaces them) and sent when the publisher is back.
 */
import { randomUUID } from 'node:crypto'
import type { Redis, RedisOptions } from 'ioredis'
import { withMilliseconds, type Duration } from '../duration'
import { CacheOptionError, describe } from '../errors'
import { requireOptional } from '../optional-dependency'
import { isSentinelUrl, parseSentinelUrl, sentinelClientOptions } from '../redis/sentinel'
import { checkKnownOptions, checkOptionsObject } from '../validate'
import { Heartbeat } from './heartbeat'

/** What travels on the channel (JSON). `i`: sender instance id; `k`: keys; `c`: clear everything. */
export interface InvalidationMessage {
  i: string
  k?: string[]
  c?: 1
}

export interface InvalidationHandlers {
  /** Keys another instance changed or removed. */
  keys(keys: string[]): void
  /** Another instance cleared the cache. */
  clear(): void
  /** The subscription was (re)established: messages may have been missed meanwhile. */
  resync(): void
  /**
   * The subscription was lost (its connection closed, or it stopped answering the heartbeat):
   * messages may be missed from now until the next resync() or resumed().
   */
  lost?(): void
  /**
   * The subscriber answers again after lost(), on the same connection: Redis delivers a
   * subscription's messages in order on one connection, so none was missed.
   */
  resumed?(): void
  error(error: Error): void
}

/** How TieredCache talks to other instances; RedisInvalidationBus is the implementation. */
export interface InvalidationBus {
  readonly instanceId: string
  /**
   * What the bus carries, the same for every instance on it (RedisInvalidationBus: the channel).
   * TieredCaches over one shared() L1 (machine- or thread-wide) vouch for each other per topic; without one, each clears it.
   */
  readonly topic?: string
  start(handlers: InvalidationHandlers): void
  publishKeys(keys: string[]): void
  publishClear(): void
  /** Messages waiting to be published (a pending clear counts as one). */
  readonly pending: number
  close(): Promise<void>
}

export interface RedisInvalidationBusOptions {
  /** redis://, rediss:// or redis+sentinel:// URL of the Redis the L2 uses. */
  redisUrl: string
  /** Extra ioredis options (tls, password, ...), applied to both connections. */
  redisOptions?: RedisOptions
  channel: string
  /** Bound for one PUBLISH, ms (or a duration string). Default 500. */
  commandTimeoutMs?: Duration
  /** Keys kept for re-publishing while Redis is unreachable; beyond it they become one clear. Default 10000. */
  maxPending?: number
  /**
   * How often the subscriber connection is PINGed, ms (or a duration string); 0 turns it off.
   * Default 1000. Unanswered for 2 periods, the subscription counts as lost (lost()); for 10,
   * the connection is dropped and made again (then resync()). This is what notices a
   * subscriber connection that died without closing (a half-open TCP connection), which
   * would otherwise miss every message until the operating system's keepalive gives up.
   */
  heartbeatMs?: Duration
}

const BUS_OPTIONS = ['redisUrl', 'redisOptions', 'channel', 'commandTimeoutMs', 'maxPending', 'heartbeatMs']

/** Two dedicated connections: a subscriber connection cannot run other commands. */
export class RedisInvalidationBus implements InvalidationBus {
  readonly instanceId = randomUUID()
  readonly channel: string
  readonly topic: string
  private readonly pub: Redis
  private readonly sub: Redis
  private readonly maxPending: number
  private pendingKeys = new Set<string>()
  private pendingClear = false
  private handlers: InvalidationHandlers | undefined
  /** True until the first subscription, and again after every lost connection. */
  private mayHaveMissed = true
  private flushing = false
  private closed = false
  private readonly heartbeatMs: number
  private readonly heartbeats: Heartbeat[] = []

  constructor(options: RedisInvalidationBusOptions) {
    checkOptionsObject(options, 'RedisInvalidationBus')
    if (options === undefined) throw new CacheOptionError('RedisInvalidationBus needs options { redisUrl, channel }')
    checkKnownOptions(options, BUS_OPTIONS, 'RedisInvalidationBus option')
    if (typeof options.channel !== 'string' || options.channel === '') {
      throw new CacheOptionError(`channel must be a non-empty string, got ${describe(options.channel)}`)
    }
    const url = options.redisUrl
    const sentinel = isSentinelUrl(url)
    if (typeof url !== 'string' || !(sentinel || /^rediss?:\/\//.test(url))) {
      throw new CacheOptionError('redisUrl must be a redis://, rediss:// or redis+sentinel:// URL for the invalidation channel')
    }
    const times = withMilliseconds(options, ['commandTimeoutMs', 'heartbeatMs'], 'RedisInvalidationBus')
    const timeout = (times.commandTimeoutMs as number | undefined) ?? 500
    const heartbeat = times.heartbeatMs ?? 1000
    if (typeof heartbeat !== 'number' || !Number.isFinite(heartbeat) || heartbeat < 0) {
      throw new CacheOptionError(`heartbeatMs must be a number of milliseconds >= 0 (0: no heartbeat) or a duration string, got ${describe(options.heartbeatMs)}`)
    }
    this.heartbeatMs = heartbeat
    const maxPending = options.maxPending ?? 10_000
    if (!Number.isSafeInteger(maxPending) || maxPending < 0) {
      throw new CacheOptionError(`maxPending must be an integer >= 0, got ${describe(options.maxPending)}`)
    }
    this.maxPending = maxPending
    this.channel = options.channel
    this.topic = options.channel
    // Through Sentinel, both connections follow the master as the L2's does (PUBLISH reaches
    // every subscriber of the replication group only on the master they all follow).
    const given = sentinel ? sentinelClientOptions(parseSentinelUrl(url), options.redisOptions ?? {}, timeout) : options.redisOptions
    const common: RedisOptions = {
      ...given,
      connectTimeout: Math.max(1000, timeout * 2),
      retryStrategy: (times: number) => Math.min(times * 50, 1000),
    }
    const { Redis } = requireOptional<typeof import('ioredis')>('ioredis', 'RedisInvalidationBus')
    const connect = (extra: RedisOptions) => (sentinel ? new Redis({ ...common, ...extra }) : new Redis(url, { ...common, ...extra }))
    this.pub = connect({ commandTimeout: timeout, enableOfflineQueue: false, maxRetriesPerRequest: 0 })
    // The subscriber queues its SUBSCRIBE until connected and re-subscribes after a reconnect.
    this.sub = connect({ autoResubscribe: true, maxRetriesPerRequest: null })
  }

  get pending(): number {
    return this.pendingKeys.size + (this.pendingClear ? 1 : 0)
  }

  start(handlers: InvalidationHandlers): void {
    this.handlers = handlers
    const report = (err: Error) => {
      if (!this.closed) handlers.error(err)
    }
    this.pub.on('error', report)
    this.sub.on('error', report)
    this.pub.on('ready', () => this.flush())
    // The subscriber's heartbeat stands in for a close while its connection is silent, and
    // takes it back when it answers again; the publisher's only replaces a dead connection.
    const subBeat = new Heartbeat(this.sub, this.heartbeatMs, {
      silent: () => {
        if (!this.closed) handlers.lost?.()
      },
      answered: () => {
        if (!this.closed && !this.mayHaveMissed) handlers.resumed?.()
      },
    })
    const pubBeat = new Heartbeat(this.pub, this.heartbeatMs)
    this.heartbeats.push(subBeat, pubBeat)
    this.pub.on('ready', () => pubBeat.connected())
    this.sub.on('ready', () => subBeat.connected())
    this.sub.on('close', () => {
      this.mayHaveMissed = true
      // lost() was already told when the heartbeat found the connection silent.
      if (!this.closed && !subBeat.silent) handlers.lost?.()
    })
    subBeat.start()
    pubBeat.start()
    const resync = () => {
      if (this.mayHaveMissed && !this.closed) {
        this.mayHaveMissed = false
        handlers.resync()
      }
    }
    let subscribed = false
    // After a reconnect ioredis re-subscribes by itself (autoResubscribe).
    this.sub.on('ready', () => {
      if (subscribed) resync()
    })
    this.sub.on('messageBuffer', (_channel: Buffer, payload: Buffer) => this.receive(payload))
    this.sub.subscribe(this.channel).then(() => {
      subscribed = true
      resync()
    }, report)
  }

  publishKeys(keys: string[]): void {
    if (keys.length === 0 || this.closed) return
    if (this.pending === 0 && this.pub.status === 'ready') {
      this.pub.publish(this.channel, JSON.stringify({ i: this.instanceId, k: keys } satisfies InvalidationMessage)).catch(() => this.keep(keys))
      return
    }
    this.keep(keys)
    this.flush()
  }

  publishClear(): void {
    if (this.closed) return
    // A clear supersedes every pending key.
    this.pendingKeys.clear()
    this.pendingClear = true
    this.flush()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const beat of this.heartbeats) beat.stop()
    await Promise.allSettled([quit(this.pub), quit(this.sub)])
  }

  private receive(payload: Buffer): void {
    let message: InvalidationMessage
    try {
      message = JSON.parse(payload.toString('utf8'))
    } catch {
      return // not ours
    }
    if (message === null || typeof message !== 'object' || message.i === this.instanceId || this.handlers === undefined) return
    if (message.c === 1) this.handlers.clear()
    else if (Array.isArray(message.k)) this.handlers.keys(message.k.filter((k): k is string => typeof k === 'string'))
  }

  private keep(keys: string[]): void {
    if (this.pendingClear) return
    for (const key of keys) this.pendingKeys.add(key)
    if (this.pendingKeys.size > this.maxPending) {
      this.pendingKeys.clear()
      this.pendingClear = true
    }
  }

  /** Publishes what is pending, oldest first; stops at the first failure (the next 'ready' retries). */
  private flush(): void {
    if (this.flushing || this.closed || this.pending === 0 || this.pub.status !== 'ready') return
    this.flushing = true
    void (async () => {
      try {
        while (this.pending > 0 && !this.closed) {
          if (this.pendingClear) {
            this.pendingClear = false
            await this.publishOrKeep({ i: this.instanceId, c: 1 }, () => (this.pendingClear = true))
            continue
          }
          const keys = [...this.pendingKeys].slice(0, 500)
          for (const k of keys) this.pendingKeys.delete(k)
          await this.publishOrKeep({ i: this.instanceId, k: keys }, () => this.keep(keys))
        }
      } catch {
        // kept; retried on the next 'ready'
      } finally {
        this.flushing = false
      }
    })()
  }

  private async publishOrKeep(message: InvalidationMessage, keep: () => void): Promise<void> {
    try {
      await this.pub.publish(this.channel, JSON.stringify(message))
    } catch (err) {
      keep()
      throw err
    }
  }
}

async function quit(client: Redis): Promise<void> {
  try {
    if (client.status === 'ready') {
      await Promise.race([client.quit(), new Promise((resolve) => setTimeout(resolve, 500).unref())])
    }
  } catch {
    // fall through
  }
  client.disconnect()
}
