/**
 * The timers of loader timeouts. Real ones are unref'd: a pending timeout never keeps the
 * process alive. Tests inject their own through the internal `LOADER_TIMERS` option of a
 * cache's (or cached()'s) options object, a symbol so it is not a public option.
 */
export interface LoaderTimers {
  /** Calls `fire` after `ms` milliseconds; the handle goes to clear(). */
  start(fire: () => void, ms: number): unknown
  clear(handle: unknown): void
}

export const LOADER_TIMERS: unique symbol = Symbol.for('astra-cache.loaderTimers')

export const realTimers: LoaderTimers = {
  start(fire, ms) {
    const timer = setTimeout(fire, ms)
    timer.unref()
    return timer
  },
  clear(handle) {
    clearTimeout(handle as NodeJS.Timeout)
  },
}

/** The timers an options object carries under LOADER_TIMERS, else the real ones. */
export function timersOf(options: unknown): LoaderTimers {
  const injected = options !== null && typeof options === 'object' ? (options as { [LOADER_TIMERS]?: LoaderTimers })[LOADER_TIMERS] : undefined
  return injected ?? realTimers
}
