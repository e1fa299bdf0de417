/**
 * A TCP proxy for fault tests: it sits between a client and a real redis-server on 127.0.0.1
 * and, on command, misbehaves the way networks do.
 *
 *   const proxy = await FaultProxy.start(server.port)
 *   const cache = new RedisCache({ redisUrl: proxy.url })
 *   proxy.delay(300)          // every byte arrives 300 ms late (both directions by default)
 *   proxy.blackhole()         // bytes are read but neither forwarded nor answered: calls hang
 *   proxy.halfOpen('toClient') // requests reach Redis, replies never come back (no close either)
 *   proxy.reset()             // every open connection gets a TCP RST (client sees ECONNRESET)
 *   proxy.refuse()            // new connections are refused (ECONNREFUSED); open ones carry on
 *   proxy.strand()            // open connections go silent for good (bytes dropped, no close); new ones work
 *   proxy.heal()              // all of the above undone; held and delayed bytes are delivered at once, in order
 *   await proxy.close()
 *
 * Held bytes are delivered on heal(), as TCP retransmission would once a partition ends, and so
 * are bytes still waiting out a delay (a healed network has no latency left to serve), so
 * the Redis protocol stream is never cut in the middle: a client that gave up on a call still
 * gets (and must skip) its late reply. Connections accepted during a blackhole complete the TCP
 * handshake (the kernel does that) but nothing they send is answered until heal().
 */
import net from 'node:net'
import { REDIS_HOST } from './redis-server'

export type Direction = 'toServer' | 'toClient'
const BOTH: readonly Direction[] = ['toServer', 'toClient']

/** One direction of one proxied connection: forwards, delays or holds what it reads. */
class Pipe {
  /** Held while the direction is stopped; delivered in order when it flows again. */
  private held: Buffer[] = []
  /** Delayed chunks in arrival order, each with the time it is due; one timer for the head. */
  private delayed: { dueAt: number; chunk: Buffer }[] = []
  private timer: NodeJS.Timeout | undefined
  /** Dropping everything, for good (strand()). */
  private stranded = false

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly proxy: FaultProxy,
    readonly direction: Direction,
  ) {
    from.on('data', (chunk: Buffer) => this.push(chunk))
  }

  private push(chunk: Buffer): void {
    if (this.stranded) return
    if (this.proxy.isStopped(this.direction) || this.held.length > 0) {
      this.held.push(chunk)
      return
    }
    this.send(chunk)
  }

  private send(chunk: Buffer): void {
    const delay = this.proxy.delayMs(this.direction)
    // Anything still delayed goes first, even when the delay was lowered since: bytes never overtake.
    if (delay === 0 && this.delayed.length === 0) {
      this.write(chunk)
      return
    }
    this.delayed.push({ dueAt: performance.now() + delay, chunk })
    this.schedule()
  }

  private schedule(): void {
    if (this.timer !== undefined || this.delayed.length === 0) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      const now = performance.now()
      // Due times are not monotonic when the delay changes; order is what counts, so a chunk
      // waits for every chunk before it.
      while (this.delayed.length > 0 && this.delayed[0].dueAt <= now + 1) this.write(this.delayed.shift()!.chunk)
      this.schedule()
    }, Math.max(0, this.delayed[0].dueAt - performance.now()))
  }

  private write(chunk: Buffer): void {
    if (!this.to.destroyed) this.to.write(chunk)
  }

  /**
   * The direction may flow again: deliver what was held, in order. With the delay removed, chunks
   * still waiting out the old delay go at once: otherwise a command sent just before heal() would
   * queue everything after it for up to the old delay, and "healed" would not mean healed.
   */
  release(): void {
    if (this.proxy.isStopped(this.direction)) return
    if (this.proxy.delayMs(this.direction) === 0) {
      this.cancelTimer()
      for (const { chunk } of this.delayed.splice(0)) this.write(chunk)
    }
    const held = this.held
    this.held = []
    for (const chunk of held) this.send(chunk)
  }

  get heldBytes(): number {
    return this.held.reduce((n, b) => n + b.length, 0)
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  get delayedBytes(): number {
    return this.delayed.reduce((n, d) => n + d.chunk.length, 0)
  }

  stop(): void {
    this.cancelTimer()
    this.delayed = []
    this.held = []
  }

  strand(): void {
    this.stop()
    this.stranded = true
  }
}

/** A client connection and its upstream connection to redis-server. */
class ProxiedConnection {
  readonly pipes: Pipe[]
  private closed = false

  constructor(
    readonly client: net.Socket,
    readonly upstream: net.Socket,
    proxy: FaultProxy,
    onClosed: (connection: ProxiedConnection) => void,
  ) {
    this.pipes = [new Pipe(client, upstream, proxy, 'toServer'), new Pipe(upstream, client, proxy, 'toClient')]
    const close = () => {
      if (this.closed) return
      this.closed = true
      for (const pipe of this.pipes) pipe.stop()
      // A closed side is passed on as a close (FIN), as a plain TCP hop would.
      client.end()
      upstream.end()
      onClosed(this)
    }
    for (const socket of [client, upstream]) {
      socket.on('error', () => {}) // reported to the peer as a close; the tests watch the client side
      socket.on('close', close)
    }
  }

