/**
 * npm run bench [-- --quick]: astra-cache (native and JS engines) against its peers, in one
 * run, on one machine. Prints tables, writes bench/results/*.json and a Markdown report.
 * See docs/bench.md for what each scenario means.
 */
import { parseArgs, USAGE } from './args'
import { makeConfig } from './config'
import { loadLineup } from './competitors'
import { sinkValue } from './harness'
import { machineInfo, machineLine } from './machine'
import { writeReports } from './report'
import { runApi } from './suites/api'
import { runExtras } from './suites/extras'
import { runHitRatio } from './suites/hit-ratio'
import { runMemory } from './suites/memory'
import { runPolicies } from './suites/policies'
import { runScale } from './suites/scale'
import { runRedisSection } from './suites/redis-section'
import { runThroughput } from './suites/throughput'
import { renderText, type Section } from './table'

const log = (s: string) => process.stdout.write(`${s}\n`)

function printSection(s: Section, machine: string): void {
  log(`\n=== ${s.title} ===`)
  for (const n of s.notes) log(`  note: ${n}`)
  for (const t of s.tables) log(`\n${renderText(t)}\n  machine: ${machine}`)
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  if (args.help) {
    log(USAGE)
    return
  }
  const started = Date.now()
  const cfg = makeConfig(args)
  const machine = machineInfo()
  const mline = machineLine(machine)
  log(`astra-cache bench (${cfg.quick ? 'quick' : 'full'} mode)\nmachine: ${mline}`)
  const lineup = await loadLineup({ lruNative2: cfg.lruNative2, quick: cfg.quick })
  log(`sync caches: ${lineup.sync.map((c) => c.name).join(', ')}`)
  log(`async Cache API: ${lineup.async.map((c) => c.name).join(', ') || 'none'}`)
  for (const m of lineup.missing) log(`not measured: ${m.name}: ${m.reason}`)

  const wants = (id: string) => !cfg.only || cfg.only.has(id)
  const sections: Section[] = []
  const results: Record<string, unknown> = {}
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = Date.now()
    log(`\n[${name}]`)
    const r = await f()
    log(`[${name}] ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    return r
  }

  const throughputIds = ['throughput', 'get-hit-k16', 'get-hit-k128', 'get-hit-ttl', 'get-miss', 'set-evict', 'zipf']
  if (throughputIds.some(wants)) {
    const r = await timed('throughput', () => runThroughput(cfg, lineup, log))
    sections.push(r.section)
    results.throughput = r.rows
    printSection(r.section, mline)
  }
  if (wants('api')) {
    const r = await timed('api', () => runApi(cfg, lineup, log))
    sections.push(r.section)
    results.api = r.rows
    printSection(r.section, mline)
  }
  if (wants('memory')) {
    const r = await timed('memory', () => runMemory(cfg, lineup, log))
    sections.push(r.section)
    results.memory = r.rows
    printSection(r.section, mline)
  }
  if (wants('scale')) {
    const r = await timed('scale', () => runScale(cfg, log))
    sections.push(r.section)
    results.scale = r.runs
    printSection(r.section, mline)
  }
  if (wants('hit-ratio')) {
    const r = await timed('hit-ratio', () => runHitRatio(cfg, lineup, log))
    sections.push(r.section)
    results.hitRatio = r.rows
    results.policyHitRatio = r.policies
    printSection(r.section, mline)
  }
  if (wants('policies')) {
    const r = await timed('policies', () => runPolicies(cfg, log))
    sections.push(r.section)
    results.policies = { cost: r.cost }
    printSection(r.section, mline)
  }
  if (wants('redis')) {
    const r = await timed('redis', () => runRedisSection(cfg, log))
    sections.push(r.section)
    results.redis = r.raw
    printSection(r.section, mline)
  }
  if (wants('extras')) {
    const r = await timed('extras', () => runExtras(cfg, log))
    for (const s of r.sections) {
      sections.push(s)
      printSection(s, mline)
    }
    results.extras = r.raw
  }

  const seconds = (Date.now() - started) / 1000
  const files = writeReports({ cfg, machine, sections, results, lineup, seconds, argv: process.argv.slice(2) })
  log(`\ndone in ${seconds.toFixed(1)} s (sink ${sinkValue() > 0 ? 'ok' : 'empty'})`)
  for (const f of files) log(`wrote ${f}`)
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
  process.exit(1)
})
