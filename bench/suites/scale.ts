/**
 * Scale: each cache with 1M, 10M and 20M entries (quick mode: 100k), each in a fresh child
 * process with default heap flags (bench/scale-child.ts): fill time, JS heap and RSS per
 * entry, then a steady request loop (20 awaited ops per request, 90 % get / 10 % set over
 * 2N keys, Zipf 0.99) with event-loop delay and GC pauses recorded; and the largest N
 * each cache held. A cache that cannot hold N is reported with what stopped it.
 */
import { execFile } from 'node:child_process'
import * as path from 'node:path'
import type { BenchConfig } from '../config'
import type { ScaleArgs, ScaleCompetitor, ScaleResult, ScaleValue } from '../scale-child'
import type { Cell, Section, Table } from '../table'

const REPO = path.resolve(__dirname, '..', '..')
const COMPETITORS: ScaleCompetitor[] = ['astra native', 'astra native serialized', 'astra js', 'lru-cache', 'mnemonist']

export interface ScaleRun {
  args: ScaleArgs
  result?: ScaleResult
  /** why the child did not finish (out of memory, a refused maxsize...) */
  failure?: string
}

function runChild(args: ScaleArgs, timeoutMs: number): Promise<ScaleRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', path.join(__dirname, '..', 'scale-child.ts'), JSON.stringify(args)],
      { cwd: REPO, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: timeoutMs },
      (err, stdout, stderr) => {
        if (!err) {
          resolve({ args, result: JSON.parse(stdout.trim().split('\n').pop()!) as ScaleResult })
          return
        }
        const why = failureReason(stderr, err.message, err.killed ? timeoutMs : 0)
        resolve({ args, failure: why })
      },
    )
  })
}

/** What stopped a child, in one line: the heap, the Map limit, a refused maxsize, a timeout. */
function failureReason(stderr: string, message: string, timedOutMs: number): string {
  const text = `${stderr}\n${message}`
  const full = /JS heap \d+ % full[^\n]*/.exec(text)
  if (full) return full[0]
  if (/heap out of memory|JavaScript heap|Allocation failed/i.test(text)) return 'JS heap out of memory (default heap limit)'
  if (/Map maximum size exceeded/.test(text)) return 'RangeError: Map maximum size exceeded'
  if (timedOutMs) return `timed out after ${timedOutMs / 1000} s`
  return (/(Cache\w*Error|RangeError|Error): [^\n]*/.exec(stderr)?.[0] ?? text.trim().split('\n').pop()!).slice(0, 200)
}

/** The runs of this mode: every cache at every size and value kind (20M: strings only). */
export function scalePlan(cfg: BenchConfig): ScaleArgs[] {
  const plan: ScaleArgs[] = []
  for (const { entries, values } of cfg.scale.sizes) {
    for (const value of values) for (const competitor of COMPETITORS) plan.push({ competitor, entries, value, seconds: cfg.scale.seconds })
  }
  return plan
}

