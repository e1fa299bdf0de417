/**
 * Every Redis round trip of a RedisCache, each bounded by commandTimeoutMs: one shared
 * deadline timer (deadlines.ts) instead of a timer per command, waiting for a connection still
 * being made within the budget, failing fast when disconnected. Cluster-aware: MGET and MULTI
 * per hash slot, SCAN + UNLINK on every master (unlink.ts).
 *
 * GET and SET, the hot path, are sent as a Command built here when that is exactly what
 * client.get/set would do (a plain client: no Cluster, no auto-pipelining, no client
 * keyPrefix); a timeout then rejects the Command itself, as ioredis' own commandTimeout does,
 * so there is no wrapper promise. sendCommand's promise (not command.promise) keeps ioredis'
 * diagnostics_channel tracing intact.
 */
// Imported, not the global: the global `performance` is a lazy getter, paid on every call.
import { performance } from 'node:perf_hooks'
import type { Cluster, Command, Redis } from 'ioredis'
import { TimeoutError } from '../errors'
import { ioredis, type Client, type RedisConnection } from './connection'
import { Deadlines, type Deadline } from './deadlines'
import { groupBySlot } from './key-slot'
import { scanAndUnlink, unlinkKeys } from './unlink'

/** One value of a SET in setMany. */
export interface PreparedSet {
  fullKey: string
  payload: Buffer | string
  ttlMs: number
}

/** Command options of client.get() and client.getBuffer(). */
const GET_STRING = { replyEncoding: 'utf8' as const }
const GET_BUFFER = { replyEncoding: null }
/** Options for a Command with Buffer replies (ioredis only reads them: shared). */
const NO_OPTIONS = {}

/** What a probe found: whether every PING was answered, the first failure, and the clients that timed out. */
export interface ProbeResult {
  answered: boolean
  failure: unknown
  silent: Client[]
}

export class RedisCommands {
  private readonly deadlines: Deadlines
  /** The connection's client (it never changes): read on every command. */
  private readonly client: Client
  /** Hot-path commands are built here (see the top of this file). */
  private readonly direct: boolean
  /** ioredis' Command class (the package is loaded by the time a connection exists). */
  private readonly Command: typeof Command

  /**
   * @param strings GET replies as strings (the JSON serializer reads them: no Buffer round trip)
   * @param onSuccess after every command that answered (the breaker's bookkeeping)
   */
  constructor(
    private readonly connection: RedisConnection,
    readonly timeoutMs: number,
    private readonly strings: boolean,
    private readonly onSuccess: () => void,
  ) {
    this.deadlines = new Deadlines(Math.min(50, Math.max(1, Math.floor(timeoutMs / 10))))
    this.client = connection.client
    this.Command = ioredis().Command
    const options = (this.client as Redis).options
    this.direct = !connection.isCluster && !options.keyPrefix && !options.showFriendlyErrorStack && !options.enableAutoPipelining
  }

  /** GET `fullKey`: onReply gets the bytes (null when absent), onFailure the error (a TimeoutError when cut). */
  get<T>(fullKey: string, onReply: (bytes: string | Buffer | null) => T, onFailure: (err: unknown) => T | Promise<T>): Promise<T> {
    const client = this.client
    if (client.status !== 'ready') return this.whenReady((c) => this.getVia(c, fullKey)).then(onReply, onFailure)
    if (this.direct) return this.send(new this.Command('get', [fullKey], this.strings ? GET_STRING : GET_BUFFER), onReply, onFailure)
    return this.deadlines.track(this.getVia(client, fullKey), this.timeoutMs, this.onSuccess).then(onReply, onFailure)
  }

  private getVia(client: Client, fullKey: string): Promise<string | Buffer | null> {
    return this.strings ? client.get(fullKey) : client.getBuffer(fullKey)
  }

  /** SET `fullKey` (PX ttlMs when ttlMs > 0). */
  set<T>(fullKey: string, payload: Buffer | string, ttlMs: number, onReply: () => T, onFailure: (err: unknown) => T | Promise<T>): Promise<T> {
    const client = this.client
    if (client.status === 'ready' && this.direct) {
      return this.send(new this.Command('set', ttlMs > 0 ? [fullKey, payload, 'PX', ttlMs] : [fullKey, payload], NO_OPTIONS), onReply, onFailure)
    }
    return this.run((c) => (ttlMs > 0 ? c.set(fullKey, payload, 'PX', ttlMs) : c.set(fullKey, payload))).then(onReply, onFailure)
  }

  /** PTTL `fullKey`: ms left, -1 without expiry, -2 when absent. */
  pttl(fullKey: string): Promise<number> {
    return this.run((c) => c.pttl(fullKey))
  }

  unlink(fullKey: string): Promise<number> {
    return this.run((c) => c.unlink(fullKey))
  }

  exists(fullKey: string): Promise<number> {
    return this.run((c) => c.exists(fullKey))
  }

