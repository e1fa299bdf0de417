// ESM entry of `astra-cache/prometheus`; re-exports the CommonJS build (one module instance, see index.mts).
export * from '../metrics/index.js'
