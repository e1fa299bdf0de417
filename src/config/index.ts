// Configuration from the environment and the process default cache: exports only.
export { readCacheConfig, ENV_DEFAULTS, ENGINE_ENV_ALIAS } from './env'
export type { CacheConfig, CacheBackendName, Env } from './env'
export { createCache } from './create-cache'
export type { CreateCacheOverrides } from './create-cache'
export { setDefaultCache, getDefaultCache } from './default-cache'
