// ESM entry of `astra-cache/tiered`; re-exports the CommonJS build (one module instance, see index.mts).
export * from '../tiered/index.js'