const N = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`)
const ratio = (a: number, b: number | undefined): Cell => (b === undefined || b === 0 ? null : `${(a / b).toFixed(2)}×`)
const VALUE_LABEL: Record<ScaleValue, string> = { string100: '100-byte strings', object: 'small objects' }

export async function runScale(cfg: BenchConfig, log: (s: string) => void): Promise<{ section: Section; runs: ScaleRun[] }> {
  const runs: ScaleRun[] = []
  for (const args of scalePlan(cfg)) {
    log(`  ${args.competitor}, ${N(args.entries)} entries of ${VALUE_LABEL[args.value]}`)
    // A cache that could not hold fewer entries of this value kind is not tried with more.
    const smaller = runs.find((r) => r.failure && r.args.competitor === args.competitor && r.args.value === args.value && r.args.entries < args.entries)
    const run = smaller ? { args, failure: `not tried: did not fit ${N(smaller.args.entries)}` } : await runChild(args, cfg.scale.timeoutSeconds * 1000)
    if (run.failure) log(`    did not fit: ${run.failure}`)
    runs.push(run)
  }
  const tables: Table[] = []
  const groups = new Map<string, ScaleRun[]>()
  for (const r of runs) {
    const k = `${r.args.entries}|${r.args.value}`
    groups.set(k, [...(groups.get(k) ?? []), r])
  }
  for (const [k, group] of groups) {
    const [entries, value] = k.split('|') as [string, ScaleValue]
    const ok = group.filter((r) => r.result).map((r) => r.result!)
    const ref = ok.find((r) => r.competitor === 'lru-cache')
    const label = `${N(Number(entries))} entries of ${VALUE_LABEL[value]}, 24-char keys`
    tables.push({
      title: `scale: memory and fill, ${label}`,
      note: 'per entry = growth after the fill (forced GC), over N. "heap − value" is the JS heap per entry beyond the value itself (measured alone). RSS includes everything the process holds for the cache.',
      columns: ['cache', 'fill s', 'JS heap B/entry', 'heap − value B', 'heap vs lru-cache', 'RSS B/entry', 'RSS vs lru-cache'],
      rows: group.map((r) =>
        r.result
          ? [
              r.args.competitor,
              r.result.fillSeconds,
              r.result.heapPerEntry,
              // Serialized storage keeps no value on the JS heap: nothing to subtract.
              r.args.competitor.endsWith('serialized') ? null : r.result.heapPerEntry - r.result.valueHeapBytes,
              ratio(r.result.heapPerEntry, ref?.heapPerEntry),
              r.result.rssPerEntry,
              ratio(r.result.rssPerEntry, ref?.rssPerEntry),
            ]
          : [r.args.competitor, `did not fit: ${r.failure}`, null, null, null, null, null],
      ),
    })
    tables.push({
      title: `scale: a steady request loop, ${label}`,
      note: `${cfg.scale.seconds} s of requests of 20 awaited ops (90 % get / 10 % set over ${N(2 * Number(entries))} keys, Zipf 0.99); event-loop delay beyond its 1 ms timer (monitorEventLoopDelay), GC pauses (PerformanceObserver); a faster cache serves more ops in the same time, and allocates more, so GC is also given per 1M ops.`,
      columns: ['cache', 'ops/s', 'hit %', 'delay p50 ms', 'delay p99 ms', 'delay max ms', 'p99 vs lru-cache', 'GC count', 'GC total ms', 'GC max ms', 'GC total vs lru-cache', 'GC ms per 1M ops'],
      rows: ok.map((r) => [
        r.competitor,
        r.opsPerSecond,
        r.hitPercent.toFixed(1),
        r.loopDelayMs.p50,
        r.loopDelayMs.p99,
        r.loopDelayMs.max,
        ratio(r.loopDelayMs.p99, ref?.loopDelayMs.p99),
        r.gc.count,
        r.gc.totalMs,
        r.gc.maxMs,
        ratio(r.gc.totalMs, ref?.gc.totalMs),
        (r.gc.totalMs * 1e6) / r.ops,
      ]),
    })
  }
  tables.push({
    title: 'scale: the largest N each cache held (of the sizes tried)',
    note: 'default heap flags; "stopped at" is the first size that failed, and why.',
    columns: ['cache', 'largest N held', 'stopped at', 'because'],
    rows: COMPETITORS.map((c) => {
      const mine = runs.filter((r) => r.args.competitor === c)
      const held = mine.filter((r) => r.result).reduce((m, r) => Math.max(m, r.args.entries), 0)
      const failed = mine.filter((r) => r.failure).sort((a, b) => a.args.entries - b.args.entries)[0]
      return [c, held ? N(held) : 'none', failed ? N(failed.args.entries) : '—', failed?.failure ?? '—']
    }),
  })
  return { section: { id: 'scale', title: 'Scale: millions of entries, each cache in a fresh process', tables, notes: [] }, runs }
}
