// Imported, not the global: the global `performance` is a lazy getter, paid on every call.
import { performance } from 'node:perf_hooks'
import type { CacheOp, MetricsSink } from '../contract/metrics'
import { CacheOptionError, describe } from '../errors'

/** The operations a cache times, as indexes (the sampler keeps one flag per kind). */
export const OP = { get: 0, set: 1, invalidate: 2, clear: 3, has: 4, getMany: 5, setMany: 6, getOrSet: 7 } as const
export type OpIndex = (typeof OP)[keyof typeof OP]
const OP_NAMES: readonly CacheOp[] = ['get', 'set', 'invalidate', 'clear', 'has', 'getMany', 'setMany', 'getOrSet']

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
 * 0 = never (no sink, no observeLatency, or rate 0).
 */
export function latencySampleInterval(sink: MetricsSink | undefined): number {
  if (sink?.observeLatency === undefined) return 0
  const rate = sink.latencySampleRate ?? 1
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
    throw new CacheOptionError(`metricsSink.latencySampleRate must be a number from 0 to 1, got ${describe(rate)}`)
  }
  return rate === 0 ? 0 : Math.max(1, Math.round(1 / rate))
}

/**
 * Decides which operations of one cache are timed, and reports their latency to the sink.
 * One in `every` operations is observed (a countdown: no Math.random per op), and the first
 * operation of each kind is observed at once, so every series exists from the cache's first
 * use; such an early observation takes the place of the next scheduled one, so the overall
 * rate stays exactly 1 in `every`.
 */
export class LatencySampler {
  /** 0: nothing is ever timed (the hot path then costs one field read). */
  readonly every: number
  private countdown: number
  /** Scheduled observations still owed to early (first-of-kind) ones. */
  private owed = 0
  /** 1 until that kind of operation was observed. */
  private readonly unseen = new Uint8Array(OP_NAMES.length).fill(1)

  constructor(
    private readonly sink: MetricsSink | undefined,
    private readonly cache: string,
  ) {
    this.every = latencySampleInterval(sink)
    this.countdown = this.every
  }

  /** performance.now() when this operation is to be timed (pass it to end), else -1. */
  start(op: OpIndex): number {
    if (this.every === 0) return -1
    const due = --this.countdown === 0
    if (due) this.countdown = this.every
    if (this.unseen[op] === 1) {
      this.unseen[op] = 0
      if (!due) this.owed++
      return performance.now()
    }
    if (!due) return -1
    if (this.owed > 0) {
      this.owed--
      return -1
    }
    return performance.now()
  }

  end(op: OpIndex, started: number): void {
    if (started >= 0) this.sink!.observeLatency!(this.cache, OP_NAMES[op], performance.now() - started)
  }
}
