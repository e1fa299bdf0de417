/**
 * RedisCache's store: the Cache operations as Redis commands (commands.ts) under the
 * resilience rules (resilience.ts): a key is read from Redis when the breaker is closed and no
 * invalidation of it is pending, else from the fallback; a write Redis did not take queues an
 * invalidation (what Redis holds may be older) and goes to the fallback. A value a read-through
 * loaded (a fill) is a read, not an update: when Redis does not take it, it goes to the fallback
 * only, and Redis keeps its own copy. Keys are `keyPrefix + key`; values go through the serializer.
 */
import { CacheOptionError, CacheSerializationError } from '../errors'
import { StoreLink, type AsyncStore, type ReadFailure, type StoreOwner, type StoreStats, type StoreTraits, type WriteOrigin } from '../facade/store'
import { jsonSerializer, notStoredError, type Serializer } from '../serializer'
import { ttlToMs } from '../validate'
import { RedisCommands, type PreparedSet } from './commands'
import { RedisConnection } from './connection'
import { RedisFallback } from './fallback'
import type { ResolvedRedisCacheOptions } from './options'
import { Redactor } from './redact'
import { Resilience } from './resilience'

const TRAITS: StoreTraits = Object.freeze({ sync: false, countsLookups: false, sharedEnvelopes: true, wellFormedKeys: true })
const UNKNOWN_SIZE: StoreStats = Object.freeze({ evictions: 0, expirations: 0, size: 0, maxsize: 0 })

export class RedisStore<V> implements AsyncStore<V> {
  readonly traits = TRAITS
  readonly connection: RedisConnection
  readonly resilience: Resilience
  readonly fallback: RedisFallback<V>
  readonly commands: RedisCommands
  private readonly link = new StoreLink()
  /** The clear() in flight, if any: calls issued meanwhile wait for it (see clear()). */
  private clearing: Promise<void> | undefined
  private readonly keyPrefix: string
  private readonly serializer: Serializer<V>
  private readonly failOpen: boolean
  private readonly batchSize: number

  constructor(o: ResolvedRedisCacheOptions<V>) {
    this.keyPrefix = o.keyPrefix
    this.serializer = o.serializer
    this.failOpen = o.failOpen
    this.batchSize = o.batchSize
    const owner = () => this.link.owner
    this.connection = new RedisConnection(o as ResolvedRedisCacheOptions<unknown>)
    this.fallback = new RedisFallback<V>({ given: o.fallback, maxsize: o.fallbackMaxsize, ttlMs: ttlToMs(o.fallbackTtl, 'fallbackTtl'), name: o.name, serializer: o.serializer }, owner)
    const redactor = new Redactor([o.password, o.redisOptions.password as string | undefined, o.redisOptions.sentinelPassword as string | undefined])
    this.resilience = new Resilience(o as ResolvedRedisCacheOptions<unknown>, this.connection, this.fallback as RedisFallback<unknown>, redactor, owner)
    this.commands = new RedisCommands(this.connection, o.commandTimeoutMs, o.serializer === jsonSerializer, this.resilience.succeeded)
    this.resilience.start(this.commands)
  }

  attach(owner: StoreOwner): void {
    this.link.attach(owner)
  }

  get(key: string, failure?: ReadFailure): Promise<unknown> {
    return this.getThen(key, same, failure)
  }

  /** The one read of a key: from Redis when it serves the key, else (or when Redis fails) from the fallback. */
  getThen<R>(key: string, map: (raw: unknown) => R, failure?: ReadFailure): Promise<R> {
    if (this.clearing !== undefined) return this.afterClear(() => this.getThen(key, map, failure))
    const fullKey = this.keyPrefix + key
    if (!this.resilience.serves(fullKey)) {
      // Not read from Redis: a value loaded after this miss is not written there either.
      if (failure) failure.failed = true
      return this.fallback.get(key).then(map)
    }
    return this.commands.get(
      fullKey,
      (bytes) => map(bytes === null ? undefined : this.decode(bytes, 'get')),
      (err) => {
        if (failure) failure.failed = true
        this.resilience.failed('get', err)
        return this.fallback.get(key).then(map)
      },
    )
  }