  /** TCP RST to the client (ECONNRESET on its side) and a plain close towards Redis. */
  reset(): void {
    for (const pipe of this.pipes) pipe.stop()
    this.client.resetAndDestroy()
    this.upstream.destroy()
  }
}

export interface FaultProxyCounts {
  /** Connections currently open through the proxy. */
  open: number
  /** Connections accepted since start (refused ones excluded). */
  accepted: number
}

export class FaultProxy {
  readonly host = REDIS_HOST
  private server: net.Server
  private readonly connections = new Set<ProxiedConnection>()
  private readonly delays: Record<Direction, number> = { toServer: 0, toClient: 0 }
  private readonly stopped: Record<Direction, boolean> = { toServer: false, toClient: false }
  private refusing = false
  private accepted = 0
  private listeningPort = 0

  private constructor(
    readonly targetPort: number,
    readonly targetHost: string,
  ) {
    this.server = this.createServer()
  }

  /** A proxy on a free loopback port (chosen by the kernel) forwarding to `targetHost:targetPort`. */
  static async start(targetPort: number, targetHost: string = REDIS_HOST): Promise<FaultProxy> {
    const proxy = new FaultProxy(targetPort, targetHost)
    await proxy.listen(0)
    return proxy
  }

  /** The proxy's port; kept across refuse() and heal(). */
  get port(): number {
    return this.listeningPort
  }

  /** redis://127.0.0.1:<proxy port> */
  get url(): string {
    return `redis://${this.host}:${this.port}`
  }

  counts(): FaultProxyCounts {
    return { open: this.connections.size, accepted: this.accepted }
  }

  /** Bytes held (not yet forwarded) over every open connection, per direction. */
  heldBytes(): Record<Direction, number> {
    return this.perDirection((pipe) => pipe.heldBytes)
  }

  /** Bytes waiting out a delay over every open connection, per direction. */
  delayedBytes(): Record<Direction, number> {
    return this.perDirection((pipe) => pipe.delayedBytes)
  }

  private perDirection(bytes: (pipe: Pipe) => number): Record<Direction, number> {
    const out: Record<Direction, number> = { toServer: 0, toClient: 0 }
    for (const connection of this.connections) for (const pipe of connection.pipes) out[pipe.direction] += bytes(pipe)
    return out
  }

  /** Every chunk is forwarded `ms` late in the given directions (default both); order is kept. 0 removes it. */
  delay(ms: number, directions: readonly Direction[] = BOTH): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`delay must be a non-negative number of ms, got ${ms}`)
    for (const d of directions) this.delays[d] = ms
  }

  /** Reads everything, forwards and answers nothing (both directions), on open and new connections. */
  blackhole(): void {
    this.stopped.toServer = this.stopped.toClient = true
  }

  /**
   * Stops forwarding one direction without closing anything: 'toClient' lets requests reach
   * Redis but its replies never return; 'toServer' lets Redis' pushes through but nothing the
   * client sends arrives.
   */
  halfOpen(direction: Direction): void {
    this.stopped[direction] = true
  }

  /** Sends a TCP RST on every open client connection (ECONNRESET) and closes the upstream ones. */
  reset(): void {
    for (const connection of [...this.connections]) connection.reset()
  }

  /**
   * Every open connection goes silent for good, as when a NAT or load balancer forgets it or
   * the host behind it vanishes: bytes either way are read and dropped, and nothing closes.
   * heal() does not bring them back. New connections work as before.
   */
  strand(): void {
    for (const connection of this.connections) for (const pipe of connection.pipes) pipe.strand()
  }

  /** Stops listening: new connections are refused by the kernel (ECONNREFUSED). Open connections are kept. */
  refuse(): void {
    if (this.refusing) return
    this.refusing = true
    // close() waits for open connections to end; listening stops at once, which is all we need.
    this.server.close()
    this.server = this.createServer()
  }

  /** Back to a plain proxy: no delay, both directions flowing (held and delayed bytes delivered at once), listening again. */
  async heal(): Promise<void> {
    this.delays.toServer = this.delays.toClient = 0
    this.stopped.toServer = this.stopped.toClient = false
    for (const connection of this.connections) for (const pipe of connection.pipes) pipe.release()
    if (this.refusing) {
      this.refusing = false
      await this.listen()
    }
  }

  /** Closes every connection and stops listening. */
  async close(): Promise<void> {
    this.refusing = true
    for (const connection of [...this.connections]) connection.reset()
    await new Promise<void>((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()))
  }

  /** For the pipes: current settings. */
  isStopped(direction: Direction): boolean {
    return this.stopped[direction]
  }

  delayMs(direction: Direction): number {
    return this.delays[direction]
  }

  private createServer(): net.Server {
    return net.createServer({ noDelay: true }, (client) => this.accept(client))
  }

  private listen(port: number = this.listeningPort): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, this.host, () => {
        this.server.off('error', reject)
        this.listeningPort = (this.server.address() as net.AddressInfo).port
        resolve()
      })
    })
  }

  private accept(client: net.Socket): void {
    this.accepted++
    client.pause() // nothing is read until the upstream side exists
    const upstream = net.connect({ port: this.targetPort, host: this.targetHost, noDelay: true })
    const connection = new ProxiedConnection(client, upstream, this, (c) => this.connections.delete(c))
    this.connections.add(connection)
    upstream.once('connect', () => client.resume())
  }
}
