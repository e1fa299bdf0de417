/**
 * What metrics cost a memory `get` hit: no sink, the PrometheusSink with counters only
 * (latencySampleRate 0: counters are pulled at scrape time, nothing per call), latency
 * sampled at 0.01, and latency observed on every op. Same run, same harness, per engine.
 *
 *   npx tsx bench/metrics.ts          (standalone; `npm run bench` includes it as a section)
 */
import { Registry } from 'prom-client'
import { loadNative } from '../src/native'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { PrometheusSink } from '../src/metrics/prometheus'
import { measure, sinkValue, type Case } from './harness'
import { compileAsyncGetLoop, type Cursor } from './loops'
import { machineInfo, machineLine } from './machine'
import { makeKeys } from './prng'
import { renderText, type Section } from './table'

const KEYS = 1_000
const OPS_PER_CALL = 1_000

interface Variant {
  label: string
  sink: () => PrometheusSink | undefined
}

const VARIANTS: Variant[] = [
  { label: 'no sink', sink: () => undefined },
  { label: 'sink, counters only (rate 0)', sink: () => new PrometheusSink({ registry: new Registry(), latencySampleRate: 0 }) },
  { label: 'sink, latency rate 0.01', sink: () => new PrometheusSink({ registry: new Registry(), latencySampleRate: 0.01 }) },
  { label: 'sink, latency every op (rate 1)', sink: () => new PrometheusSink({ registry: new Registry(), latencySampleRate: 1 }) },
]

export async function metricsSection(opts: { quick?: boolean } = {}): Promise<Section> {
  const engines: ('js' | 'native')[] = loadNative() !== null ? ['js', 'native'] : ['js']
  const notes: string[] = []
  if (!engines.includes('native')) notes.push('native engine not loaded: only the js engine was measured')
  const keys = makeKeys(KEYS, 16, 7, 'user:')
  const cases: Case[] = []
  const caches: InMemoryLRUCache<number>[] = []
  for (const engine of engines) {
    for (const v of VARIANTS) {
      const cache = new InMemoryLRUCache<number>({ engine, maxsize: KEYS * 2, defaultTtl: 600, metricsSink: v.sink(), name: 'bench' })
      for (let i = 0; i < keys.length; i++) await cache.set(keys[i], i)
      caches.push(cache)
      const loop = compileAsyncGetLoop() // one compiled copy per case: monomorphic call sites
      const cur: Cursor = { pos: 0 }
      cases.push({ name: `${engine}|${v.label}`, opsPerCall: OPS_PER_CALL, run: () => loop(cache, keys, OPS_PER_CALL, cur) })
    }
  }
  const measured = await measure(cases, opts.quick ? { time: 150, warmupTime: 50, rounds: 2 } : { time: 500, warmupTime: 150, rounds: 4 })
  await Promise.all(caches.map((c) => c.close()))

  const rows = measured.map((m) => {
    const [engine, label] = m.name.split('|')
    const base = measured.find((x) => x.name === `${engine}|no sink`)!
    return [engine, label, m.ns, m.p25, m.p75, `${m.ns >= base.ns ? '+' : ''}${(((m.ns - base.ns) / base.ns) * 100).toFixed(1)}%`]
  })
  return {
    id: 'metrics',
    title: 'Metrics cost on a memory get hit (await cache.get, PrometheusSink)',
    notes,
    tables: [
      {
        title: 'ns per awaited get hit, median (p25-p75) over pooled samples',
        note: `${KEYS} keys, all hits, ${OPS_PER_CALL} gets per sample; "vs no sink" compares medians of the same engine.`,
        columns: ['engine', 'metrics', 'ns/get', 'p25', 'p75', 'vs no sink'],
        rows,
      },
    ],
  }
}

if (require.main === module) {
  metricsSection({ quick: process.argv.includes('--quick') }).then((section) => {
    console.log(machineLine(machineInfo()))
    console.log(section.title)
    for (const n of section.notes) console.log(`  note: ${n}`)
    for (const table of section.tables) console.log(renderText(table))
    if (Number.isNaN(sinkValue())) console.log('') // keeps the measured results observably used
  })
}
