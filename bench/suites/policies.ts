/**
 * Eviction policies (docs/policies.md): what each policy costs per operation relative to
 * LRU, in both engines. Their hit ratios are in the hit-ratio section
 * (bench/suites/policy-hit-ratio.ts). Sync engines are driven directly.
 */
import type { BenchConfig } from '../config'
import { makeKeys, zipfStream } from '../prng'
import type { Section, Table } from '../table'
import type { Engine } from '../../src/memory/engine'
import { createEngine } from '../../src/memory/engine-choice'
import { loadNative } from '../../src/native'
import type { EnginePolicy } from '../../src/memory/policies/policy'

const POLICIES: EnginePolicy[] = ['lru', 's3fifo', 'tinylfu']
const SEED = 4

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

export async function runPolicies(cfg: BenchConfig, log: (s: string) => void): Promise<{ section: Section; cost: PolicyCostRow[] }> {
  const notes: string[] = []
  const tables: Table[] = []
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
    log(`  cost per operation: ${eng.name}`)
    for (const w of workloads) {
      const ns: Record<string, number> = {}
      for (const policy of POLICIES) {
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
  return { section: { id: 'policies', title: 'Eviction policies: cost per operation', tables, notes }, cost }
}
