// astra-cache/tiered: TieredCache (L1 over L2) and its Redis pub/sub invalidation bus (exports
// only). ioredis, an optional package, is loaded when a RedisInvalidationBus is made.
export { TieredCache } from './tiered-cache'
export type { CacheTier, TieredCacheOptions, TierStats } from './tiered-cache'
export { RedisInvalidationBus } from './invalidation-bus'
export type { InvalidationBus, InvalidationHandlers, RedisInvalidationBusOptions } from './invalidation-bus'
