import type { Registry, RegistryContentType } from 'prom-client'
import { CacheOptionError, describe } from '../errors'
import { requireOptional } from '../optional-dependency'
import { checkKnownOptions, checkOptionsObject } from '../validate'
import { CacheMetricSet } from './cache-metric-set'
import type { CacheOp, MetricsSink, MetricsSource } from '../contract/metrics'

export { DEFAULT_LATENCY_BUCKETS_MS } from './cache-metric-set'

export interface PrometheusSinkOptions {
  /** Where the metrics are registered (Prometheus or OpenMetrics format). Default: prom-client's global `register`. */
  registry?: AnyRegistry
  /**
   * Fraction of operations whose latency is observed, 0 to 1. 0 = never (counters only),
   * 1 = every operation. Default 0.01: a memory hit takes ~100 ns, timing it costs as much again.
   */
  latencySampleRate?: number
  /** Prepended to every metric name, e.g. 'myapp_' gives myapp_cache_hits_total. Default ''. */
  prefix?: string
}

type AnyRegistry = Registry<RegistryContentType>

const KNOWN_OPTIONS = new Set(['registry', 'latencySampleRate', 'prefix'])
const METRIC_PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/

/** One metric set per registry and prefix, shared by every sink on them. */
const setsByRegistry = new WeakMap<AnyRegistry, Map<string, CacheMetricSet>>()

function metricSetFor(registry: AnyRegistry, prefix: string, prom: typeof import('prom-client')): CacheMetricSet {
  let byPrefix = setsByRegistry.get(registry)
  if (byPrefix === undefined) {
    byPrefix = new Map()
    setsByRegistry.set(registry, byPrefix)
  }
  let set = byPrefix.get(prefix)
  if (set === undefined) set = new CacheMetricSet(prefix, prom)
  // Registers (again, if the registry was cleared since) or throws on a name conflict.
  set.registerOn(registry)
  byPrefix.set(prefix, set)
  return set
}

/**
 * Exports cache metrics through prom-client: hits, misses, evictions, expirations and errors
 * as counters read from each cache's stats() at scrape time, size as a gauge, latency as a
 * histogram fed by sampled observations.
 *
 * ```ts
 * const sink = new PrometheusSink({ registry })
 * const cache = new InMemoryLRUCache({ name: 'users', metricsSink: sink })
 * ```
 */
export class PrometheusSink implements MetricsSink {
  readonly registry: AnyRegistry
  readonly latencySampleRate: number
  readonly prefix: string
  private readonly metrics: CacheMetricSet

  constructor(options: PrometheusSinkOptions = {}) {
    checkOptionsObject(options, 'PrometheusSink')
    checkKnownOptions(options, KNOWN_OPTIONS, 'PrometheusSink option')
    // Loaded here, not at import: a package that never builds a sink never loads prom-client.
    const prom = requireOptional<typeof import('prom-client')>('prom-client', 'PrometheusSink')
    const registry: AnyRegistry = options.registry ?? prom.register
    if (
      registry === null ||
      typeof registry !== 'object' ||
      typeof registry.getSingleMetric !== 'function' ||
      typeof registry.registerMetric !== 'function'
    ) {
      throw new CacheOptionError(`registry must be a prom-client Registry, got ${describe(registry)}`)
    }
    const rate = options.latencySampleRate ?? 0.01
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw new CacheOptionError(`latencySampleRate must be a number from 0 to 1, got ${describe(rate)}`)
    }
    const prefix = options.prefix ?? ''
    if (typeof prefix !== 'string' || !METRIC_PREFIX.test(prefix)) {
      throw new CacheOptionError(`prefix must match /[a-zA-Z_:][a-zA-Z0-9_:]*/ (a metric name prefix), got ${describe(prefix)}`)
    }
    this.registry = registry
    this.latencySampleRate = rate
    this.prefix = prefix
    this.metrics = metricSetFor(registry, prefix, prom)
  }

  /** Starts exporting `source`'s counters. Attaching one source twice counts it once. */
  attach(source: MetricsSource): void {
    if (source === null || typeof source !== 'object' || typeof source.stats !== 'function' || typeof source.name !== 'string') {
      throw new CacheOptionError(`attach expects a cache (an object with name and stats()), got ${describe(source)}`)
    }
    this.metrics.attach(source)
  }

  /**
   * Stops reading `source` (a cache calls this when it closes). Its final counts stay in the
   * exported counters, so `cache_*_total` never goes backwards; its size leaves `cache_size`.
   */
  detach(source: MetricsSource): void {
    this.metrics.detach(source)
  }

  observeLatency(cache: string, op: CacheOp, ms: number): void {
    // A clock that stepped backwards or a NaN must not throw into the caller's cache call.
    if (ms >= 0 && ms < Infinity) this.metrics.latency.observe(cache, op, ms)
  }
}
