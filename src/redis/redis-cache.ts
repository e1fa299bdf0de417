import { EventEmitter } from 'node:events'
import { inspect } from 'node:util'
// Imported, not the global: the global `performance` is a lazy getter, paid on every call.
import { performance } from 'node:perf_hooks'
import { Command, Redis, type Cluster, type RedisOptions } from 'ioredis'
import type { Cache } from '../contract/cache'
import { CacheStats } from '../contract/cache'
import { CacheClosedError, CacheError, CacheKeyError, CacheSerializationError, CacheUnavailableError, describe } from '../errors'
import { InMemoryLRUCache } from '../memory/memory-cache'
import { latencySampleInterval, type CacheOp, type MetricsSink, type MetricsSource } from '../contract/metrics'
import { jsonSerializer, type Serializer } from '../serializer'
import { SingleFlight } from '../facade/single-flight'
import { isEnvelope, rawGet, rawGetMany, resolveGetOrSetOptions, Revalidator, unwrapFresh, type SwrStore, type TtlOrOptions } from '../facade/swr'
import { checkEntries, checkKey as checkAnyKey, checkKeys as checkAnyKeys, checkLoader, checkValue, ttlToMs } from '../validate'
import { CircuitBreaker, type BreakerState } from './circuit-breaker'
import { InvalidationQueue } from './invalidation-queue'
import { groupBySlot } from './key-slot'
import { ownClientOptions, resolveOptions, type RedisCacheOptions } from './options'
import { Redactor } from './redact'
import { scanAndUnlink, unlinkKeys } from './unlink'
import { Deadlines, type Deadline } from './deadlines'
import { TimeoutError, withTimeout } from './timeout'

export type { RedisCacheOptions }

type Client = Redis | Cluster

/** How a RedisCache that made its own client connects (see connectionOptions()). */
export interface RedisConnectionOptions {
  redisUrl: string
  redisOptions: RedisOptions
  commandTimeoutMs: number
}

/** What health() reports. */
export interface RedisCacheHealth {
  /** 'closed': calls go to Redis; 'open': Redis is skipped (fallback or miss); 'half-open': a probe is running. */
  breaker: BreakerState
  /** The client's connection is up. */
  connected: boolean
  /** Invalidations waiting to be replayed into Redis (a pending clear() counts as one). */
  pendingInvalidations: number
  /** Invalidations dropped because the queue was full. */
  droppedInvalidations: number
  /** Times the breaker opened. */
  breakerOpened: number
}

/** Statuses in which ioredis is still establishing a connection: worth waiting for (within the timeout). */
const CONNECTING = new Set(['wait', 'connecting', 'connect'])

/**
 * A Cache over Redis (ioredis 5). Keys are `keyPrefix + key`; values go through the serializer.
 * Redis failures never reject a call (unless `failOpen: false`): reads fall back to a small
 * in-memory cache or miss, failed invalidations are queued and replayed, and a circuit breaker
 * stops calling a Redis that keeps failing. Errors are reported as 'error' events; with no
 * 'error' listener, the first one is printed once as a process warning (never thrown).
 *
 * Events: 'error' (Error, credentials redacted), 'breaker' (new state),
 * 'invalidationDropped' (count so far) when the replay queue overflows.
 */
export class RedisCache<V = unknown> extends EventEmitter implements Cache<V>, MetricsSource {
  readonly name: string
  readonly keyPrefix: string
  readonly defaultTtl: number
  readonly commandTimeoutMs: number
  readonly failOpen: boolean

  // #private: kept out of util.inspect / console.log output (the client holds the password).
  readonly #client: Client
  /** What the client was made from (undefined for a client you passed): the password lives here too. */
  readonly #connection: RedisConnectionOptions | undefined
  private readonly ownsClient: boolean
  private readonly isCluster: boolean
  private readonly serializer: Serializer<V>
  private readonly defaultTtlMs: number
  private readonly fallback: Cache<V> | undefined
  private readonly ownsFallback: boolean
  private readonly fallbackTtlMs: number
  /** The fallback may hold entries (written since the last recovery): reads and writes must look at it. */
  private fallbackDirty = false
  private readonly breaker: CircuitBreaker
  private readonly queue: InvalidationQueue
  private readonly batchSize: number
  private readonly redactor: Redactor
  private readonly safeUrl: string
  private readonly flights = new SingleFlight<V>()
  private readonly deadlines: Deadlines
  /** The serializer is the built-in JSON one, which accepts strings. */
  private readonly readsStrings: boolean
  private readonly directCommands: boolean
  private readonly sink: MetricsSink | undefined
  private readonly sampleEvery: number
  private countdown: number
  private hits = 0
  private misses = 0
  private readonly errors: Record<string, number> = Object.create(null)
  private closed = false
  private probeTimer: NodeJS.Timeout | undefined
  private replayTimer: NodeJS.Timeout | undefined
  private probing = false
  private replaying: Promise<void> | undefined
  private readyWaiter: Promise<void> | undefined
  private warnedNoListener = false
  private readonly detachClient: () => void
  /** Timestamps of stale-while-revalidate envelopes (wall time by default: other processes read them). */
  private readonly clock: () => number
  private revalidator: Revalidator<V> | undefined

