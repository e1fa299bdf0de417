// ESM entry of `astra-cache/keyv`; re-exports the CommonJS build (one module instance, see index.mts).
import { KeyvAstraStore } from '../keyv/index.js'
export * from '../keyv/index.js'
export default KeyvAstraStore
