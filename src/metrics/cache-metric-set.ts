import type { Metric, Registry, RegistryContentType } from 'prom-client'
import { CacheOptionError } from '../errors'
import { LatencyHistogram } from './latency-histogram'
import type { MetricsSource } from '../contract/metrics'
import type { CacheStats } from '../contract/cache'

/**
 * Latency buckets in milliseconds: a memory hit takes well under a microsecond, a Redis
 * round trip a fraction of a millisecond to seconds when the network misbehaves.
 */
export const DEFAULT_LATENCY_BUCKETS_MS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500,
])

/** Counter totals for one cache label at one moment. */
interface Totals {
  hits: number
  misses: number
  evictions: number
  expirations: number
  size: number
  /** False for backends that cannot know their size (maxsize 0 in stats(), e.g. Redis). */
  sized: boolean
  errors: Map<string, number>
}

type CounterField = 'hits' | 'misses' | 'evictions' | 'expirations'

function emptyTotals(): Totals {
  return { hits: 0, misses: 0, evictions: 0, expirations: 0, size: 0, sized: false, errors: new Map() }
}

/** A count from a source we do not control: anything but a finite non-negative number counts as 0. */
function count(value: unknown): number {
  return typeof value === 'number' && value >= 0 && value < Infinity ? value : 0
}

function totalsOf(s: CacheStats, errors: Readonly<Record<string, number>> | undefined): Totals {
  return {
    hits: count(s.hits),
    misses: count(s.misses),
    evictions: count(s.evictions),
    expirations: count(s.expirations),
    size: count(s.size),
    sized: count(s.maxsize) > 0,
    errors: errorTotals(errors),
  }
}

function errorTotals(errors: Readonly<Record<string, number>> | undefined): Map<string, number> {
  const out = new Map<string, number>()
  if (errors) for (const [op, n] of Object.entries(errors)) out.set(op, count(n))
  return out
}

/**
 * One read of a source: `own` is what only this source counts (everything, unless its
 * counters are shared); `shared` the counters it shares with other sources of the same id
 * (MetricsSource.sharedStats), which a label counts once however many sources report them.
 */
interface Reading {
  own: Totals
  shared?: { id: string; totals: Totals }
}

function read(source: MetricsSource): Reading {
  const split = source.sharedStats?.()
  const errors = source.errorCounts?.()
  if (split === undefined) return { own: totalsOf(source.stats(), errors) }
  // Own corrections are small signed adjustments of the shared counts: kept as they are.
  const own: Totals = { ...emptyTotals(), hits: Number(split.own.hits) || 0, misses: Number(split.own.misses) || 0, errors: errorTotals(errors) }
  return { own, shared: { id: split.id, totals: totalsOf(split.shared, undefined) } }
}

function addInto(target: Totals, add: Totals, withSize: boolean): void {
  target.hits += add.hits
  target.misses += add.misses
  target.evictions += add.evictions
  target.expirations += add.expirations
  if (withSize && add.sized) {
    target.size += add.size
    target.sized = true
  }
  for (const [op, n] of add.errors) target.errors.set(op, (target.errors.get(op) ?? 0) + n)
}

/**
 * The cache metrics of one registry (and name prefix), shared by every PrometheusSink on it.
 *
 * Counters are pulled: each metric's collect() runs at scrape time and rebuilds its values
 * from the attached sources' stats(). All collects of one scrape run in the same synchronous
 * turn, so one snapshot per turn serves them all (hits and misses come from the same read).
 *
 * Caches sharing a name are summed under one `cache` label. A detached (closed) cache's final
 * counts are kept in `retired`, so a counter never goes backwards when a cache closes.
 * Attachments of one shared() cache report the same counters (sharedStats): a label counts
 * them once, from a live attachment if there is one, else as the last one left them.
 */
export class CacheMetricSet {
  readonly sources = new Set<MetricsSource>()
  readonly latency: LatencyHistogram
  /** Everything this set registers; the latency histogram speaks the same Registry protocol. */
  private readonly metrics: Metric[]
  /** Per label: the own counts of detached sources. */
  private readonly retired = new Map<string, Totals>()
  /** Per label and shared-counters id: the counts the last detached source of that id reported. */
  private readonly retiredShared = new Map<string, Map<string, Totals>>()
  /** The last successful read of each source: used when stats() throws (e.g. after close). */
  private readonly lastRead = new WeakMap<MetricsSource, Reading>()
  private snapshotCache: Map<string, Totals & { live: boolean }> | undefined

