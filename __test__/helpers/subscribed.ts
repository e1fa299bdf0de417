import type { TieredCache } from '../../src/tiered/tiered-cache'

/** Resolves once the tiered cache's invalidation subscription is live (its first subscription clears its L1: a 'resync'). */
export function subscribed(cache: TieredCache<any>): Promise<void> {
  return cache.tierStats().resyncs > 0 ? Promise.resolve() : new Promise<void>((r) => cache.once('resync', () => r()))
}
