import type { Cluster, Redis, RedisOptions } from 'ioredis'
import { requireOptional } from '../optional-dependency'
import { ownClientOptions, type ResolvedRedisCacheOptions } from './options'
import { isSentinelUrl } from './sentinel'
import { socketOf } from './socket'
import { withTimeout } from './timeout'

export type Client = Redis | Cluster

/** The ioredis module, loaded when the first client is made (a CacheDependencyError when it is not installed). */
export function ioredis(): typeof import('ioredis') {
  return requireOptional<typeof import('ioredis')>('ioredis', 'RedisCache')
}

/** How a RedisCache that made its own client connects (see connectionOptions()). */
export interface RedisConnectionOptions {
  redisUrl: string
  redisOptions: RedisOptions
  commandTimeoutMs: number
}

/** What the cache wants to hear from the connection. */
export interface ConnectionEvents {
  /** The client is (again) ready for commands. */
  ready(): void
  /** The connection was lost. */
  lost(): void
  /** A client error, on a client the cache made itself (a listener on yours would change how ioredis reports them). */
  error(err: Error): void
}

/** Statuses in which ioredis is still establishing a connection: worth waiting for (within the timeout). */
const CONNECTING = new Set(['wait', 'connecting', 'connect'])

/**
 * The ioredis client of one RedisCache: made from `redisUrl` (and closed by close()) or given
 * by the user (left open), its events, and waiting for it to be ready.
 */
export class RedisConnection {
  // #private: kept out of util.inspect / console.log output (the client holds the password).
  readonly #client: Client
  /** What the client was made from (undefined for a client you passed): the password lives here too. */
  readonly #made: RedisConnectionOptions | undefined
  readonly ownsClient: boolean
  readonly isCluster: boolean
  private readyWaiter: Promise<void> | undefined
  private detach: (() => void) | undefined

  constructor(o: ResolvedRedisCacheOptions<unknown>) {
    if (o.client) {
      this.#client = o.client
      this.#made = undefined
      this.ownsClient = false
    } else {
      const clientOptions = ownClientOptions(o.commandTimeoutMs, o.redisOptions)
      const { Redis } = ioredis()
      // A Sentinel URL is already in the options (ioredis cannot parse it).
      this.#client = isSentinelUrl(o.redisUrl) ? new Redis(clientOptions) : new Redis(o.redisUrl, clientOptions)
      this.#made = { redisUrl: o.redisUrl, redisOptions: o.redisOptions, commandTimeoutMs: o.commandTimeoutMs }
      this.ownsClient = true
    }
    this.isCluster = (this.#client as Cluster).isCluster === true
  }

  get client(): Client {
    return this.#client
  }

  get ready(): boolean {
    return this.#client.status === 'ready'
  }

  /** A copy of what the client was made from; undefined for a client you passed. Carries the credentials: do not log it. */
  madeFrom(): RedisConnectionOptions | undefined {
    const c = this.#made
    return c && { redisUrl: c.redisUrl, redisOptions: { ...c.redisOptions }, commandTimeoutMs: c.commandTimeoutMs }
  }

  /** Follows the client's events until close(). */
  watch(events: ConnectionEvents): void {
    const client = this.#client
    const onReady = () => events.ready()
    const onClose = () => events.lost()
    const onError = (err: Error) => events.error(err)
    // Many caches may share one client: raise its listener limit by what we add, so Node does not warn.
    const added = this.ownsClient ? 3 : 2
    if (client.getMaxListeners() !== 0) client.setMaxListeners(client.getMaxListeners() + added)
    client.on('ready', onReady)
    client.on('close', onClose)
    if (this.ownsClient) client.on('error', onError)
    this.detach = () => {
      client.off('ready', onReady)
      client.off('close', onClose)
      if (client.getMaxListeners() !== 0) client.setMaxListeners(Math.max(10, client.getMaxListeners() - added))
      // Keep swallowing errors of our own client while it shuts down.
      if (this.ownsClient) {
        client.off('error', onError)
        client.on('error', () => {})
      }
    }
  }

  /**
   * Resolves when the client is ready, within `deadline` (performance.now() ms). With the
   * offline queue off, ioredis would reject at once; a connection being made is worth its budget.
   */
  waitForReady(deadline: number, now: number): Promise<void> {
    const client = this.#client
    if (!CONNECTING.has(client.status)) return Promise.reject(new Error(`redis connection is ${client.status}`))
    if (client.status === 'wait') client.connect().catch(() => {})
    this.readyWaiter ??= new Promise<void>((resolve) => {
      client.once('ready', () => {
        this.readyWaiter = undefined
        resolve()
      })
    })
    return withTimeout(this.readyWaiter, Math.max(1, deadline - now), 'waiting for the redis connection')
  }

  /**
   * Drops connections that stopped answering without closing (a half-open TCP connection: a
   * NAT or load balancer forgot it, the host vanished), which ioredis would keep as ready
   * until the operating system's keepalive gives up, hours by default. destroy(), not quit()
   * or disconnect(): those wait for the peer's FIN through minutes of retransmissions.
   * `silent`: the clients whose probe timed out, the cache's own client or, on a Cluster, its
   * nodes. A plain client reconnects (its retryStrategy); a Cluster node that closes leaves
   * ioredis' pool (nodes do not retry) and is connected again when its slots are next used,
   * and when the last one goes the Cluster reconnects and fetches its slots. Returns how many
   * open streams were dropped.
   */
  replaceSilentConnection(silent: readonly Client[]): number {
    let dropped = 0
    for (const client of silent) {
      const stream = socketOf(client)
      if (stream === undefined || stream.destroyed === true) continue
      stream.destroy()
      dropped++
    }
    return dropped
  }

  /** Stops listening; quits and disconnects a client this cache made (a client you passed stays open). */
  async close(timeoutMs: number): Promise<void> {
    this.detach?.()
    this.detach = undefined
    if (!this.ownsClient) return
    const client = this.#client
    try {
      if (client.status === 'ready') await withTimeout(client.quit(), timeoutMs)
    } catch {
      // fall through to a hard disconnect
    }
    client.disconnect()
  }
}