  set(key: string, value: unknown, ttlMs: number, origin?: WriteOrigin): Promise<void> {
    if (this.clearing !== undefined) return this.afterClear(() => this.set(key, value, ttlMs, origin))
    // Encoded before anything is sent: a value the serializer cannot carry fails here, at set.
    const payload = this.encode(value as V, key)
    const fullKey = this.keyPrefix + key
    const resilience = this.resilience
    // A fill is a read, not an update: if Redis does not take it, what Redis holds is as good
    // as before, so nothing is queued for removal there; its failures are reported, never thrown.
    const fill = origin !== undefined
    const issued = fill ? 0 : resilience.stamp()
    // After a failed read, Redis is not tried again for the write: one timeout per call at most.
    if (origin === 'fill-after-failure' || !resilience.allowsCalls) {
      if (!fill) resilience.invalidateLater(fullKey, issued)
      resilience.skipped(!fill)
      return this.toFallback(key, payload, ttlMs)
    }
    if (!fill) resilience.supersede(fullKey, issued)
    return this.commands.set<Promise<void> | void>(
      fullKey,
      payload,
      ttlMs,
      () => {
        if (!fill) resilience.supersede(fullKey, issued)
        return this.fallback.dirty ? this.fallback.invalidate(key).then(nothing) : undefined
      },
      (err) => {
        if (!fill) resilience.invalidateLater(fullKey, issued)
        resilience.failed('set', err, !fill)
        return this.toFallback(key, payload, ttlMs)
      },
    ) as Promise<void>
  }

  async delete(key: string): Promise<boolean> {
    if (this.clearing !== undefined) return this.afterClear(() => this.delete(key))
    const fullKey = this.keyPrefix + key
    const issued = this.resilience.stamp()
    // The UNLINK is sent before anything is awaited, so it reaches Redis in the order the calls were made.
    const inFallback = this.fallback.invalidate(key)
    if (this.resilience.allowsCalls) {
      try {
        const removed = await this.commands.unlink(fullKey)
        return (await inFallback) || removed > 0
      } catch (err) {
        this.resilience.invalidateLater(fullKey, issued)
        this.resilience.failed('invalidate', err)
        return inFallback
      }
    }
    this.resilience.invalidateLater(fullKey, issued)
    this.resilience.skipped()
    // Whether Redis held the key is unknown until the replay; report what we know.
    return inFallback
  }

  /**
   * SET NX then GET in one MULTI: what `key` holds afterwards (`value` when it was stored), or
   * undefined when Redis could not be asked (breaker open, the call failed, or an invalidation
   * of the key is pending). Never the fallback: the answer must be Redis' own.
   */
  async setIfAbsent(key: string, value: V, ttlMs: number): Promise<V | undefined> {
    if (this.clearing !== undefined) return this.afterClear(() => this.setIfAbsent(key, value, ttlMs))
    const payload = this.encode(value, key)
    const fullKey = this.keyPrefix + key
    if (!this.resilience.serves(fullKey)) return undefined
    let stored: Buffer | null
    try {
      stored = await this.commands.setIfAbsent(fullKey, payload, ttlMs)
    } catch (err) {
      this.resilience.failed('setIfAbsent', err)
      return undefined
    }
    return stored === null ? undefined : (this.decode(stored, 'setIfAbsent') as V | undefined)
  }

  async has(key: string): Promise<boolean> {
    if (this.clearing !== undefined) return this.afterClear(() => this.has(key))
    const fullKey = this.keyPrefix + key
    if (!this.resilience.serves(fullKey)) return this.fallback.has(key)
    try {
      return (await this.commands.exists(fullKey)) > 0
    } catch (err) {
      this.resilience.failed('has', err)
      return this.fallback.has(key)
    }
  }

  /**
   * The TTL left of each key in Redis (0: no expiry; undefined: absent, or not asked while the
   * breaker is open, or the PTTL failed: the caller's own read reports failures).
   */
  remainingTtls(keys: readonly string[]): Promise<(number | undefined)[]> {
    if (!this.resilience.allowsCalls) return Promise.resolve(keys.map(() => undefined))
    return Promise.all(keys.map((key) => this.commands.pttl(this.keyPrefix + key).then(leftOfPttl, () => undefined)))
  }

  /**
   * A clear takes several round trips (SCAN, UNLINK): calls issued while it runs wait for it, so
   * a read issued after it sees none of the old keys and a write issued after it is not removed
   * by its UNLINKs. Each of its commands is bounded by the command timeout.
   */
  clear(): Promise<void> {
    // SCAN MATCH * would remove every key of the database: queues, sessions, other caches.
    if (this.keyPrefix === '') {
      throw new CacheOptionError("clear() is refused with keyPrefix '': it would remove every key of the Redis database, not only this cache's. Give the cache a keyPrefix (such as 'app:cache:'), or run FLUSHDB yourself if that is what you mean")
    }
    if (this.clearing !== undefined) return this.afterClear(() => this.clear())
    const clearing = this.clearNow().finally(() => {
      if (this.clearing === clearing) this.clearing = undefined
    })
    this.clearing = clearing
    return clearing
  }

