import type { CacheStats } from './cache'

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
  /**
   * For a cache whose counters other caches share (the attachments of one `shared()` cache,
   * in this thread, other threads or, machine-wide, other processes): stats() split into the
   * `shared` counters, named by `id` (the same for every attachment of that cache, new when it
   * is made again), and this attachment's `own` corrections (stale-while-revalidate lookups it
   * served as misses). stats() is their sum. A sink adds each `id` once and every `own`.
   * Undefined for a cache with counters of its own.
   */
  sharedStats?(): SharedStats | undefined
}

/** A source's stats split for sinks (MetricsSource.sharedStats). */
export interface SharedStats {
  readonly id: string
  readonly shared: CacheStats
  readonly own: { readonly hits: number; readonly misses: number }
}

/**
 * Receives a cache's metrics. A cache calls attach(this) when it is constructed with the
 * sink and detach(this) when it is closed, BEFORE it stops answering stats(): the sink
 * reads the final counters in detach (PrometheusSink keeps them, so counters never go back).
 * Latency is pushed, sampled by the cache at `latencySampleRate` (0 = never, 1 = every op;
 * default 1 when observeLatency exists); the first operation of each kind is always observed.
 */
export interface MetricsSink {
  attach(source: MetricsSource): void
  detach?(source: MetricsSource): void
  readonly latencySampleRate?: number
  observeLatency?(cache: string, op: CacheOp, ms: number): void
}
