// ESM entry of `astra-cache/redis`; re-exports the CommonJS build (one module instance, see index.mts).
export * from '../redis/index.js'
