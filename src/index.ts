// Public API of astra-cache. Exports only; each module documents itself.

// The contract every cache implements, and its errors
export type { Cache, CacheStatsFields, GetOrSetOptions, TtlOrOptions, Loader, LoaderContext, LoaderTimeouts } from './contract/cache'
export type { SyncCache } from './contract/sync-cache'
export type { Duration } from './duration'
export { CacheStats } from './contract/cache'
export * from './errors'
export { MAX_KEY_LENGTH, MAX_MAXSIZE } from './validate'

// Memory cache (Rust engine with a pure-TS twin)
export { InMemoryLRUCache } from './memory/memory-cache'
export type { InMemoryLRUCacheOptions, EngineChoice, SharedScopeOptions } from './memory/memory-cache'
export type { Clock } from './memory/engine'
export type { Dispose, DisposeReason } from './memory/dispose'
export type { StorageChoice, SharedSpec } from './memory/storage'
export type { SerializedCounters } from './memory/serialized-engine'
export type { PolicyName } from './memory/policies/policy'

// Serialization (RedisCache is in astra-cache/redis, TieredCache in astra-cache/tiered,
// PrometheusSink in astra-cache/prometheus: this entry loads neither ioredis nor prom-client)
export { jsonSerializer, msgpackSerializer } from './serializer'
export type { Serializer, MsgpackSerializerOptions } from './serializer'

// Configuration from the environment, the default cache, NullCache
export { createCache, readCacheConfig, setDefaultCache, getDefaultCache, ENV_DEFAULTS } from './config'
export type { CacheConfig, CreateCacheOverrides, CacheBackendName, Env } from './config'
export { NullCache } from './null/null-cache'
export type { NullCacheOptions } from './null/null-cache'

// Function wrappers and decorators; stale-while-revalidate over any Cache
export { cached, cacheInvalidate, loaderContext, DEFAULT_DECORATOR_TIMEOUT_MS } from './decorators'
export type { CachedOptions, CacheInvalidateOptions, CacheDecorator, CachedFunction, CacheFailure, CacheFailureHandler } from './decorators'
export { Revalidator, cacheStore } from './facade/swr'
export type { SwrStore, RevalidatorOptions } from './facade/swr'

// Metrics
export type { MetricsSink, MetricsSource, SharedStats, CacheOp } from './contract/metrics'
