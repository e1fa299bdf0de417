/**
 * Hit ratio of every cache, and of astra's eviction policies, on real traces and on the
 * synthetic ones (bench/synthetic-traces.ts), get-then-set-on-miss, next to the reference
 * OPT and LRU numbers (bench/trace-reference.json, from the traces' README and sim.py). An
 * exact LRU must match the LRU column to the hit: a correctness check as much as a
 * measurement. Ends with each policy minus LRU and its gap to OPT per cell.
 */
import type { BenchConfig } from '../config'
import { type Lineup, put, type SyncCompetitor } from '../competitors'
import { findSynthetic, SYNTHETIC_TRACES } from '../synthetic-traces'
import { findTrace, loadReference, readTrace, traceDirs } from '../traces'
import type { Section, Table } from '../table'
import { climberTrace, type PolicyCell, policyGapTable, policyRows, replayPolicies, targetMisses } from './policy-hit-ratio'

export interface HitRatioRow {
  trace: string
  capacity: number
  percentOfUnique: string
  competitor: string
  hits: number
  requests: number
  hitPct: number
  refLruPct: number
  refOptPct: number
  /** hits counted by the cache itself (astra engines), to cross-check the replay */
  ownHits?: number
}

const VALUE = 1

function replay(c: SyncCompetitor, keys: readonly string[], capacity: number): { hits: number; ownHits?: number } {
  const inst = c.create(capacity, 0)
  const t = inst.target
  let hits = 0
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]
    if (t.get(k) !== undefined) hits++
    else put(inst, k, VALUE)
  }
  const ownHits = inst.hits?.()
  inst.close()
  return { hits, ownHits }
}

