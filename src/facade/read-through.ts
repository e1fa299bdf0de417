/**
 * getOrSet, written once: the facade's getOrSet, cached() and the public Revalidator all run
 * this over their own store.
 *
 * - Concurrent callers of one key share one lookup (on an asynchronous store) and one load.
 * - A fresh value (or a plain one) is returned. With staleTtl, a stale value is returned at
 *   once while one background load refreshes it; with grace, an expired value is returned when
 *   the load fails. Otherwise the caller waits for the load; a rejection is not cached.
 * - The loaded value is written off the callers' path: they get it as soon as the loader
 *   resolves, and the write's failure goes to the store's own error channel. The write is told
 *   whether the lookup failed, so it does not try a failing backend again.
 * - The loader gets a context (loader-context.ts): the old value of an envelope it refreshes,
 *   setTtl for the value it returns, and a signal aborted by the hard timeout. The timeouts of
 *   the call that starts a load apply to it: after `soft` ms, callers that hold a graced value
 *   get it and the load goes on (its result is stored); after `hard` ms, the flight is released,
 *   its callers reject with CacheLoaderTimeoutError (a graced value is served instead, as for any
 *   failed load) and its late result is not stored. A fresh value never costs a context or a timer.
 */
import type { Loader } from '../contract/cache'
import { isEnvelope, makeEnvelope, phaseOf, type SwrEnvelope } from './envelope'
import type { ResolvedGetOrSetOptions } from './get-or-set-options'
import type { FillTickets } from './fill-tickets'
import { LoaderRun } from './loader-context'
import { realTimers, type LoaderTimers } from './loader-timers'
import { SingleFlight } from './single-flight'
import type { ReadFailure, WriteOrigin } from './store'

/** Where getOrSet reads and writes. */
export interface LoadStore {
  /** read() answers synchronously: no shared lookup is needed. */
  readonly sync: boolean
  /** The stored value, envelopes included; fills `failure` when the backend could not be read. */
  read(key: string, failure: ReadFailure | undefined): unknown
  /**
   * Stores a loaded value; `ttlMs` undefined: the store's default. Reports its own failures
   * (must not throw or reject).
   */
  write(key: string, value: unknown, ttlMs: number | undefined, origin: WriteOrigin): Promise<void> | void
  /** How a lookup was judged: an entry was `found`, and it was served (`hit`) without waiting for a load. */
  lookedUp?(found: boolean, hit: boolean): void
  /** The cache's tickets: a load whose key is written meanwhile does not store its result (fill-tickets.ts). */
  readonly fills?: FillTickets
}

export interface ReadThroughOptions {
  /** ms clock of the envelopes' timestamps. */
  clock: () => number
  /** Failures nobody awaits: a background refresh, or a load whose grace value was served instead. */
  onError: (error: unknown, key: string) => void
  /** Timers of the loader timeouts; default: real, unref'd ones. */
  timers?: LoaderTimers
}

/** One read of the store, shared by the callers that asked at once (and counted once). */
interface Lookup {
  raw: unknown
  failed: boolean
  counted: boolean
}

export class ReadThrough<V> {
  private readonly loads = new SingleFlight<V>()
  private readonly reads = new SingleFlight<Lookup>()
  private readonly clock: () => number
  private readonly onError: (error: unknown, key: string) => void
  private readonly timers: LoaderTimers
  /** The soft deadline of the load in flight per key, when it has one. */
  private readonly softDeadlines = new Map<string, Promise<void>>()

  constructor(options: ReadThroughOptions) {
    this.clock = options.clock
    this.onError = options.onError
    this.timers = options.timers ?? realTimers
  }

  /** Loads (refreshes included) running or being written now. */
  get loading(): number {
    return this.loads.size
  }

  /** The value of `key`: stored, or loaded (see the top of this file). A synchronous store may answer at once. */
  run(store: LoadStore, key: string, load: Loader<V>, options: ResolvedGetOrSetOptions, defaultTtlMs: number): Promise<V> | V {
    // A load in flight means the value was missing: join it rather than look again (with
    // staleTtl a running refresh must not hold up a caller who can be served the stale value).
    if (!options.swr) {
      const pending = this.loads.pending(key)
      if (pending !== undefined) return pending
    }
    if (store.sync) return this.decide(store, key, load, options, defaultTtlMs, { raw: store.read(key, undefined), failed: false, counted: false })
    return this.reads.run(key, () => lookUp(store, key)).then((lookup) => this.decide(store, key, load, options, defaultTtlMs, lookup))
  }

