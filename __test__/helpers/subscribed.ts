import type { TieredCache } from '../../src/tiered/tiered-cache'

/**
 * Resolves once the tiered cache's invalidation subscription is live: its first subscription
 * clears its L1, or keeps a machine-wide one another process vouches for; either is a 'resync'.
 */
export function subscribed(cache: TieredCache<any>): Promise<void> {
  const s = cache.tierStats()
  return s.resyncs + s.resyncsVouched > 0 ? Promise.resolve() : new Promise<void>((r) => cache.once('resync', () => r()))
}