export async function runHitRatio(cfg: BenchConfig, lineup: Lineup, log: (s: string) => void): Promise<{ section: Section; rows: HitRatioRow[]; policies: PolicyCell[] }> {
  const dirs = traceDirs(cfg.tracesDir)
  const notes: string[] = [`traces searched in: ${dirs.join(', ')}`]
  const rows: HitRatioRow[] = []
  const cells: PolicyCell[] = []
  const tables: Table[] = []
  const refs = loadReference()
  // Synthetic traces are generated, so a user's clone has them; quick mode skips them for time.
  const synthetic = cfg.quick ? [] : SYNTHETIC_TRACES.map((t) => t.name)
  const names = [...cfg.traces, ...synthetic]
  const skippedInQuick = Object.keys(refs).filter((n) => !names.includes(n))
  if (skippedInQuick.length) notes.push(`not replayed in quick mode: ${skippedInQuick.join(', ')} (run without --quick)`)
  const mismatches: string[] = []
  for (const name of names) {
    const ref = refs[name]
    const keys = loadKeys(name, dirs, log)
    if (keys === undefined) {
      notes.push(`trace ${name}.keys.gz is absent from ${dirs.join(' and ')}: its rows are skipped (pass --traces DIR)`)
      continue
    }
    if (keys.length !== ref.requests) notes.push(`${name}: ${keys.length} requests read, the reference says ${ref.requests}: not the reference file?`)
    const caps = ref.percentCapacities.map((p) => ({ ...p, literature: false }))
    for (const lit of ref.literatureCapacities) caps.push({ ...lit, percentOfUnique: '(lit.)', literature: true })
    for (const cap of caps) {
      for (const c of lineup.sync) {
        const r = replay(c, keys, cap.capacity)
        const hitPct = (100 * r.hits) / keys.length
        rows.push({
          trace: name,
          capacity: cap.capacity,
          percentOfUnique: cap.percentOfUnique,
          competitor: c.name,
          hits: r.hits,
          requests: keys.length,
          hitPct,
          refLruPct: cap.lru,
          refOptPct: cap.opt,
          ownHits: r.ownHits,
        })
        if (c.exactLru && hitPct.toFixed(2) !== cap.lru.toFixed(2)) mismatches.push(`${c.name} on ${name}@${cap.capacity}: ${hitPct.toFixed(2)} % vs LRU ${cap.lru}`)
        if (r.ownHits !== undefined && r.ownHits !== r.hits) mismatches.push(`${c.name} on ${name}@${cap.capacity}: its counters say ${r.ownHits} hits, the replay saw ${r.hits}`)
      }
      const cell = replayPolicies({ name, synthetic: ref.generator !== undefined }, keys, cap)
      if (cell.pct.lru.toFixed(2) !== cap.lru.toFixed(2)) mismatches.push(`astra policy LRU on ${name}@${cap.capacity}: ${cell.pct.lru.toFixed(2)} % vs LRU ${cap.lru}`)
      cells.push(cell)
    }
  }
  notes.push(
    mismatches.length
      ? `MISMATCH with the reference LRU: ${mismatches.join('; ')}`
      : 'every exact LRU matched the reference LRU hit ratio at every capacity (and the astra engines\' own hit counters agree with the replay).',
  )
  const misses = targetMisses(cells)
  notes.push(misses.length ? `W-TinyLFU misses its targets at ${misses.join('; ')}` : 'the adaptive W-TinyLFU meets its targets at every capacity replayed.')
  for (const cell of cfg.climber ?? []) {
    const keys = loadKeys(cell.trace, dirs, log)
    if (keys === undefined) notes.push(`--climber ${cell.trace}@${cell.capacity}: no such trace in ${dirs.join(', ')} nor among the synthetic ones`)
    else climberTrace(cell.trace, keys, cell.capacity, log)
  }
  const comps = lineup.sync.map((c) => c.name)
  const traceNames = [...new Set(rows.map((r) => r.trace))]
  for (const name of traceNames) {
    const these = rows.filter((r) => r.trace === name)
    const capsSeen = [...new Set(these.map((r) => r.capacity))]
    const pct = (v: number | undefined) => (v === undefined ? null : v.toFixed(2))
    tables.push({
      title: `hit ratio % on ${name} (${these[0].requests.toLocaleString('en-US')} requests, ${refs[name].uniqueKeys.toLocaleString('en-US')} unique keys)`,
      note: 'get, then set on miss; columns are capacities in entries (% of unique keys); OPT and LRU rows are the reference (sim.py). quick-lru holds up to 2× its capacity; the Map floor is FIFO. "astra policy" rows: the JS engine with that eviction policy (hash seed 4).',
      columns: ['cache', ...capsSeen.map((cap) => `${cap.toLocaleString('en-US')} (${these.find((r) => r.capacity === cap)!.percentOfUnique})`)],
      rows: [
        ['OPT (reference)', ...capsSeen.map((cap) => pct(these.find((r) => r.capacity === cap)!.refOptPct))],
        ['LRU (reference)', ...capsSeen.map((cap) => pct(these.find((r) => r.capacity === cap)!.refLruPct))],
        ...comps.map((c) => [c, ...capsSeen.map((cap) => pct(these.find((r) => r.capacity === cap && r.competitor === c)?.hitPct))]),
        ...policyRows(
          cells.filter((c) => c.trace === name),
          capsSeen,
        ),
      ],
    })
  }
  if (cells.length) tables.push(policyGapTable(cells))
  return { section: { id: 'hit-ratio', title: 'Hit ratio on real and synthetic traces', tables, notes }, rows, policies: cells }
}

/** A trace's keys: generated for the synthetic ones, else read from the first directory that has it. */
function loadKeys(name: string, dirs: string[], log: (s: string) => void): string[] | undefined {
  const synthetic = findSynthetic(name)
  if (synthetic !== undefined) {
    log(`  ${name}: generated by bench/synthetic-traces.ts`)
    return synthetic.generate()
  }
  const file = findTrace(name, dirs)
  if (file === undefined) return undefined
  log(`  ${name}: ${file}`)
  return readTrace(file)
}