  /**
   * The breaker's probe: PING, on a Cluster every master in parallel, so that one node that
   * stopped answering keeps the probe failing while the others answer. Resolves with whether
   * all answered, the first failure and the clients whose PING timed out.
   */
  async probe(): Promise<ProbeResult> {
    const masters = this.connection.isCluster && this.client.status === 'ready' ? (this.client as Cluster).nodes('master') : []
    const targets: Client[] = masters.length > 0 ? masters : [this.client]
    const outcomes = await Promise.allSettled(targets.map((target) => this.run((c) => c.ping(), target)))
    const result: ProbeResult = { answered: true, failure: undefined, silent: [] }
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') return
      if (result.answered) result.failure = outcome.reason
      result.answered = false
      if (outcome.reason instanceof TimeoutError) result.silent.push(targets[i])
    })
    return result
  }

  /** MGET as Buffers; on a Cluster one MGET per hash slot, in parallel. */
  async mget(fullKeys: string[]): Promise<(Buffer | null)[]> {
    if (!this.connection.isCluster) return this.run((c) => c.mgetBuffer(...fullKeys))
    const out: (Buffer | null)[] = new Array(fullKeys.length)
    await Promise.all(
      groupBySlot(fullKeys).map(async (indexes) => {
        const values = await this.run((c) => c.mgetBuffer(...indexes.map((i) => fullKeys[i])))
        indexes.forEach((index, j) => (out[index] = values[j]))
      }),
    )
    return out
  }

  /** One MULTI per slot (all of them on a single Redis): atomic, one round trip, per-key PX. */
  async mset(prepared: readonly PreparedSet[]): Promise<void> {
    const groups = this.connection.isCluster ? groupBySlot(prepared.map((p) => p.fullKey)) : [prepared.map((_, i) => i)]
    await Promise.all(
      groups.map(async (indexes) => {
        const results = await this.run((c) => {
          const multi = c.multi()
          for (const i of indexes) {
            const p = prepared[i]
            if (p.ttlMs > 0) multi.set(p.fullKey, p.payload, 'PX', p.ttlMs)
            else multi.set(p.fullKey, p.payload)
          }
          return multi.exec()
        })
        if (results === null) throw new Error('MULTI was aborted')
        for (const [err] of results) if (err) throw err
      }),
    )
  }

  /** SET NX then GET of one key in one MULTI (one slot, so a Cluster takes it too): both or neither. */
  async setIfAbsent(fullKey: string, payload: Buffer | string, ttlMs: number): Promise<Buffer | null> {
    const replies = await this.run((c) => {
      const multi = c.multi()
      if (ttlMs > 0) multi.set(fullKey, payload, 'PX', ttlMs, 'NX')
      else multi.set(fullKey, payload, 'NX')
      return multi.getBuffer(fullKey).exec()
    })
    if (replies === null) throw new Error('MULTI was aborted')
    for (const [err] of replies) if (err) throw err
    return replies[1][1] as Buffer | null
  }

  /** UNLINKs keys (one UNLINK per slot on a Cluster). */
  unlinkMany(fullKeys: readonly string[]): Promise<number> {
    return unlinkKeys(fullKeys, this.connection.isCluster, (command) => this.run(command as (c: Client) => Promise<never>))
  }

  /** SCAN + UNLINK of every key under `prefix`, on every master of a Cluster. */
  async clearPrefix(prefix: string, batchSize: number): Promise<void> {
    const cluster = this.connection.isCluster
    const nodes = cluster ? (this.client as Cluster).nodes('master') : [this.client as Redis]
    await Promise.all(nodes.map((node) => scanAndUnlink(node, prefix, batchSize, cluster, (command) => this.run(command as (c: Client) => Promise<never>, node))))
  }

  /** Commands waiting for their reply (each one's deadline is tracked until it settles or expires). */
  get inFlight(): number {
    return this.deadlines.size
  }

  /** Stops the deadline timer (commands still in flight are then unbounded: call after the connection closed). */
  stop(): void {
    this.deadlines.stop()
  }

  /**
   * One bounded round trip: waits for a connection still being made (within the budget),
   * fails fast when disconnected, and rejects after timeoutMs in any case.
   */
  private run<T>(command: (client: Client) => Promise<T>, target: Client = this.client): Promise<T> {
    if (target === this.client && target.status !== 'ready') return this.whenReady(command)
    return this.deadlines.track(command(target), this.timeoutMs, this.onSuccess)
  }

  private async whenReady<T>(command: (client: Client) => Promise<T>): Promise<T> {
    const deadline = performance.now() + this.timeoutMs
    await this.connection.waitForReady(deadline, performance.now())
    const remaining = Math.max(1, deadline - performance.now())
    return this.deadlines.track(command(this.client), remaining, this.onSuccess)
  }

  /** Sends a Command built here, bounded: on timeout the Command itself is rejected. */
  private send<R, T>(command: Command, onReply: (reply: R) => T, onFailure: (err: unknown) => T | Promise<T>): Promise<T> {
    const call = new PendingCommand(this.timeoutMs, command)
    this.deadlines.add(call)
    try {
      call.request = (this.client as Redis).sendCommand(command) as Promise<unknown>
    } catch (err) {
      command.reject(err as Error)
    }
    return call.request.then(
      (reply) => {
        this.deadlines.settle(call)
        this.onSuccess()
        return onReply(reply as R)
      },
      (err) => {
        this.deadlines.settle(call)
        return onFailure(err)
      },
    )
  }
}

/** A Command in flight on a plain client: its deadline entry; expiring rejects the Command. */
class PendingCommand implements Deadline {
  prev: Deadline | null = null
  next: Deadline | null = null
  linked = false
  readonly at: number
  /** What sendCommand returned (the Command's promise, or ioredis' traced wrapper of it). */
  request: Promise<unknown>
  constructor(
    readonly ms: number,
    private readonly command: Command,
  ) {
    this.at = performance.now() + ms
    this.request = command.promise
  }

  expire(err: Error): void {
    this.command.reject(err)
  }
}
