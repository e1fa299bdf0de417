/**
 * Writes the run: bench/results/<mode>-<timestamp>.json (everything, raw) and a Markdown
 * report (full: bench/results/README-tables.md, the file the README's Performance section
 * is pasted from; quick: bench/results/quick-tables.md) with Mermaid xychart-beta charts.
 * A full-mode run with --only replaces just its own sections in README-tables.md (see
 * mergeSections): every table keeps the machine line and date of the run that made it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import type { BenchConfig } from './config'
import type { Lineup } from './competitors'
import { type MachineInfo, machineLine } from './machine'
import type { ApiRow } from './suites/api'
import type { MemoryRow } from './suites/memory'
import type { ScenarioRow } from './suites/throughput'
import { type Cell, markdownRow, renderMarkdown, renderText, type Section, type Table } from './table'

interface ReportInput {
  cfg: BenchConfig
  machine: MachineInfo
  sections: Section[]
  results: Record<string, unknown>
  lineup: Lineup
  seconds: number
  argv: string[]
}

const NATIVE = 'astra native (engine)'
const JS = 'astra js (engine)'

/** The headline numbers as ratios to lru-cache in this run (lower is better everywhere). */
export function ratioTable(results: Record<string, unknown>): Table | undefined {
  const tp = (results.throughput as ScenarioRow[] | undefined) ?? []
  const api = (results.api as ApiRow[] | undefined) ?? []
  const mem = (results.memory as MemoryRow[] | undefined) ?? []
  const rows: Cell[][] = []
  const ratio = (a?: number, b?: number): Cell => (a !== undefined && b !== undefined && b > 0 ? `${(a / b).toFixed(2)}×` : null)
  const tpRatio = (scenario: string, who: string) =>
    ratio(tp.find((r) => r.scenario === scenario && r.competitor === who)?.ns, tp.find((r) => r.scenario === scenario && r.competitor === 'lru-cache')?.ns)
  for (const [label, scenario] of [
    ['get hit (16-char keys)', 'get-hit-k16'],
    ['get hit with TTL', 'get-hit-ttl'],
    ['set with eviction', 'set-evict'],
    ['Zipf 90/10 mixed', 'zipf-mixed'],
  ]) {
    if (tp.some((r) => r.scenario === scenario)) rows.push([label, tpRatio(scenario, NATIVE), tpRatio(scenario, JS)])
  }
  const lruGet = api.find((r) => r.scenario === 'getMany' && r.competitor.startsWith('lru-cache'))?.ns
  const bestGetMany = (engine: 'native' | 'js') => {
    const xs = api.filter((r) => r.scenario === 'getMany' && r.competitor.startsWith(`astra ${engine}`) && r.competitor.includes('getMany'))
    return xs.length ? Math.min(...xs.map((r) => r.ns)) : undefined
  }
  if (lruGet) rows.push(['getMany(100) per key vs lru-cache get', ratio(bestGetMany('native'), lruGet), ratio(bestGetMany('js'), lruGet)])
  for (const value of ['object', 'string100'] as const) {
    const ref = mem.find((r) => r.value === value && r.competitor === 'lru-cache')
    if (!ref) continue
    const m = (who: string) => mem.find((r) => r.value === value && r.competitor === who)
    const serialized = mem.find((r) => r.value === value && r.competitor.includes('serialized'))
    const label = value === 'object' ? 'object values' : '100-byte strings'
    rows.push([`RSS per entry, ${label}`, ratio(m(NATIVE)?.rssPerEntry, ref.rssPerEntry), ratio(m(JS)?.rssPerEntry, ref.rssPerEntry)])
    if (serialized) rows.push([`RSS per entry, ${label}, native serialized`, ratio(serialized.rssPerEntry, ref.rssPerEntry), null])
    rows.push([`GC pause p99, ${label}`, ratio(m(NATIVE)?.gc.p99, ref.gc.p99), ratio(m(JS)?.gc.p99, ref.gc.p99)])
    if (serialized) rows.push([`GC pause p99, ${label}, native serialized`, ratio(serialized.gc.p99, ref.gc.p99), null])
  }
  if (!rows.length) return undefined
  return {
    title: 'astra-cache as a ratio to lru-cache, same run (lower is better)',
    note: 'time per op, bytes per entry or GC pause of astra divided by lru-cache\'s; — = not measured in this run.',
    columns: ['metric', 'native', 'js'],
    rows,
  }
}