  constructor(options: RedisCacheOptions<V> = {}) {
    super()
    const o = resolveOptions(options)
    this.name = o.name
    this.keyPrefix = o.keyPrefix
    this.defaultTtl = o.defaultTtl
    this.defaultTtlMs = o.defaultTtlMs
    this.commandTimeoutMs = o.commandTimeoutMs
    this.deadlines = new Deadlines(Math.min(50, Math.max(1, Math.floor(o.commandTimeoutMs / 10))))
    this.failOpen = o.failOpen
    this.serializer = o.serializer
    this.readsStrings = o.serializer === jsonSerializer
    this.batchSize = o.batchSize
    this.safeUrl = o.safeUrl
    this.redactor = new Redactor([o.password, o.redisOptions.password as string | undefined])
    this.breaker = new CircuitBreaker({ failureThreshold: o.breakerThreshold, openMs: o.breakerOpenMs, maxOpenMs: o.breakerMaxOpenMs })
    this.queue = new InvalidationQueue(o.invalidationQueueSize)
    this.fallbackTtlMs = ttlToMs(o.fallbackTtl, 'fallbackTtl')
    if (o.fallback === false) {
      this.fallback = undefined
      this.ownsFallback = false
    } else if (o.fallback !== undefined) {
      this.fallback = o.fallback
      this.ownsFallback = false
    } else {
      this.fallback = new InMemoryLRUCache<V>({ maxsize: o.fallbackMaxsize, defaultTtl: o.fallbackTtl, engine: 'auto', name: `${o.name}:fallback` })
      this.ownsFallback = true
    }
    this.sink = o.metricsSink
    this.sampleEvery = latencySampleInterval(this.sink)
    this.countdown = this.sampleEvery
    this.clock = o.clock

    if (o.client) {
      this.#client = o.client
      this.#connection = undefined
      this.ownsClient = false
    } else {
      this.#client = new Redis(o.redisUrl, ownClientOptions(o.commandTimeoutMs, o.redisOptions))
      this.#connection = { redisUrl: o.redisUrl, redisOptions: o.redisOptions, commandTimeoutMs: o.commandTimeoutMs }
      this.ownsClient = true
    }
    this.isCluster = (this.#client as Cluster).isCluster === true
    const clientOptions = (this.#client as Redis).options
    // Hot paths build their Command themselves only where that is exactly what client.get/set do.
    this.directCommands = !this.isCluster && !clientOptions.keyPrefix && !clientOptions.showFriendlyErrorStack && !clientOptions.enableAutoPipelining
    this.detachClient = this.watchClient()
    this.sink?.attach(this)
  }

  // ---- Cache contract -------------------------------------------------------------------

  /**
   * A value stored by getOrSet with staleTtl/grace (an envelope) reads as its value while fresh
   * and as a miss afterwards, whichever process or instance wrote it.
   */
  get(key: string): Promise<V | undefined> {
    return this.read(key, false)
  }

  /** The stored value, stale-while-revalidate envelopes included (swr.ts and TieredCache read through this). */
  [rawGet](key: string): Promise<unknown> {
    return this.read(key, true)
  }

  private read(key: string, raw: boolean): Promise<V | undefined> {
    try {
      this.assertOpen()
      checkKey(key)
    } catch (err) {
      return Promise.reject(err)
    }
    const fullKey = this.keyPrefix + key
    if (this.breaker.allowsCalls && this.#client.status === 'ready' && (this.queue.isEmpty || !this.queue.blocks(fullKey))) {
      return this.getFromRedis(key, fullKey, raw)
    }
    return this.lookup(key, null, raw)
  }

  /** An envelope as its value while fresh, else a miss; only called for object values (one typeof test on the hot path). */
  private unwrap(value: V & object): V | undefined {
    return isEnvelope(value) ? unwrapFresh<V>(value, this.clock()) : value
  }

  /**
   * The connection this cache opened from `redisUrl` (undefined when you passed `client`), so
   * companions such as TieredCache's invalidation channel can open their own. It carries the
   * credentials: do not log it.
   */
  connectionOptions(): RedisConnectionOptions | undefined {
    const c = this.#connection
    return c && { redisUrl: c.redisUrl, redisOptions: { ...c.redisOptions }, commandTimeoutMs: c.commandTimeoutMs }
  }

  /**
   * get()'s hot path (breaker closed, connection ready): what lookup() does without its async
   * layers, which cost ~30% of raw ioredis throughput. On a plain client it sends the GET
   * Command itself and a timeout rejects that Command (as ioredis' own commandTimeout does), so
   * there is no wrapper promise; otherwise (Cluster, auto-pipelining, client keyPrefix) one
   * wrapper promise. Either way one deadline entry, unlinked when the call settles, and no
   * named closures (tsx's keepNames would wrap each in a defineProperty call).
   */
  private getFromRedis(key: string, fullKey: string, raw: boolean): Promise<V | undefined> {
    const started = this.startTimer()
    const client = this.#client
    if (this.directCommands) {
      const call = this.sendDirect(new Command('get', [fullKey], this.readsStrings ? GET_STRING : GET_BUFFER))
      return (call.request as Promise<string | Buffer | null>).then(
        (bytes) => {
          this.deadlines.settle(call)
          this.succeeded()
          let value = bytes === null ? undefined : this.decode(bytes, 'get')
          if (!raw && typeof value === 'object' && value !== null) value = this.unwrap(value)
          if (value === undefined) this.misses++
          else this.hits++
          this.endTimer('get', started)
          return value
        },
        (err) => {
          this.deadlines.settle(call)
          return this.getFailed(key, err, started, raw)
        },
      )
    }
    return new Promise<V | undefined>((resolve, reject) => {
      const call = new PendingGet<V>(this.commandTimeoutMs, key, raw, started, resolve, reject, this.getTimedOut)
      this.deadlines.add(call)
      try {
        // The JSON serializer reads strings: skip the Buffer round trip.
        ;(this.readsStrings ? client.get(fullKey) : client.getBuffer(fullKey)).then(
          (bytes) => this.onGetReply(call, bytes),
          (err) => {
            if (this.deadlines.settle(call)) call.resolve(this.getFailed(call.key, err, call.started, call.raw))
          },
        )
      } catch (err) {
        if (this.deadlines.settle(call)) call.resolve(this.getFailed(key, err, started, raw))
      }
    })
  }

  private onGetReply(call: PendingGet<V>, bytes: string | Buffer | null): void {
    if (!this.deadlines.settle(call)) return
    this.succeeded()
    let value: V | undefined
    try {
      value = bytes === null ? undefined : this.decode(bytes, 'get')
    } catch (err) {
      call.reject(err)
      return
    }
    if (!call.raw && typeof value === 'object' && value !== null) value = this.unwrap(value)
    if (value === undefined) this.misses++
    else this.hits++
    this.endTimer('get', call.started)
    call.resolve(value)
  }

  /** The deadline sweep's callback for a get that did not answer in time (one arrow per cache). */
  private readonly getTimedOut = (call: PendingGet<V>, err: Error): void => {
    call.resolve(this.getFailed(call.key, err, call.started, call.raw))
  }

  /**
   * Sends a Command on a plain client, bounded by commandTimeoutMs: on timeout the Command itself
   * is rejected (as ioredis' own commandTimeout does). The caller settles the returned deadline
   * entry when `request` settles. sendCommand's promise (not command.promise) keeps ioredis'
   * diagnostics_channel tracing intact.
   */
  private sendDirect(command: Command): PendingCommand {
    const call = new PendingCommand(this.commandTimeoutMs, command)
    this.deadlines.add(call)
    try {
      call.request = (this.#client as Redis).sendCommand(command) as Promise<unknown>
    } catch (err) {
      command.reject(err as Error)
    }
    return call
  }

  /** Redis failed or timed out: count it, emit it, serve the fallback (or reject with failOpen false). */
  private async getFailed(key: string, err: unknown, started: number, raw: boolean): Promise<V | undefined> {
    this.failed('get', err)
    let value: V | undefined = await this.fallbackGet(key)
    if (!raw && typeof value === 'object' && value !== null) value = this.unwrap(value)
    if (value === undefined) this.misses++
    else this.hits++
    this.endTimer('get', started)
    return value
  }

  /** get(); `outcome.redisFailed` tells getOrSet not to spend a second timeout on the set. */
  private async lookup(key: string, outcome: { redisFailed: boolean } | null, raw: boolean): Promise<V | undefined> {
    const started = this.startTimer()
    const fullKey = this.keyPrefix + key
    let value: V | undefined
    if (this.redisServes(fullKey)) {
      let bytes: Buffer | string | null | typeof FAILED
      try {
        // The JSON serializer reads strings: skip the Buffer round trip on the hot path.
        bytes = await (this.readsStrings ? this.run((c) => c.get(fullKey)) : this.run((c) => c.getBuffer(fullKey)))
      } catch (err) {
        if (outcome) outcome.redisFailed = true
        this.failed('get', err)
        bytes = FAILED
      }
      value = bytes === FAILED ? await this.fallbackGet(key) : bytes === null ? undefined : this.decode(bytes, 'get')
    } else {
      value = await this.fallbackGet(key)
    }
    if (!raw && typeof value === 'object' && value !== null) value = this.unwrap(value)
    if (value === undefined) this.misses++
    else this.hits++
    this.endTimer('get', started)
    return value
  }

  set(key: string, value: V, ttl?: number): Promise<void> {
    let ttlMs: number
    let payload: Buffer | string
    try {
      this.assertOpen()
      checkKey(key)
      checkValue(value)
      ttlMs = ttl === undefined ? this.defaultTtlMs : ttlToMs(ttl)
      payload = this.encode(value)
    } catch (err) {
      return Promise.reject(err)
    }
    // Hot path: a plain SET with nothing to clean up in the fallback, without async layers.
    if (this.directCommands && this.breaker.allowsCalls && !this.fallbackDirty && this.#client.status === 'ready') {
      const started = this.startTimer()
      const fullKey = this.keyPrefix + key
      const call = this.sendDirect(new Command('set', ttlMs > 0 ? [fullKey, payload, 'PX', ttlMs] : [fullKey, payload], NO_OPTIONS))
      return call.request.then(
        () => {
          this.deadlines.settle(call)
          this.succeeded()
          this.endTimer('set', started)
        },
        (err) => {
          this.deadlines.settle(call)
          return this.storeFailed(key, fullKey, payload, ttlMs, started, err)
        },
      )
    }
    return this.store(key, payload, ttlMs, false)
  }

  private async store(key: string, payload: Buffer | string, ttlMs: number, skipRedis: boolean): Promise<void> {
    const started = this.startTimer()
    const fullKey = this.keyPrefix + key
    if (this.breaker.allowsCalls && !skipRedis) {
      try {
        await this.run((c) => (ttlMs > 0 ? c.set(fullKey, payload, 'PX', ttlMs) : c.set(fullKey, payload)))
      } catch (err) {
        return this.storeFailed(key, fullKey, payload, ttlMs, started, err)
      }
      if (this.fallbackDirty) await this.fallbackInvalidate(key)
      this.endTimer('set', started)
      return
    }
    this.enqueueInvalidation(fullKey)
    this.skipped()
    await this.fallbackSet(key, payload, ttlMs)
    this.endTimer('set', started)
  }

  /** Redis did not take the value, so what it holds for this key may be older: drop it on recovery. */
  private async storeFailed(key: string, fullKey: string, payload: Buffer | string, ttlMs: number, started: number, err: unknown): Promise<void> {
    this.enqueueInvalidation(fullKey)
    this.failed('set', err)
    await this.fallbackSet(key, payload, ttlMs)
    this.endTimer('set', started)
  }

  async invalidate(key: string): Promise<boolean> {
    this.assertOpen()
    checkKey(key)
    const started = this.startTimer()
    const fullKey = this.keyPrefix + key
    const inFallback = this.fallbackDirty ? await this.fallbackInvalidate(key) : false
    if (this.breaker.allowsCalls) {
      try {
        const removed = await this.run((c) => c.unlink(fullKey))
        this.endTimer('invalidate', started)
        return removed > 0 || inFallback
      } catch (err) {
        this.enqueueInvalidation(fullKey)
        this.failed('invalidate', err)
        this.endTimer('invalidate', started)
        return inFallback
      }
    }
    this.enqueueInvalidation(fullKey)
    this.skipped()
    this.endTimer('invalidate', started)
    // Whether Redis held the key is unknown until the replay; report what we know.
    return inFallback
  }

  async clear(): Promise<void> {
    this.assertOpen()
    const started = this.startTimer()
    if (this.fallback) await this.fallbackClear()
    if (this.breaker.allowsCalls) {
      try {
        await this.clearRedis()
        this.endTimer('clear', started)
        return
      } catch (err) {
        this.queue.addClear()
        this.failed('clear', err)
        this.endTimer('clear', started)
        return
      }
    }
    this.queue.addClear()
    this.skipped()
    this.endTimer('clear', started)
  }

  async has(key: string): Promise<boolean> {
    this.assertOpen()
    checkKey(key)
    const started = this.startTimer()
    const fullKey = this.keyPrefix + key
    let found: boolean
    if (this.redisServes(fullKey)) {
      try {
        found = (await this.run((c) => c.exists(fullKey))) > 0
      } catch (err) {
        this.failed('has', err)
        found = await this.fallbackHas(key)
      }
    } else {
      found = await this.fallbackHas(key)
    }
    this.endTimer('has', started)
    return found
  }

  /** Envelopes read as in get(). */
  getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    return this.readMany(keys, false)
  }

  /** getMany without envelope unwrapping (TieredCache fills its L1 with what L2 holds). */
  [rawGetMany](keys: readonly string[]): Promise<unknown[]> {
    return this.readMany(keys, true)
  }

  private async readMany(keys: readonly string[], keepEnvelopes: boolean): Promise<(V | undefined)[]> {
    this.assertOpen()
    checkKeys(keys)
    if (keys.length === 0) return []
    const started = this.startTimer()
    const fullKeys = keys.map((k) => this.keyPrefix + k)
    let raw: (Buffer | null)[] | undefined
    if (this.breaker.allowsCalls) {
      try {
        raw = await this.mget(fullKeys)
      } catch (err) {
        this.failed('getMany', err)
      }
    } else {
      this.skipped()
    }
    const values: (V | undefined)[] = new Array(keys.length)
    for (let i = 0; i < keys.length; i++) {
      let value: V | undefined
      if (raw !== undefined && (this.queue.isEmpty || !this.queue.blocks(fullKeys[i]))) {
        const bytes = raw[i]
        value = bytes === null ? undefined : this.decode(bytes, 'getMany')
      } else {
        value = await this.fallbackGet(keys[i])
      }
      if (!keepEnvelopes && typeof value === 'object' && value !== null) value = this.unwrap(value)
      if (value === undefined) this.misses++
      else this.hits++
      values[i] = value
    }
    this.endTimer('getMany', started)
    return values
  }

  async setMany(entries: readonly (readonly [string, V, number?])[]): Promise<void> {
    this.assertOpen()
    // Validate and encode everything before writing anything.
    const ttls = checkEntries(entries, this.defaultTtlMs)
    const prepared = entries.map(([key, value], i) => ({ key, fullKey: this.keyPrefix + key, payload: this.encode(value), ttlMs: ttls[i] }))
    if (prepared.length === 0) return
    const started = this.startTimer()
    if (this.breaker.allowsCalls) {
      try {
        await this.mset(prepared)
        if (this.fallbackDirty) for (const p of prepared) await this.fallbackInvalidate(p.key)
        this.endTimer('setMany', started)
        return
      } catch (err) {
        for (const p of prepared) this.enqueueInvalidation(p.fullKey)
        this.failed('setMany', err)
      }
    } else {
      for (const p of prepared) this.enqueueInvalidation(p.fullKey)
      this.skipped()
    }
    for (const p of prepared) await this.fallbackSet(p.key, p.payload, p.ttlMs)
    this.endTimer('setMany', started)
  }

  /**
   * The cached value, or `load()`'s result stored with `ttl`. Concurrent callers of one key in
   * this process share one lookup and one load (not a distributed lock). A rejection of `load`
   * propagates and is not cached; an `undefined` result is returned uncached.
   *
   * `ttlOrOptions`: seconds, or { ttl, staleTtl, grace } (stale-while-revalidate and grace, see
   * swr.ts): the value is stored as an envelope that other processes read the same way.
   */
  async getOrSet(key: string, load: () => Promise<V> | V, ttlOrOptions?: TtlOrOptions): Promise<V> {
    this.assertOpen()
    checkKey(key)
    checkLoader(load)
    const options = resolveGetOrSetOptions(ttlOrOptions)
    const started = this.startTimer()
    if (options.swr) {
      this.revalidator ??= new Revalidator<V>({ clock: this.clock, onError: (err) => this.emitError(err instanceof Error ? err : new Error(String(err))) })
      const value = await this.revalidator.getOrSet(this.swrStore, key, load, options, this.defaultTtl)
      this.endTimer('getOrSet', started)
      return value
    }
    const ttlMs = options.ttl === undefined ? this.defaultTtlMs : ttlToMs(options.ttl)
    const value = await this.flights.run(key, async () => {
      const outcome = { redisFailed: false }
      const cached = await this.lookup(key, outcome, false)
      if (cached !== undefined) return cached
      const loaded = await load()
      if (loaded === undefined || this.closed) return loaded
      checkValue(loaded)
      // When the read just failed, Redis is not tried again for the write: one timeout per call at most.
      await this.store(key, this.encode(loaded), ttlMs, outcome.redisFailed)
      return loaded
    })
    this.endTimer('getOrSet', started)
    return value
  }

  /** Where getOrSet's stale-while-revalidate envelopes live: raw reads, plain writes (skipped once closed). */
  private readonly swrStore: SwrStore = {
    read: (key) => this.read(key, true),
    write: async (key, value, ttlSeconds) => {
      if (!this.closed) await this.set(key, value as V, ttlSeconds)
    },
  }

  /**
   * hits/misses are counted here. Redis expires and evicts on its own, invisibly to this
   * process, so evictions and expirations are 0, and size/maxsize are 0 (unknown without a scan).
   */
  stats(): CacheStats {
    this.assertOpen()
    return new CacheStats({ hits: this.hits, misses: this.misses, evictions: 0, expirations: 0, size: 0, maxsize: 0 })
  }

  /** Errors per operation, plus 'connection' (client errors) and 'replay' (failed invalidation replays). */
  errorCounts(): Readonly<Record<string, number>> {
    return { ...this.errors }
  }

  health(): RedisCacheHealth {
    return {
      breaker: this.breaker.state,
      connected: this.#client.status === 'ready',
      pendingInvalidations: this.queue.size,
      droppedInvalidations: this.queue.dropped,
      breakerOpened: this.breaker.opened,
    }
  }

  /** Closes the connection this cache opened (a `client` you passed stays open) and the default fallback. */
  async close(): Promise<void> {
    if (this.closed) return
    // Detach first: the sink reads the final stats() so no count is lost.
    this.sink?.detach?.(this)
    this.closed = true
    if (this.probeTimer) clearTimeout(this.probeTimer)
    if (this.replayTimer) clearTimeout(this.replayTimer)
    this.probeTimer = this.replayTimer = undefined
    this.detachClient()
    if (this.ownsClient) {
      const client = this.#client
      try {
        if (client.status === 'ready') await withTimeout(client.quit(), this.commandTimeoutMs)
      } catch {
        // fall through to a hard disconnect
      }
      client.disconnect()
    }
    this.deadlines.stop()
    if (this.ownsFallback) await this.fallback!.close()
  }

  [inspect.custom](): string {
    return `RedisCache { name: ${JSON.stringify(this.name)}, url: ${JSON.stringify(this.ownsClient ? this.safeUrl : '(client)')}, keyPrefix: ${JSON.stringify(this.keyPrefix)}, breaker: ${this.breaker.state} }`
  }

  // ---- Redis calls ------------------------------------------------------------------------

  /** True when this key may be read from Redis: the breaker is closed and no invalidation of it is pending. */
  private redisServes(fullKey: string): boolean {
    if (!this.breaker.allowsCalls) {
      this.skipped()
      return false
    }
    return this.queue.isEmpty || !this.queue.blocks(fullKey)
  }

  /**
   * One bounded round trip: waits for a connection still being made (within the budget),
   * fails fast when disconnected, and rejects after commandTimeoutMs in any case.
   */
  private run<T>(command: (client: Client) => Promise<T>, target: Client = this.#client): Promise<T> {
    if (target === this.#client && target.status !== 'ready') return this.runWhenReady(command)
    return this.deadlines.track(command(target), this.commandTimeoutMs, this.succeeded)
  }

  private async runWhenReady<T>(command: (client: Client) => Promise<T>): Promise<T> {
    const client = this.#client
    const deadline = performance.now() + this.commandTimeoutMs
    // With the offline queue off, ioredis would reject at once; a connection being made is worth its budget.
    if (!CONNECTING.has(client.status)) throw new Error(`redis connection is ${client.status}`)
    await this.waitForReady(deadline)
    const remaining = Math.max(1, deadline - performance.now())
    return this.deadlines.track(command(client), remaining, this.succeeded)
  }

  /** Bookkeeping after any successful command (an arrow: passed to then() without a closure per call). */
  private readonly succeeded = (): void => {
    this.breaker.recordSuccess()
    if (!this.queue.isEmpty && this.breaker.allowsCalls && this.replaying === undefined) this.replayInBackground()
  }

  private waitForReady(deadline: number): Promise<void> {
    const client = this.#client
    if (client.status === 'wait') client.connect().catch(() => {})
    this.readyWaiter ??= new Promise<void>((resolve) => {
      client.once('ready', () => {
        this.readyWaiter = undefined
        resolve()
      })
    })
    return withTimeout(this.readyWaiter, Math.max(1, deadline - performance.now()), 'waiting for the redis connection')
  }

  private async mget(fullKeys: string[]): Promise<(Buffer | null)[]> {
    if (!this.isCluster) return this.run((c) => c.mgetBuffer(...fullKeys))
    // Cluster: one MGET per hash slot, in parallel.
    const out: (Buffer | null)[] = new Array(fullKeys.length)
    await Promise.all(
      groupBySlot(fullKeys).map(async (indexes) => {
        const values = await this.run((c) => c.mgetBuffer(...indexes.map((i) => fullKeys[i])))
        indexes.forEach((index, j) => (out[index] = values[j]))
      }),
    )
    return out
  }

  private async mset(prepared: { fullKey: string; payload: Buffer | string; ttlMs: number }[]): Promise<void> {
    // One MULTI per slot (all of them on a single Redis): atomic, one round trip, per-key PX.
    const groups = this.isCluster ? groupBySlot(prepared.map((p) => p.fullKey)) : [prepared.map((_, i) => i)]
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

  /** SCAN + UNLINK of every key under the prefix, on every master of a Cluster. */
  private async clearRedis(): Promise<void> {
    const nodes = this.isCluster ? (this.#client as Cluster).nodes('master') : [this.#client as Redis]
    await Promise.all(
      nodes.map((node) =>
        scanAndUnlink(node, this.keyPrefix, this.batchSize, this.isCluster, (command) => this.run(command as (c: Client) => Promise<never>, node)),
      ),
    )
  }

  // ---- failures, breaker, replay -------------------------------------------------------------

  /** Records a failed Redis call; with failOpen false, rethrows it as CacheUnavailableError. */
  private failed(op: string, err: unknown): void {
    this.errors[op] = (this.errors[op] ?? 0) + 1
    const error = new CacheUnavailableError(
      `redis ${op} failed for cache "${this.name}": ${this.redactor.text(err instanceof Error ? err.message : String(err))}`,
      { cause: this.redactor.error(err) },
    )
    if (this.breaker.recordFailure()) this.onBreakerOpened()
    this.emitError(error)
    if (!this.failOpen) throw error
  }

  /** A call that did not try Redis because the breaker is open. */
  private skipped(): void {
    if (!this.failOpen) throw new CacheUnavailableError(`redis is unavailable for cache "${this.name}" (circuit breaker ${this.breaker.state})`)
  }

  private onBreakerOpened(): void {
    this.emit('breaker', this.breaker.state)
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
    this.emit('breaker', 'half-open')
    try {
      await this.run((c) => c.ping())
      await this.replayAll()
      // Entries written to the fallback during the outage were invalidated in Redis by the
      // replay; drop them here too so a later blip cannot serve them.
      if (this.fallbackDirty) await this.fallbackClear()
      this.breaker.probeSucceeded()
      this.emit('breaker', 'closed')
    } catch {
      this.errors.probe = (this.errors.probe ?? 0) + 1
      this.breaker.probeFailed()
      this.emit('breaker', 'open')
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
            await this.clearRedis()
            this.queue.clearDone(clearGeneration)
            continue
          }
          const batch = this.queue.peek(this.batchSize)
          await unlinkKeys(batch.keys, this.isCluster, (command) => this.run(command as (c: Client) => Promise<never>))
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
      this.errors.replay = (this.errors.replay ?? 0) + 1
      if (this.breaker.recordFailure()) this.onBreakerOpened()
      else this.scheduleReplay()
      this.emitError(new CacheUnavailableError(`redis invalidation replay failed for cache "${this.name}": ${this.redactor.text(String((err as Error)?.message ?? err))}`, { cause: this.redactor.error(err) }))
    })
  }

  private enqueueInvalidation(fullKey: string): void {
    const dropped = this.queue.add(fullKey)
    if (dropped !== undefined) this.emit('invalidationDropped', this.queue.dropped)
    if (this.breaker.state === 'open') this.scheduleProbe()
    else this.scheduleReplay()
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

  /** 'error' events never crash the process: without a listener, the first error becomes one process warning. */
  private emitError(error: Error): void {
    if (this.listenerCount('error') > 0) {
      this.emit('error', error)
    } else if (!this.warnedNoListener) {
      this.warnedNoListener = true
      process.emitWarning(`${error.message} (further errors of cache "${this.name}" are only counted; listen to its 'error' event to see them)`, {
        type: 'RedisCacheWarning',
        code: 'ASTRA_CACHE_REDIS_ERROR',
      })
    }
  }

  /** Follows the connection: a lost connection opens the breaker at once; 'ready' probes at once. */
  private watchClient(): () => void {
    const client = this.#client
    const onReady = () => {
      if (this.breaker.state === 'open') {
        if (this.probeTimer) clearTimeout(this.probeTimer)
        this.probeTimer = undefined
        void this.probe()
      }
    }
    const onClose = () => {
      if (this.closed) return
      if (this.breaker.state === 'closed') {
        this.breaker.open()
        this.onBreakerOpened()
      }
    }
    // Client errors: only on a client we own (a listener on yours would change how ioredis reports them).
    const onError = (err: Error) => {
      if (this.closed) return
      this.errors.connection = (this.errors.connection ?? 0) + 1
      this.emitError(new CacheUnavailableError(`redis connection error for cache "${this.name}" (${this.safeUrl}): ${this.redactor.text(err.message)}`, { cause: this.redactor.error(err) }))
    }
    // Many caches may share one client: raise its listener limit by what we add, so Node does not warn.
    const added = this.ownsClient ? 3 : 2
    if (client.getMaxListeners() !== 0) client.setMaxListeners(client.getMaxListeners() + added)
    client.on('ready', onReady)
    client.on('close', onClose)
    if (this.ownsClient) client.on('error', onError)
    return () => {
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

  // ---- serialization and fallback ----------------------------------------------------------

  private encode(value: V): Buffer | string {
    try {
      return this.serializer.serialize(value)
    } catch (err) {
      if (err instanceof CacheError) throw err
      throw new CacheSerializationError(`serializer cannot store this value: ${(err as Error)?.message ?? String(err)}`, { cause: err })
    }
  }

  /** Undecodable bytes (another writer, another serializer) are reported and read as a miss. */
  private decode(bytes: Buffer | string, op: string): V | undefined {
    try {
      return this.serializer.deserialize(bytes as Buffer)
    } catch (err) {
      this.errors[op] = (this.errors[op] ?? 0) + 1
      const error = err instanceof CacheSerializationError ? err : new CacheSerializationError(`serializer cannot read a stored value: ${(err as Error)?.message ?? String(err)}`, { cause: err })
      this.emitError(error)
      if (!this.failOpen) throw error
      return undefined
    }
  }

  private async fallbackGet(key: string): Promise<V | undefined> {
    if (!this.fallbackDirty) return undefined
    return this.guardFallback(() => this.fallback!.get(key), undefined)
  }

  private async fallbackHas(key: string): Promise<boolean> {
    if (!this.fallbackDirty) return false
    return this.guardFallback(() => this.fallback!.has(key), false)
  }

  /** Stores a copy decoded from the payload (Redis would have returned a copy too), TTL capped at fallbackTtl. */
  private async fallbackSet(key: string, payload: Buffer | string, ttlMs: number): Promise<void> {
    if (!this.fallback || !this.failOpen) return
    const cappedMs = ttlMs === 0 ? this.fallbackTtlMs : Math.min(ttlMs, this.fallbackTtlMs)
    this.fallbackDirty = true
    await this.guardFallback(async () => {
      const copy = this.serializer.deserialize(typeof payload === 'string' ? Buffer.from(payload) : payload)
      await this.fallback!.set(key, copy, cappedMs / 1000)
    }, undefined)
  }

  private async fallbackInvalidate(key: string): Promise<boolean> {
    if (!this.fallback) return false
    return this.guardFallback(() => this.fallback!.invalidate(key), false)
  }

  private async fallbackClear(): Promise<void> {
    await this.guardFallback(() => this.fallback!.clear(), undefined)
    this.fallbackDirty = false
  }

  /** A failing fallback must not fail the call either. */
  private async guardFallback<T>(fn: () => Promise<T>, otherwise: T): Promise<T> {
    if (!this.fallback) return otherwise
    try {
      return await fn()
    } catch (err) {
      this.errors.fallback = (this.errors.fallback ?? 0) + 1
      this.emitError(err instanceof Error ? err : new Error(String(err)))
      return otherwise
    }
  }

  // ---- metrics ------------------------------------------------------------------------------

  private startTimer(): number {
    if (this.sampleEvery === 0) return -1
    if (--this.countdown > 0) return -1
    this.countdown = this.sampleEvery
    return performance.now()
  }

  private endTimer(op: CacheOp, started: number): void {
    if (started >= 0) this.sink!.observeLatency!(this.name, op, performance.now() - started)
  }

  private assertOpen(): void {
    if (this.closed) throw new CacheClosedError(this.name)
  }
}

const FAILED: unique symbol = Symbol('failed')

/** Command options of client.get() and client.getBuffer(). */
const GET_STRING = { replyEncoding: 'utf8' as const }
const GET_BUFFER = { replyEncoding: null }

/** Options for a Command with Buffer replies (ioredis only reads them: shared). */
const NO_OPTIONS = {}

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

/** A get in flight on the hot path: its deadline entry and what settles it. */
class PendingGet<V> implements Deadline {
  prev: Deadline | null = null
  next: Deadline | null = null
  linked = false
  readonly at: number
  constructor(
    readonly ms: number,
    readonly key: string,
    /** rawGet: envelopes are returned as stored. */
    readonly raw: boolean,
    readonly started: number,
    readonly resolve: (value: V | undefined | Promise<V | undefined>) => void,
    readonly reject: (err: unknown) => void,
    private readonly onTimeout: (call: PendingGet<V>, err: Error) => void,
  ) {
    this.at = performance.now() + ms
  }

  expire(err: Error): void {
    this.onTimeout(this, err)
  }
}

/** Redis keys are UTF-8 bytes: a lone surrogate would be replaced by U+FFFD and collide with another key. */
function checkKey(key: unknown): asserts key is string {
  checkAnyKey(key)
  if (!(key as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    throw new CacheKeyError(`key ${describe(key)} contains a lone UTF-16 surrogate, which Redis (UTF-8) cannot store distinctly`)
  }
}

function checkKeys(keys: unknown): asserts keys is readonly string[] {
  checkAnyKeys(keys)
  for (const key of keys) checkKey(key)
}

export { TimeoutError }