  /** Runs `call` once the clear in flight is done (its failure is the clear's caller's, not this call's). */
  private afterClear<R>(call: () => Promise<R>): Promise<R> {
    return (this.clearing as Promise<void>).then(call, call)
  }

  private async clearNow(): Promise<void> {
    // The first SCAN is sent before anything is awaited (issue order, as in delete()).
    const fallbackCleared = this.fallback.clear()
    if (this.resilience.allowsCalls) {
      try {
        await this.commands.clearPrefix(this.keyPrefix, this.batchSize)
      } catch (err) {
        this.resilience.clearLater()
        this.resilience.failed('clear', err)
      } finally {
        await fallbackCleared
      }
      return
    }
    this.resilience.clearLater()
    await fallbackCleared
    this.resilience.skipped()
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    if (this.clearing !== undefined) return this.afterClear(() => this.getMany(keys))
    const fullKeys = keys.map((k) => this.keyPrefix + k)
    let raw: (Buffer | null)[] | undefined
    if (this.resilience.allowsCalls) {
      try {
        raw = await this.commands.mget(fullKeys)
      } catch (err) {
        this.resilience.failed('getMany', err)
      }
    } else {
      this.resilience.skipped()
    }
    const queue = this.resilience.queue
    const values: unknown[] = new Array(keys.length)
    for (let i = 0; i < keys.length; i++) {
      if (raw !== undefined && (queue.isEmpty || !queue.blocks(fullKeys[i]))) {
        const bytes = raw[i]
        values[i] = bytes === null ? undefined : this.decode(bytes, 'getMany')
      } else {
        values[i] = await this.fallback.get(keys[i])
      }
    }
    return values
  }

  setMany(entries: readonly (readonly [string, V, ...unknown[]])[], ttlsMs: readonly number[]): Promise<void> {
    // Every value is encoded before anything is written.
    const prepared = entries.map(([key, value], i) => ({ key, fullKey: this.keyPrefix + key, payload: this.encode(value, key), ttlMs: ttlsMs[i] }))
    return this.writeMany(prepared)
  }

  /** Redis expires and evicts on its own, invisibly to this process: evictions, expirations, size and maxsize are 0 (unknown without a scan). */
  stats(): StoreStats {
    return UNKNOWN_SIZE
  }

  async close(): Promise<void> {
    this.resilience.close()
    await this.connection.close(this.commands.timeoutMs)
    this.commands.stop()
    await this.fallback.close()
  }

  private async writeMany(prepared: (PreparedSet & { key: string })[]): Promise<void> {
    if (this.clearing !== undefined) return this.afterClear(() => this.writeMany(prepared))
    const resilience = this.resilience
    const issued = resilience.stamp()
    if (resilience.allowsCalls) {
      for (const p of prepared) resilience.supersede(p.fullKey, issued)
      try {
        await this.commands.mset(prepared)
        for (const p of prepared) resilience.supersede(p.fullKey, issued)
        for (const p of prepared) await this.fallback.invalidate(p.key)
        return
      } catch (err) {
        for (const p of prepared) resilience.invalidateLater(p.fullKey, issued)
        resilience.failed('setMany', err)
      }
    } else {
      for (const p of prepared) resilience.invalidateLater(p.fullKey, issued)
      resilience.skipped()
    }
    for (const p of prepared) await this.toFallback(p.key, p.payload, p.ttlMs)
  }

  /** With failOpen false a failed write rejects instead: nothing is kept aside. */
  private toFallback(key: string, payload: Buffer | string, ttlMs: number): Promise<void> {
    return this.failOpen ? this.fallback.set(key, payload, ttlMs) : Promise.resolve()
  }

  private encode(value: V, key: string): Buffer | string {
    try {
      return this.serializer.serialize(value)
    } catch (err) {
      throw notStoredError(err, key)
    }
  }

  /** Undecodable bytes (another writer, another serializer) are reported and read as a miss. */
  private decode(bytes: Buffer | string, op: string): unknown {
    try {
      return this.serializer.deserialize(bytes as Buffer)
    } catch (err) {
      const error = err instanceof CacheSerializationError ? err : new CacheSerializationError(`serializer cannot read a stored value: ${(err as Error)?.message ?? String(err)}`, { cause: err })
      this.link.owner.reportError(error, op)
      if (!this.failOpen) throw error
      return undefined
    }
  }
}

function nothing(): void {}

function same<T>(value: T): T {
  return value
}

function leftOfPttl(ms: number): number | undefined {
  if (ms === -1) return 0
  return ms >= 0 ? Math.max(1, ms) : undefined
}