  /** The envelope for `value` written now, and the physical TTL covering its windows. */
  envelope(value: V, options: ResolvedGetOrSetOptions, defaultTtlMs: number): { envelope: SwrEnvelope<V>; ttlMs: number } {
    return makeEnvelope(value, options, defaultTtlMs, this.clock())
  }

  private decide(store: LoadStore, key: string, load: Loader<V>, options: ResolvedGetOrSetOptions, defaultTtlMs: number, lookup: Lookup): Promise<V> | V {
    const { raw, failed } = lookup
    if (raw !== undefined) {
      if (!isEnvelope(raw)) {
        counted(store, lookup, true) // written by set(): an ordinary hit
        return raw as V
      }
      const phase = phaseOf(raw, this.clock())
      if (phase === 'fresh') {
        counted(store, lookup, true)
        return raw.v as V
      }
      const stale = raw.v as V
      if (options.swr && phase === 'stale') {
        counted(store, lookup, true)
        this.load(store, key, load, options, defaultTtlMs, failed, stale, false).catch((err) => this.onError(err, key))
        return stale
      }
      if (options.swr && phase === 'grace') {
        counted(store, lookup, false)
        const loaded = this.load(store, key, load, options, defaultTtlMs, failed, stale, true).catch((err) => {
          this.onError(err, key)
          return stale
        })
        // Past the soft timeout the graced value is served; the load goes on behind.
        const soft = this.softDeadlines.get(key)
        return soft === undefined ? loaded : Promise.race([loaded, soft.then(() => stale)])
      }
      counted(store, lookup, false)
      return this.load(store, key, load, options, defaultTtlMs, failed, stale, false)
    }
    counted(store, lookup, false)
    return this.load(store, key, load, options, defaultTtlMs, failed, undefined, false)
  }

  /** `graced`: the caller may be served `stale` instead of waiting (arms the soft timeout). */
  private load(store: LoadStore, key: string, load: Loader<V>, options: ResolvedGetOrSetOptions, defaultTtlMs: number, failed: boolean, stale: V | undefined, graced: boolean): Promise<V> {
    return this.loads.run(key, async () => {
      const run = new LoaderRun<V>(stale, graced, options, this.timers)
      const soft = run.softPassed
      if (soft !== undefined) this.softDeadlines.set(key, soft)
      const fills = store.fills
      const ticket = fills?.begin(key)
      try {
        // Rejects at the hard timeout: the flight ends and a late value is never written.
        const value = await run.start(load, key, options.hardMs)
        // undefined means "absent": returned, never stored; nor is a value the key was written over meanwhile.
        if (value !== undefined && ticket?.superseded !== true) void this.write(store, key, value, options, defaultTtlMs, failed, run.ttlMs)
        return value
      } finally {
        if (ticket !== undefined) fills!.end(key, ticket)
        run.finish()
        if (soft !== undefined && this.softDeadlines.get(key) === soft) this.softDeadlines.delete(key)
      }
    })
  }

  /** `setTtlMs`: what the loader's setTtl set (undefined: the call's ttl). */
  private write(store: LoadStore, key: string, value: V, options: ResolvedGetOrSetOptions, defaultTtlMs: number, failed: boolean, setTtlMs: number | undefined): Promise<void> | void {
    const origin: WriteOrigin = failed ? 'fill-after-failure' : 'fill'
    const ttlMs = setTtlMs ?? options.ttlMs
    if (!options.swr) return store.write(key, value, ttlMs, origin)
    const { envelope, ttlMs: physicalTtlMs } = this.envelope(value, ttlMs === options.ttlMs ? options : { ...options, ttlMs }, defaultTtlMs)
    return store.write(key, envelope, physicalTtlMs, origin)
  }
}

function lookUp(store: LoadStore, key: string): Promise<Lookup> {
  const failure: ReadFailure = { failed: false }
  return Promise.resolve(store.read(key, failure)).then((raw) => ({ raw, failed: failure.failed, counted: false }))
}

/** Tells the store how its lookup went, once per lookup however many callers shared it. */
function counted(store: LoadStore, lookup: Lookup, hit: boolean): void {
  if (lookup.counted) return
  lookup.counted = true
  store.lookedUp?.(lookup.raw !== undefined, hit)
}
