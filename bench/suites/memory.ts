/**
 * Memory per entry and GC pauses with a big cache, each competitor in its own fresh process
 * (bench/memory-child.ts) so heaps and GC histories do not mix.
 */
import { execFileSync } from 'node:child_process'
import * as path from 'node:path'
import type { BenchConfig } from '../config'
import type { Lineup } from '../competitors'
import { summarize } from '../stats'
import type { Section, Table } from '../table'

export interface MemoryRow {
  competitor: string
  value: 'object' | 'string100'
  entries: number
  heapPerEntry: number
  externalPerEntry: number
  rssPerEntry: number
  fillNsPerOp: number
  churnOps: number
  churnNsPerOp: number
  churnHitPct: number
  gc: { count: number; totalMs: number; p50: number; p99: number; max: number }
}

const REPO = path.resolve(__dirname, '..', '..')

function runChild(args: object): string {
  return execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(__dirname, '..', 'memory-child.ts'), JSON.stringify(args)], {
    cwd: REPO,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

export async function runMemory(cfg: BenchConfig, lineup: Lineup, log: (s: string) => void): Promise<{ section: Section; rows: MemoryRow[] }> {
  const names = [...lineup.sync.map((c) => c.name), ...(lineup.serialized ? [lineup.serialized.name] : [])]
  const rows: MemoryRow[] = []
  const notes: string[] = [
    'per entry = growth after forced GC, divided by the entry count; it includes the key and value themselves where the cache keeps them on the JS heap.',
    `GC pauses recorded with PerformanceObserver('gc') while churning ${cfg.memory.churnOps.toLocaleString('en-US')} ops (90 % get of live keys, 10 % set of new keys, evicting); keys are built per op, as a server would.`,
  ]
  const failed: string[] = []
  for (const value of ['object', 'string100'] as const) {
    for (const competitor of names) {
      log(`  ${competitor}, ${value} values`)
      try {
        const out = runChild({ competitor, entries: cfg.memory.entries, churnOps: cfg.memory.churnOps, value, lruNative2: cfg.lruNative2 })
        const last = out.trim().split('\n').pop()!
        const r = JSON.parse(last)
        const s = summarize(r.gcPauses as number[])
        delete r.gcPauses
        rows.push({ ...r, gc: { count: s.count, totalMs: s.total, p50: s.median, p99: s.p99, max: s.max } })
      } catch (e) {
        const err = e as { stderr?: string; message?: string }
        const why = (err.stderr || err.message || String(e)).trim().split('\n').slice(-2).join(' ')
        failed.push(`${competitor} (${value}): ${why.slice(0, 300)}`)
      }
    }
  }
  for (const f of failed) notes.push(`failed: ${f}`)
  const tables: Table[] = []
  const N = cfg.memory.entries.toLocaleString('en-US')
  for (const value of ['object', 'string100'] as const) {
    const these = rows.filter((r) => r.value === value)
    if (!these.length) continue
    const ref = these.find((r) => r.competitor === 'lru-cache')
    const label = value === 'object' ? 'small object values ({id, name, active})' : '100-byte string values'
    tables.push({
      title: `memory per entry at ${N} entries, ${label}`,
      note: '16-char keys; heap = V8 heap used, external = Buffers/ArrayBuffers, RSS = resident set of the process.',
      columns: ['cache', 'heap B/entry', 'external B/entry', 'RSS B/entry', 'RSS vs lru-cache', 'fill µs/entry (incl. making key+value)'],
      rows: these
        .slice()
        .sort((a, b) => a.rssPerEntry - b.rssPerEntry)
        .map((r) => [r.competitor, Math.round(r.heapPerEntry), Math.round(r.externalPerEntry), Math.round(r.rssPerEntry), ref ? `${(r.rssPerEntry / ref.rssPerEntry).toFixed(2)}×` : null, r.fillNsPerOp / 1000]),
    })
    tables.push({
      title: `GC while churning a full cache of ${N} entries, ${label}`,
      note: 'pause times in ms (p50/p99/max over all GC events of the churn); total = sum of pauses.',
      columns: ['cache', 'GC count', 'p50 ms', 'p99 ms', 'max ms', 'total GC ms', 'p99 vs lru-cache', 'churn µs/op', 'hit %'],
      rows: these
        .slice()
        .sort((a, b) => a.gc.p99 - b.gc.p99)
        .map((r) => [
          r.competitor,
          r.gc.count,
          r.gc.p50,
          r.gc.p99,
          r.gc.max,
          r.gc.totalMs,
          ref && ref.gc.p99 > 0 ? `${(r.gc.p99 / ref.gc.p99).toFixed(2)}×` : null,
          r.churnNsPerOp / 1000,
          r.churnHitPct.toFixed(1),
        ]),
    })
  }
  return { section: { id: 'memory', title: 'Memory and GC (one fresh process per measurement)', tables, notes }, rows }
}
