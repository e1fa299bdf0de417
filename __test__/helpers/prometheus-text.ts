/** One sample line of the Prometheus text format: name{labels} value. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Parses the Prometheus text exposition format (what registry.metrics() and /metrics return). */
export function parsePrometheusText(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = []
  const types = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice('# TYPE '.length).split(' ')
      types.set(name, type)
      continue
    }
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]] = pair[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) })
  }
  return { samples, types }
}

/** The value of the sample `name` whose labels include `labels`; undefined when absent. */
export function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return found[0]?.value
}

/** What a registry exports for one cache label, in stats() field names (missing series: undefined). */
export function exportedStats(samples: readonly Sample[], cache: string, prefix = '') {
  return {
    hits: sampleValue(samples, `${prefix}cache_hits_total`, { cache }),
    misses: sampleValue(samples, `${prefix}cache_misses_total`, { cache }),
    evictions: sampleValue(samples, `${prefix}cache_evictions_total`, { cache }),
    expirations: sampleValue(samples, `${prefix}cache_expirations_total`, { cache }),
    size: sampleValue(samples, `${prefix}cache_size`, { cache }),
  }
}