function mermaidBar(title: string, unit: string, items: { name: string; value: number }[]): string {
  const max = Math.max(...items.map((i) => i.value))
  const labels = items.map((i) => JSON.stringify(i.name.replace(/"/g, "'"))).join(', ')
  const values = items.map((i) => (i.value >= 100 ? Math.round(i.value) : Math.round(i.value * 10) / 10)).join(', ')
  return ['```mermaid', 'xychart-beta', `  title "${title}"`, `  x-axis [${labels}]`, `  y-axis "${unit}" 0 --> ${Math.ceil(max * 1.1)}`, `  bar [${values}]`, '```'].join('\n')
}

export function charts(results: Record<string, unknown>): string[] {
  const out: string[] = []
  const tp = (results.throughput as ScenarioRow[] | undefined) ?? []
  for (const [scenario, title] of [
    ['get-hit-k16', 'get hit, ns/op (lower is better)'],
    ['zipf-mixed', 'Zipf 90/10 mixed, ns/op (lower is better)'],
  ]) {
    const xs = tp.filter((r) => r.scenario === scenario).sort((a, b) => a.ns - b.ns)
    if (xs.length) out.push(mermaidBar(title, 'ns/op', xs.map((r) => ({ name: r.competitor, value: r.ns }))))
  }
  const mem = ((results.memory as MemoryRow[] | undefined) ?? []).filter((r) => r.value === 'string100')
  if (mem.length) {
    out.push(mermaidBar('RSS bytes per entry, 100-byte values (lower is better)', 'bytes', mem.slice().sort((a, b) => a.rssPerEntry - b.rssPerEntry).map((r) => ({ name: r.competitor, value: r.rssPerEntry }))))
    out.push(mermaidBar('GC pause p99 while churning, ms (lower is better)', 'ms', mem.slice().sort((a, b) => a.gc.p99 - b.gc.p99).map((r) => ({ name: r.competitor, value: r.gc.p99 }))))
  }
  return out
}

export function writeReports(r: ReportInput): string[] {
  mkdirSync(r.cfg.outDir, { recursive: true })
  const mode = r.cfg.quick ? 'quick' : 'full'
  const stamp = r.machine.date.replace(/[:.]/g, '-').slice(0, 19)
  const mline = machineLine(r.machine)
  const command = `npm run bench${r.argv.length ? ` -- ${r.argv.join(' ')}` : ''}`
  const jsonFile = path.join(r.cfg.outDir, `${mode}-${stamp}.json`)
  const summary = ratioTable(r.results)
  writeFileSync(
    jsonFile,
    JSON.stringify(
      {
        mode,
        command,
        machine: r.machine,
        seconds: r.seconds,
        config: { ...r.cfg, only: r.cfg.only ? [...r.cfg.only] : undefined },
        competitors: r.lineup.sync.map((c) => ({ name: c.name, group: c.group, exactLru: c.exactLru, note: c.note })),
        asyncApi: r.lineup.async.map((c) => c.name),
        notMeasured: r.lineup.missing,
        summary,
        sections: r.sections,
        results: r.results,
      },
      null,
      2,
    ),
  )
  const md: string[] = [
    `<!-- generated by \`${command}\` on ${r.machine.date}; do not edit by hand -->`,
    '',
    `Machine: ${mline}`,
    '',
    `Command: \`${command}\` (${mode} mode, ${r.seconds.toFixed(0)} s). Medians of ${r.cfg.rounds} round(s) of tinybench samples, each sample ${r.cfg.opsPerCall} operations.`,
    '',
  ]
  if (r.lineup.missing.length) {
    md.push('Not measured in this run:', '')
    for (const m of r.lineup.missing) md.push(`- ${m.name}: ${m.reason}`)
    md.push('')
  }
  if (summary) md.push(renderMarkdown(summary), '')
  const ch = charts(r.results)
  if (ch.length) md.push(...ch.flatMap((c) => [c, '']))
  const blocks = r.sections.map((s) => sectionBlock(s, mline))
  for (const b of blocks) md.push(b)
  const mdFile = path.join(r.cfg.outDir, r.cfg.quick ? 'quick-tables.md' : 'README-tables.md')
  const partial = !r.cfg.quick && r.cfg.only !== undefined && existsSync(mdFile)
  const merged = () => mergeSummary(mergeSections(readFileSync(mdFile, 'utf8'), r.sections, blocks, `\`${command}\` on ${r.machine.date}`), summary, ch, r.machine.date.slice(0, 10))
  writeFileSync(mdFile, partial ? merged() : md.join('\n'))
  if (summary) process.stdout.write(`\n${renderText(summary)}\n  machine: ${mline}\n`)
  return [jsonFile, mdFile]
}

/**
 * A partial run's summary rows and charts over the last full report's, so that the summary at
 * the top never contradicts the sections under it: each row of the same metric (first cell) is
 * replaced and marked with this run's date, and so is each chart of the same title. Rows and
 * charts this run did not measure stay as they were.
 */
export function mergeSummary(previous: string, summary: Table | undefined, newCharts: string[], date: string): string {
  // Only the head, before the first section, holds the summary and the charts.
  const sectionsAt = previous.indexOf('\n### ')
  let out = sectionsAt < 0 ? previous : previous.slice(0, sectionsAt)
  const rest = sectionsAt < 0 ? '' : previous.slice(sectionsAt)
  const mark = ` (rerun ${date})`
  for (const row of summary?.rows ?? []) {
    const label = String(row[0])
    const line = markdownRow([`${label}${mark}`, ...row.slice(1)])
    const at = out.search(new RegExp(`^\\| ${escapeRegExp(label)}( \\(rerun [^)]*\\))? \\|`, 'm'))
    if (at < 0) continue
    const end = out.indexOf('\n', at)
    out = `${out.slice(0, at)}${line}${end < 0 ? '' : out.slice(end)}`
  }
  for (const chart of newCharts) {
    const title = /\n {2}title "([^"]*)"/.exec(chart)?.[1]
    if (title === undefined) continue
    const titleAt = out.indexOf(`\n  title "${title}`)
    if (titleAt < 0) continue
    const start = out.lastIndexOf('```mermaid', titleAt)
    const end = out.indexOf('```', titleAt)
    if (start < 0 || end < 0) continue
    out = `${out.slice(0, start)}${chart.replace(`title "${title}"`, `title "${title} · rerun ${date}"`)}${out.slice(end + 3)}`
  }
  return out + rest
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** One section as Markdown: its title, notes, and each table with the machine line of this run. */
function sectionBlock(s: Section, mline: string): string {
  const md: string[] = [`### ${s.title}`, '']
  for (const n of s.notes) md.push(`- ${n}`)
  if (s.notes.length) md.push('')
  for (const t of s.tables) md.push(renderMarkdown(t), '', `<sub>${mline}</sub>`, '')
  return md.join('\n')
}

/**
 * A partial run (--only) over the last full report: each of its sections replaces the section
 * of the same title (from its "### " line to the next one), or is appended; the header and
 * every other section stay as the full run wrote them (the summary rows and charts: see
 * mergeSummary). One comment line under the first records what was replaced, by which command
 * and when.
 */
export function mergeSections(previous: string, sections: Section[], blocks: string[], by: string): string {
  let out = previous
  sections.forEach((s, i) => {
    const start = out.indexOf(`\n### ${s.title}\n`)
    if (start < 0) {
      out = `${out.trimEnd()}\n\n${blocks[i]}`
      return
    }
    const next = out.indexOf('\n### ', start + 1)
    out = `${out.slice(0, start + 1)}${blocks[i]}${next < 0 ? '' : out.slice(next)}`
  })
  const note = `<!-- sections ${sections.map((s) => JSON.stringify(s.title)).join(', ')} replaced by ${by} -->`
  const firstLineEnd = out.indexOf('\n')
  return `${out.slice(0, firstLineEnd + 1)}${note}\n${out.slice(firstLineEnd + 1)}`
}
