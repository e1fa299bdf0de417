// Public API of astra-cache. Exports only; each module documents itself.

// The contract every cache implements, and its errors
export type { Cache, CacheStatsFields, GetOrSetOptions, TtlOrOptions, Loader } from './contract/cache'
export { CacheStats } from './contract/cache'
export * from './errors'
export { MAX_KEY_LENGTH, MAX_MAXSIZE } from './validate'

// Memory cache (Rust engine with a pure-TS twin)
export { InMemoryLRUCache } from './memory/memory-cache'
export type { InMemoryLRUCacheOptions, EngineChoice, SharedScopeOptions } from './memory/memory-cache'
export type { Clock } from './memory/engine'
export type { StorageChoice, SharedSpec } from './memory/storage'
export type { SerializedCounters } from './memory/serialized-engine'
export type { PolicyName } from './memory/policies/policy'

// Redis, tiers, serialization
export { RedisCache } from './redis/redis-cache'
export type { RedisCacheOptions, RedisCacheHealth, RedisConnectionOptions } from './redis/redis-cache'
export { recommendedClientOptions, DEFAULT_COMMAND_TIMEOUT_MS } from './redis/options'
export { TieredCache } from './tiered/tiered-cache'
export type { TieredCacheOptions, TierStats } from './tiered/tiered-cache'
export { RedisInvalidationBus } from './tiered/invalidation-bus'
export type { InvalidationBus } from './tiered/invalidation-bus'
export { jsonSerializer, msgpackSerializer } from './serializer'
export type { Serializer, MsgpackSerializerOptions } from './serializer'

// Configuration from the environment, the default cache, NullCache
export { createCache, readCacheConfig, setDefaultCache, getDefaultCache, ENV_DEFAULTS } from './config'
export type { CacheConfig, CreateCacheOverrides, CacheBackendName, Env } from './config'
export { NullCache } from './null/null-cache'
export type { NullCacheOptions } from './null/null-cache'

// Function wrappers and decorators; stale-while-revalidate over any Cache
export { cached, cacheInvalidate, DEFAULT_DECORATOR_TIMEOUT_MS } from './decorators'
export type { CachedOptions, CacheInvalidateOptions, CacheDecorator, CachedFunction, CacheFailure, CacheFailureHandler } from './decorators'
export { Revalidator, cacheStore } from './facade/swr'
export type { SwrStore, RevalidatorOptions } from './facade/swr'

// Metrics
export type { MetricsSink, MetricsSource, CacheOp } from './contract/metrics'
export { PrometheusSink, DEFAULT_LATENCY_BUCKETS_MS } from './metrics/prometheus'
export type { PrometheusSinkOptions } from './metrics/prometheus'
