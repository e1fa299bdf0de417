// astra-cache/prometheus: PrometheusSink (exports only). prom-client, an optional package, is
// loaded when the first sink is made.
export { PrometheusSink, DEFAULT_LATENCY_BUCKETS_MS } from './prometheus'
export type { PrometheusSinkOptions } from './prometheus'