  /** @param prom the prom-client module (PrometheusSink loads it). */
  constructor(prefix: string, prom: typeof import('prom-client')) {
    const set = this
    const { Counter, Gauge } = prom
    const counter = (name: string, help: string, field: CounterField) =>
      new Counter({
        name: `${prefix}${name}`,
        help,
        labelNames: ['cache'],
        registers: [],
        collect() {
          this.reset()
          for (const [cache, t] of set.snapshot()) this.inc({ cache }, t[field])
        },
      })
    this.metrics = [
      counter('cache_hits_total', 'Cache lookups that found a live entry.', 'hits'),
      counter('cache_misses_total', 'Cache lookups that found nothing (absent or expired).', 'misses'),
      counter('cache_evictions_total', 'Entries evicted to respect maxsize (capacity evictions only).', 'evictions'),
      counter('cache_expirations_total', 'Entries dropped because their TTL ran out.', 'expirations'),
      new Counter({
        name: `${prefix}cache_errors_total`,
        help: 'Cache operations that failed (backend unreachable, timeout, ...), per operation.',
        labelNames: ['cache', 'op'],
        registers: [],
        collect() {
          this.reset()
          for (const [cache, t] of set.snapshot()) for (const [op, n] of t.errors) this.inc({ cache, op }, n)
        },
      }),
      new Gauge({
        name: `${prefix}cache_size`,
        help: 'Entries currently held by the open caches of this name (backends that know their size).',
        labelNames: ['cache'],
        registers: [],
        collect() {
          this.reset()
          for (const [cache, t] of set.snapshot()) if (t.live && t.sized) this.set({ cache }, t.size)
        },
      }),
    ]
    this.latency = new LatencyHistogram(
      `${prefix}cache_latency_ms`,
      'Cache operation latency in milliseconds (sampled at the sink latencySampleRate).',
      DEFAULT_LATENCY_BUCKETS_MS,
    )
    this.metrics.push(this.latency as unknown as Metric)
  }

  /**
   * Puts this set's metrics on `registry`. Metrics already there (from an earlier sink) are
   * reused; any other metric with one of our names is a conflict the user must resolve.
   */
  registerOn(registry: Registry<RegistryContentType>): void {
    for (const metric of this.metrics) {
      const name = (metric as unknown as { name: string }).name
      const existing = registry.getSingleMetric(name)
      if (existing === metric) continue
      if (existing !== undefined) {
        throw new CacheOptionError(
          `registry already has a metric named "${name}" that this PrometheusSink did not create; ` +
            `pass another registry or a prefix (e.g. { prefix: 'myapp_' })`,
        )
      }
    }
    for (const metric of this.metrics) registry.registerMetric(metric)
  }

  attach(source: MetricsSource): void {
    this.sources.add(source)
  }

  /** Stops reading `source`; its final counts stay in the exported totals of its name. */
  detach(source: MetricsSource): void {
    if (!this.sources.delete(source)) return
    let final: Reading | undefined
    try {
      final = read(source)
    } catch {
      final = this.lastRead.get(source)
    }
    if (final === undefined) return
    const name = source.name
    const retired = this.retired.get(name) ?? emptyTotals()
    addInto(retired, final.own, false)
    this.retired.set(name, retired)
    if (final.shared !== undefined) {
      // Shared counts only grow: the latest final read of an id is its best. A live source of the id outranks it (snapshot).
      const byId = this.retiredShared.get(name) ?? new Map<string, Totals>()
      byId.set(final.shared.id, final.shared.totals)
      this.retiredShared.set(name, byId)
    }
    this.snapshotCache = undefined
  }

  /** Totals per cache label: retired counts plus every attached source, read once per turn. */
  snapshot(): Map<string, Totals & { live: boolean }> {
    if (this.snapshotCache !== undefined) return this.snapshotCache
    const out = new Map<string, Totals & { live: boolean }>()
    const label = (name: string) => {
      let t = out.get(name)
      if (t === undefined) {
        t = { ...emptyTotals(), live: false }
        out.set(name, t)
      }
      return t
    }
    for (const [name, retired] of this.retired) addInto(label(name), retired, false)
    /** Per label, the shared counters already counted (one read per id). */
    const counted = new Map<string, Set<string>>()
    for (const source of this.sources) {
      let reading: Reading | undefined
      try {
        reading = read(source)
        this.lastRead.set(source, reading)
      } catch {
        // A source that cannot answer (closed without detaching, broken) must not break the scrape.
        reading = this.lastRead.get(source)
      }
      if (reading === undefined) continue
      const t = label(source.name)
      t.live = true
      addInto(t, reading.own, true)
      if (reading.shared === undefined) continue
      const seen = counted.get(source.name) ?? new Set<string>()
      counted.set(source.name, seen)
      if (seen.has(reading.shared.id)) continue
      seen.add(reading.shared.id)
      addInto(t, reading.shared.totals, true)
    }
    // Shared counters no attached source reports any more: as their last attachment left them.
    for (const [name, byId] of this.retiredShared) {
      for (const [id, totals] of byId) if (!counted.get(name)?.has(id)) addInto(label(name), totals, false)
    }
    this.snapshotCache = out
    queueMicrotask(() => {
      this.snapshotCache = undefined
    })
    return out
  }
}
