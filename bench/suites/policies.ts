/**
 * Eviction policies (docs/policies.md): hit ratio of LRU, S3-FIFO and W-TinyLFU (adaptive
 * window, and the fixed 1 % window of the reference) on every trace and capacity, beside the
 * reference OPT bound; then what each policy costs per operation relative to LRU, in both
 * engines. Sync engines are driven directly (get, then set on a miss).
 */
import type { BenchConfig } from '../config'
import { findTrace, readTrace, traceDirs } from '../traces'
import { makeKeys, zipfStream } from '../prng'
import type { Section, Table } from '../table'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import type { Engine } from '../../src/memory/engine'
import { createEngine } from '../../src/memory/engine-choice'
import { loadNative } from '../../src/native'
import type { EnginePolicy } from '../../src/memory/policies/policy'

interface RefRow {
  capacity: number
  lru: number
  opt: number
  s3fifo: number
  wtinylfu: number
  percentOfUnique: string
}

const POLICIES: EnginePolicy[] = ['lru', 's3fifo', 'tinylfu', 'tinylfu-fixed']
const SEED = 4

function replay(engine: Engine<number>, keys: readonly string[]): number {
  let hits = 0
  for (let i = 0; i < keys.length; i++) {
    if (engine.get(keys[i]) !== undefined) hits++
    else engine.set(keys[i], 1, 0)
  }
  return hits
}

export interface PolicyRow {
  trace: string
  capacity: number
  policy: string
  hitPct: number
  refPct: number | null
}

export interface PolicyCostRow {
  engine: string
  policy: string
  workload: string
  nsPerOp: number
  relativeToLru: number
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** ns per op of `run` (which performs `ops` operations), median of `reps` timed runs after one warm-up. */
function nsPerOp(run: () => void, ops: number, reps: number): number {
  run()
  const times: number[] = []
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint()
    run()
    times.push(Number(process.hrtime.bigint() - t0) / ops)
  }
  return median(times)
}

