/**
 * One run of a loader: the context it is given ({ signal, stale, setTtl }) and its timeouts.
 *
 * - `signal` is made on first read (most loaders never read it) and aborted only by the hard
 *   timeout, with the CacheLoaderTimeoutError as its reason.
 * - The hard timeout rejects the run's promise, so the single flight holding it is released
 *   and its callers reject; the loader's late result lands nowhere and is never stored.
 * - The soft timeout is only a signal (`softPassed`): read-through.ts serves a graced value to
 *   its waiting callers when it fires, and the load goes on.
 * Both timers are cleared as soon as the loader settles.
 */
import type { Loader, LoaderContext } from '../contract/cache'
import type { Duration } from '../duration'
import { CacheLoaderTimeoutError } from '../errors'
import { ttlToMs } from '../validate'
import type { ResolvedTimeouts } from './get-or-set-options'
import type { LoaderTimers } from './loader-timers'

export class LoaderRun<V> {
  /** What the loader is given: a plain object, so spreading or destructuring it sees every field. */
  readonly context: LoaderContext<V>
  /** What setTtl set, in ms (0 = never expires); undefined: the call's ttl applies. */
  ttlMs: number | undefined = undefined
  /** The load is over and its value written (or not): a setTtl now changes nothing. */
  private finished = false
  private key = ''
  /** Resolves when the soft timeout passes; undefined when there is no graced value to serve or no soft timeout. */
  readonly softPassed: Promise<void> | undefined
  private controller: AbortController | undefined
  private timedOut: CacheLoaderTimeoutError | undefined
  private softTimer: unknown
  private hardTimer: unknown
  private readonly timers: LoaderTimers

  /**
   * @param graced a value the callers may be served instead of waiting: arms the soft timeout.
   */
  constructor(stale: V | undefined, graced: boolean, timeouts: Partial<ResolvedTimeouts>, timers: LoaderTimers) {
    this.timers = timers
    const run = this
    this.context = {
      stale,
      // A function, not a method: loaders destructure it (`({ setTtl }) => ...`).
      setTtl: (ttl: Duration): void => {
        const ttlMs = ttlToMs(ttl, 'setTtl')
        if (run.finished) warnLateSetTtl(run.key)
        else run.ttlMs = ttlMs
      },
      get signal(): AbortSignal {
        return run.signal()
      },
    }
    const softMs = timeouts.softMs ?? Infinity
    if (graced && softMs < Infinity) {
      this.softPassed = new Promise<void>((resolve) => {
        this.softTimer = timers.start(resolve, softMs)
      })
    }
  }

  /** Made on first read: most loaders never look at it. */
  private signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController()
      if (this.timedOut !== undefined) this.controller.abort(this.timedOut)
    }
    return this.controller.signal
  }

  /**
   * Calls `load` with this context. The promise settles as the loader does, or rejects with
   * CacheLoaderTimeoutError once `hardMs` passes (Infinity: never).
   */
  start(load: Loader<V>, key: string, hardMs: number = Infinity): Promise<V> {
    this.key = key
    let started: Promise<V>
    try {
      started = Promise.resolve(load(this.context))
    } catch (err) {
      this.settled()
      return Promise.reject(err)
    }
    if (hardMs === Infinity) {
      if (this.softTimer === undefined) return started
      return started.finally(() => this.settled())
    }
    return new Promise<V>((resolve, reject) => {
      this.hardTimer = this.timers.start(() => {
        this.hardTimer = undefined
        const error = new CacheLoaderTimeoutError(key, hardMs)
        this.timedOut = error
        this.settled()
        this.controller?.abort(error)
        reject(error)
      }, hardMs)
      started.then(
        (value) => {
          this.settled()
          resolve(value)
        },
        (error: unknown) => {
          this.settled()
          reject(error)
        },
      )
    })
  }

  /** The load's outcome was used (its value written or not): a later setTtl only warns. */
  finish(): void {
    this.finished = true
  }

  /** The loader settled or timed out: no timer of this run may fire any more. */
  private settled(): void {
    if (this.softTimer !== undefined) {
      this.timers.clear(this.softTimer)
      this.softTimer = undefined
    }
    if (this.hardTimer !== undefined) {
      this.timers.clear(this.hardTimer)
      this.hardTimer = undefined
    }
  }
}

let current: LoaderContext<unknown> | undefined
let warnedLateSetTtl = false

/**
 * Once per process: setTtl from a timer or a callback that ran after the load was over. Not
 * thrown: it would surface as an uncaught exception far from the loader.
 */
function warnLateSetTtl(key: string): void {
  if (warnedLateSetTtl) return
  warnedLateSetTtl = true
  process.emitWarning(
    `setTtl was called after the load of key ${JSON.stringify(key)} was over: it changed nothing (the value, if any, was written with the call's ttl); call setTtl before the loader returns`,
    { type: 'CacheLoaderWarning', code: 'ASTRA_CACHE_LATE_SET_TTL' },
  )
}

/**
 * The context of the load running now, for a function that cached() calls on a miss: read it
 * at the start of the function, before its first `await` (afterwards, and outside such a
 * call, it is undefined).
 */
export function loaderContext<V = unknown>(): LoaderContext<V> | undefined {
  return current as LoaderContext<V> | undefined
}

/** Runs `call` with `context` as loaderContext() during its synchronous part. */
export function withLoaderContext<T>(context: LoaderContext<unknown>, call: () => T): T {
  const previous = current
  current = context
  try {
    return call()
  } finally {
    current = previous
  }
}
