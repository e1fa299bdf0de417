import type { CacheStats } from './cache'
import { CacheOptionError, describe } from '../errors'

/** Operations whose latency and errors are reported. */
export type CacheOp = 'get' | 'set' | 'invalidate' | 'clear' | 'has' | 'getMany' | 'setMany' | 'getOrSet'

/**
 * What a cache exposes to a metrics sink. Counters are pulled (read at scrape time
 * through stats()), so the hot path pays nothing per call for counting.
 */
export interface MetricsSource {
  readonly name: string
  stats(): CacheStats
  /** Errors seen so far, per operation (Redis timeouts, connection failures, ...). */
  errorCounts?(): Readonly<Record<string, number>>
}

/**
 * Receives a cache's metrics. A cache calls attach(this) when it is constructed with the
 * sink and detach(this) when it is closed, BEFORE it stops answering stats(): the sink
 * reads the final counters in detach (PrometheusSink keeps them, so counters never go back). Latency is pushed, sampled by the cache at
 * `latencySampleRate` (0 = never, 1 = every op; default 1 when observeLatency exists).
 */
export interface MetricsSink {
  attach(source: MetricsSource): void
  detach?(source: MetricsSource): void
  readonly latencySampleRate?: number
  observeLatency?(cache: string, op: CacheOp, ms: number): void
}

/** Validates a `metricsSink` option (undefined = none). */
export function checkMetricsSink(sink: unknown): MetricsSink | undefined {
  if (sink === undefined) return undefined
  if (sink === null || typeof sink !== 'object' || typeof (sink as MetricsSink).attach !== 'function') {
    throw new CacheOptionError(`metricsSink must be an object with an attach(source) method, got ${describe(sink)}`)
  }
  return sink as MetricsSink
}

/**
 * Every how many ops a cache observes latency for this sink: round(1 / latencySampleRate);
 * 0 = never (no sink, no observeLatency, or rate 0). A countdown avoids Math.random per op.
 */
export function latencySampleInterval(sink: MetricsSink | undefined): number {
  if (sink?.observeLatency === undefined) return 0
  const rate = sink.latencySampleRate ?? 1
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
    throw new CacheOptionError(`metricsSink.latencySampleRate must be a number from 0 to 1, got ${describe(rate)}`)
  }
  return rate === 0 ? 0 : Math.max(1, Math.round(1 / rate))
}
