// astra-cache/redis: RedisCache and its options (exports only). ioredis, an optional package,
// is loaded when the first RedisCache makes or takes its client.
export { RedisCache } from './redis-cache'
export type { RedisCacheOptions, RedisCacheHealth, RedisConnectionOptions } from './redis-cache'
export type { RedisCacheSettings } from './settings'
export { recommendedClientOptions, DEFAULT_COMMAND_TIMEOUT_MS } from './options'
