/**
 * The eviction policies (docs/policies.md) on every trace of the hit-ratio section: LRU,
 * S3-FIFO, W-TinyLFU with its adaptive window (the `tinylfu` policy) and with the
 * reference's fixed 1 % window, replayed on the JS engine with hash seed 4 (the native
 * engine takes the same decisions: __test__/policies-agree.test.ts, and the trace test
 * pins the same counts for both). Then one table of each policy minus LRU and each
 * policy's gap to Belady's OPT per cell, with the means and the W-TinyLFU targets.
 */
import { createEngine } from '../../src/memory/engine-choice'
import type { TinyLfuPolicy } from '../../src/memory/policies/tinylfu'
import type { EnginePolicy } from '../../src/memory/policies/policy'
import type { Cell, Table } from '../table'

export const POLICY_SEED = 4

const POLICIES: { policy: EnginePolicy; label: string }[] = [
  { policy: 'lru', label: 'LRU' },
  { policy: 's3fifo', label: 'S3-FIFO' },
  { policy: 'tinylfu', label: 'W-TinyLFU' },
  { policy: 'tinylfu-fixed', label: 'W-TinyLFU fixed 1 %' },
]

/** The adaptive W-TinyLFU may trail LRU (and S3-FIFO where it beats LRU) by at most this. */
const TARGET_MARGIN = 1

export interface PolicyCell {
  trace: string
  synthetic: boolean
  /** a capacity the literature uses rather than a percentage of the unique keys */
  literature: boolean
  capacity: number
  requests: number
  /** Belady's OPT (reference simulator), percent */
  opt: number
  /** hit ratio in percent by policy */
  pct: Record<EnginePolicy, number>
}

function replay(keys: readonly string[], capacity: number, policy: EnginePolicy, onSample?: (line: string) => void): number {
  const engine = createEngine<number>('js', { capacity, clock: () => 0, policy, policySeed: POLICY_SEED })
  if (onSample !== undefined) watchClimber(engine, capacity, onSample)
  let hits = 0
  for (let i = 0; i < keys.length; i++) {
    if (engine.get(keys[i]) !== undefined) hits++
    else engine.set(keys[i], 1, 0)
  }
  engine.close()
  return hits
}

/** Every policy at one capacity. */
export function replayPolicies(
  trace: { name: string; synthetic: boolean },
  keys: readonly string[],
  cap: { capacity: number; opt: number; literature: boolean },
): PolicyCell {
  const pct = {} as Record<EnginePolicy, number>
  for (const { policy } of POLICIES) pct[policy] = (100 * replay(keys, cap.capacity, policy)) / keys.length
  return { trace: trace.name, synthetic: trace.synthetic, literature: cap.literature, capacity: cap.capacity, requests: keys.length, opt: cap.opt, pct }
}

/** The rows the per-trace table gets, one per policy beside LRU, by capacity. */
export function policyRows(cells: PolicyCell[], capacities: number[]): Cell[][] {
  return POLICIES.filter((p) => p.policy !== 'lru').map(({ policy, label }) => [
    `astra policy: ${label}`,
    ...capacities.map((c) => {
      const cell = cells.find((x) => x.capacity === c)
      return cell === undefined ? null : cell.pct[policy].toFixed(2)
    }),
  ])
}

/** Where the adaptive W-TinyLFU misses its targets (empty: it meets them everywhere). */
export function targetMisses(cells: PolicyCell[]): string[] {
  const out: string[] = []
  for (const c of cells) {
    const { lru, s3fifo, tinylfu } = c.pct
    const at = `${c.trace} @ ${c.capacity.toLocaleString('en-US')}`
    if (tinylfu < lru - TARGET_MARGIN) out.push(`${at}: ${(tinylfu - lru).toFixed(2)} vs LRU`)
    else if (s3fifo > lru && tinylfu < s3fifo - TARGET_MARGIN) out.push(`${at}: ${(tinylfu - s3fifo).toFixed(2)} vs S3-FIFO`)
  }
  return out
}

