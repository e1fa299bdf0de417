import type { Clock } from './engine'

/**
 * The default clock: performance.now() read at most once per millisecond.
 * Reading the clock costs ~50 ns here, as much as a whole Map hit, so (like lru-cache's
 * ttlResolution) the value is cached and an unref'd timer clears it a millisecond later.
 * Expiry is therefore exact to within 1 ms.
 */
let cachedNow = 0

function clearCachedNow(): void {
  cachedNow = 0
}

export const coarseClock: Clock = () => {
  if (cachedNow !== 0) return cachedNow
  cachedNow = performance.now()
  setTimeout(clearCachedNow, 1).unref()
  return cachedNow
}
