/**
 * The bench's one output shape. Every section (including bench/redis.ts and the other
 * optional sections) returns `Section`s; index.ts prints them, writes them to JSON and to
 * the Markdown report.
 */
export type Cell = string | number | null

export interface Table {
  title: string
  /** what was measured and how to read it, one or two sentences */
  note?: string
  columns: string[]
  rows: Cell[][]
}

export interface Section {
  id: string
  title: string
  tables: Table[]
  /** why something was skipped, caveats: printed under the section title */
  notes: string[]
}

/** Numbers as a reader wants them: 3 significant digits, thousands separators. */
export function fmt(v: Cell): string {
  if (v === null) return '—'
  if (typeof v === 'string') return v
  if (!Number.isFinite(v)) return String(v)
  const a = Math.abs(v)
  if (a >= 1000 || Number.isInteger(v)) return Math.round(v).toLocaleString('en-US')
  if (a >= 100) return v.toFixed(0)
  if (a >= 10) return v.toFixed(1)
  if (a >= 1) return v.toFixed(2)
  if (a === 0) return '0'
  return v.toPrecision(2)
}

const NUMERIC_TEXT = /^([-+]?[\d.,]+(×|%| ?–[-+]?[\d.,]+)?|—)$/

/** Right-align columns of numbers (and of pre-formatted numbers such as "1.25×" or "3.1–4.2"). */
function isNumericColumn(t: Table, c: number): boolean {
  return t.rows.every((r) => r[c] === null || typeof r[c] === 'number' || NUMERIC_TEXT.test(String(r[c]))) && t.rows.some((r) => r[c] !== null)
}

export function renderText(t: Table): string {
  const cells = [t.columns, ...t.rows.map((r) => r.map(fmt))]
  const widths = t.columns.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)))
  const numeric = t.columns.map((_, c) => isNumericColumn(t, c))
  const line = (r: string[]) =>
    r.map((s, c) => (numeric[c] ? (s ?? '').padStart(widths[c]) : (s ?? '').padEnd(widths[c]))).join('  ')
  const out = [`${t.title}`]
  if (t.note) out.push(`  ${t.note}`)
  out.push(line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '))
  for (const r of cells.slice(1)) out.push(line(r))
  return out.join('\n')
}

/** One Markdown table row: cells formatted as in renderMarkdown, pipes escaped. */
export function markdownRow(cells: readonly Cell[]): string {
  return `| ${cells.map((v) => fmt(v).replace(/\|/g, '\\|')).join(' | ')} |`
}

export function renderMarkdown(t: Table): string {
  const numeric = t.columns.map((_, c) => isNumericColumn(t, c))
  const out = [`**${t.title}**`, '']
  if (t.note) out.push(t.note, '')
  out.push(markdownRow(t.columns))
  out.push(`|${numeric.map((n) => (n ? '---:' : '---')).join('|')}|`)
  for (const r of t.rows) out.push(markdownRow(r))
  return out.join('\n')
}