const count = (n: number) => `${n} cell${n === 1 ? '' : 's'}`
/** Points with their sign; a value that rounds to zero is +0.00. */
const signed = (v: number) => (v.toFixed(2).startsWith('-') && v.toFixed(2) !== '-0.00' ? v.toFixed(2) : `+${Math.abs(v).toFixed(2)}`)

function gapRow(label: string, cells: PolicyCell[]): Cell[] {
  const mean = (f: (c: PolicyCell) => number) => cells.reduce((s, c) => s + f(c), 0) / cells.length
  const lru = mean((c) => c.pct.lru)
  return [
    label,
    lru.toFixed(2),
    mean((c) => c.opt).toFixed(2),
    ...POLICIES.filter((p) => p.policy !== 'lru').map(({ policy }) => signed(mean((c) => c.pct[policy] - c.pct.lru))),
    // OPT bounds every policy here (all insert every missed key); the reference rounds it to
    // 2 decimals, so an optimal policy can come out a hair above it.
    ...POLICIES.map(({ policy }) => Math.max(0, mean((c) => c.opt - c.pct[policy])).toFixed(2)),
  ]
}

/** Each policy minus LRU and each policy's gap to OPT, per cell, with means and the targets. */
export function policyGapTable(cells: PolicyCell[]): Table {
  const rows: Cell[][] = []
  const groups: [string, PolicyCell[]][] = [
    ['real traces', cells.filter((c) => !c.synthetic)],
    ['synthetic traces', cells.filter((c) => c.synthetic)],
  ]
  for (const [name, group] of groups) {
    if (!group.length) continue
    for (const c of group) rows.push(gapRow(`${c.trace} @ ${c.capacity.toLocaleString('en-US')}${c.literature ? ' (lit.)' : ''}`, [c]))
    const percent = group.filter((c) => !c.literature)
    rows.push(gapRow(`mean, ${name}, 0.1 / 1 / 10 % capacities (${count(percent.length)})`, percent))
    if (percent.length < group.length) rows.push(gapRow(`mean, ${name}, with the literature capacities (${count(group.length)})`, group))
  }
  const labels = POLICIES.filter((p) => p.policy !== 'lru').map((p) => p.label)
  return {
    title: 'eviction policies: each minus LRU, and each one\'s gap to OPT, in hit-ratio points',
    note: `astra's JS engine (the native one decides identically), hash seed ${POLICY_SEED}; OPT is Belady's MIN from the reference simulator. Target for the adaptive W-TinyLFU: never more than ${TARGET_MARGIN} point below LRU, nor more than ${TARGET_MARGIN} below S3-FIFO where S3-FIFO beats LRU.`,
    columns: ['trace @ capacity', 'LRU %', 'OPT %', ...labels.map((l) => `${l} − LRU`), ...POLICIES.map((p) => `OPT − ${p.label}`)],
    rows,
  }
}

/** Prints one line per climber sample of the adaptive W-TinyLFU (bench --climber). */
export function climberTrace(name: string, keys: readonly string[], capacity: number, log: (s: string) => void): void {
  log(`  climber on ${name} @ ${capacity}: one line per sample (window target before → after)`)
  const hits = replay(keys, capacity, 'tinylfu', (line) => log(`    ${line}`))
  log(`  climber on ${name} @ ${capacity}: ${((100 * hits) / keys.length).toFixed(2)} % hits`)
}

function watchClimber(engine: unknown, capacity: number, print: (line: string) => void): void {
  const policy = (engine as { policy: TinyLfuPolicy }).policy
  let sample = 0
  let requests = 0
  policy.climber!.onSample = (s) => {
    sample++
    requests += s.requests
    const share = (w: number) => `${((100 * w) / capacity).toFixed(1)} %`
    print(
      `sample ${sample} (${requests.toLocaleString('en-US')} requests since the cache filled): window ${s.windowBefore} → ${s.windowAfter} (${share(s.windowAfter)}), ` +
        `hits window ${s.windowHits} main ${s.mainHits} of ${s.requests}${s.lruAhead ? ', sampled LRU ahead: largest step' : ''}`,
    )
  }
}