export async function runPolicies(cfg: BenchConfig, log: (s: string) => void): Promise<{ section: Section; rows: PolicyRow[]; cost: PolicyCostRow[] }> {
  const refs: Record<string, { percentCapacities: RefRow[] }> = JSON.parse(
    readFileSync(path.join(__dirname, '..', 'trace-reference.json'), 'utf8'),
  ).traces
  const dirs = traceDirs(cfg.tracesDir)
  const notes: string[] = [
    `hit ratios from the JS engine (the native engine takes identical decisions: __test__/policies-agree.test.ts), hash seed ${SEED}`,
  ]
  const tables: Table[] = []
  const rows: PolicyRow[] = []
  const summary: (string | number | null)[][] = []
  for (const name of cfg.traces) {
    const file = findTrace(name, dirs)
    if (!file || !refs[name]) {
      notes.push(`trace ${name}.keys.gz not found in ${dirs.join(', ')}: skipped`)
      continue
    }
    const keys = readTrace(file)
    log(`  policies on ${name} (${keys.length} requests)`)
    const tableRows: (string | number | null)[][] = []
    for (const ref of refs[name].percentCapacities) {
      const pct: Record<string, number> = {}
      for (const policy of POLICIES) {
        const e = createEngine<number>('js', { capacity: ref.capacity, clock: () => 0, policy, policySeed: SEED })
        pct[policy] = (100 * replay(e, keys)) / keys.length
        e.close()
        const refPct = policy === 'lru' ? ref.lru : policy === 's3fifo' ? ref.s3fifo : policy === 'tinylfu-fixed' ? ref.wtinylfu : null
        rows.push({ trace: name, capacity: ref.capacity, policy, hitPct: pct[policy], refPct })
      }
      const d = (p: string) => Number((pct[p] - pct.lru).toFixed(2))
      tableRows.push([
        `${ref.capacity.toLocaleString('en-US')} (${ref.percentOfUnique})`,
        Number(pct.lru.toFixed(2)),
        Number(pct.s3fifo.toFixed(2)),
        Number(pct.tinylfu.toFixed(2)),
        Number(pct['tinylfu-fixed'].toFixed(2)),
        ref.opt,
        ref.s3fifo,
        ref.wtinylfu,
      ])
      summary.push([`${name} @ ${ref.capacity.toLocaleString('en-US')}`, d('s3fifo'), d('tinylfu'), d('tinylfu-fixed'), Number((ref.opt - pct.lru).toFixed(2))])
    }
    tables.push({
      title: `hit ratio % by policy on ${name}`,
      note: 'get, then set on miss, capacity in entries. "ref" columns are sim.py (the traces\' README); W-TinyLFU ref uses a fixed 1 % window.',
      columns: ['capacity', 'LRU', 'S3-FIFO', 'W-TinyLFU', 'W-TinyLFU fixed 1 %', 'OPT (ref)', 'S3-FIFO (ref)', 'W-TinyLFU (ref)'],
      rows: tableRows,
    })
  }
  if (summary.length) {
    const mean = (i: number) => Number((summary.reduce((s, r) => s + (r[i] as number), 0) / summary.length).toFixed(2))
    summary.push(['mean', mean(1), mean(2), mean(3), mean(4)])
    tables.push({
      title: 'each policy minus LRU, in hit-ratio points',
      columns: ['trace @ capacity', 'S3-FIFO', 'W-TinyLFU (adaptive)', 'W-TinyLFU (fixed 1 %)', 'OPT bound'],
      rows: summary,
    })
  }

  // Throughput cost.
  const capacity = 10_000
  const universe = 100_000
  const ops = cfg.quick ? 100_000 : 400_000
  const reps = cfg.quick ? 3 : 7
  const keys = makeKeys(universe * 3, 16, 0x5eed)
  const zipf = zipfStream(universe, 0.99, ops, 0x5eed)
  const cost: PolicyCostRow[] = []
  const engines: { name: string; make: (policy: EnginePolicy) => Engine<number> }[] = [
    { name: 'js', make: (policy) => createEngine<number>('js', { capacity, clock: () => 0, policy, policySeed: SEED }) },
  ]
  if (loadNative() !== null) {
    engines.push({ name: 'native', make: (policy) => createEngine<number>('native', { capacity, clock: () => 0, policy, policySeed: SEED }) })
  } else notes.push('native engine not available: its costs are not measured')
  const workloads: { name: string; run: (e: Engine<number>) => () => void }[] = [
    {
      name: 'get hit',
      run: (e) => {
        for (let i = 0; i < capacity; i++) e.set(keys[i], i, 0)
        return () => {
          for (let i = 0; i < ops; i++) e.get(keys[zipf[i] % capacity])
        }
      },
    },
    {
      name: 'set new key (evicts)',
      run: (e) => {
        let next = 0
        return () => {
          for (let i = 0; i < ops; i++) e.set(keys[next++ % keys.length], i, 0)
        }
      },
    },
    {
      name: 'zipf 0.99 get, set on miss',
      run: (e) => () => {
        for (let i = 0; i < ops; i++) {
          const k = keys[zipf[i]]
          if (e.get(k) === undefined) e.set(k, i, 0)
        }
      },
    },
  ]
  const costRows: (string | number | null)[][] = []
  for (const eng of engines) {
    for (const w of workloads) {
      const ns: Record<string, number> = {}
      for (const policy of POLICIES.filter((p) => p !== 'tinylfu-fixed')) {
        const e = eng.make(policy)
        ns[policy] = nsPerOp(w.run(e), ops, reps)
        e.close()
      }
      for (const policy of Object.keys(ns)) cost.push({ engine: eng.name, policy, workload: w.name, nsPerOp: ns[policy], relativeToLru: ns[policy] / ns.lru })
      costRows.push([
        eng.name,
        w.name,
        Number(ns.lru.toFixed(1)),
        Number(ns.s3fifo.toFixed(1)),
        Number(ns.tinylfu.toFixed(1)),
        `${(ns.s3fifo / ns.lru).toFixed(2)}×`,
        `${(ns.tinylfu / ns.lru).toFixed(2)}×`,
      ])
    }
  }
  tables.push({
    title: `cost per operation by policy (capacity ${capacity.toLocaleString('en-US')}, ${ops.toLocaleString('en-US')} ops, median of ${reps})`,
    note: 'ns per op; × = relative to LRU on the same engine (every native call reaches Rust, whatever the policy).',
    columns: ['engine', 'workload', 'LRU ns', 'S3-FIFO ns', 'W-TinyLFU ns', 'S3-FIFO ×', 'W-TinyLFU ×'],
    rows: costRows,
  })
  return { section: { id: 'policies', title: 'Eviction policies: hit ratio and cost', tables, notes }, rows, cost }
}
