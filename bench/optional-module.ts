/**
 * Sections written by other people (bench/redis.ts, bench/metrics.ts, bench/decorators.ts,
 * bench/quick-native.ts) are optional: the file may not exist yet, or may be a standalone
 * script. A file is called only when its source exports a function (requiring a plain
 * script would run it), and whatever it returns is turned into Sections.
 */
import { existsSync, readFileSync } from 'node:fs'
import * as path from 'node:path'
import type { Section, Table } from './table'

export type SectionFn = (opts: Record<string, unknown>) => unknown

export function findExportedFunction(file: string, preferred: string[]): { fn?: SectionFn; name?: string; reason?: string } {
  const full = path.join(__dirname, file)
  if (!existsSync(full)) return { reason: `bench/${file} does not exist` }
  const names = [...readFileSync(full, 'utf8').matchAll(/export\s+(?:async\s+)?function\s+(\w+)/g)].map((m) => m[1])
  if (!names.length) return { reason: `bench/${file} exports no function (a standalone script: run it with npx tsx bench/${file})` }
  const name = preferred.find((p) => names.includes(p)) ?? names[0]
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(full)
    if (typeof mod[name] !== 'function') return { reason: `bench/${file}: ${name} is not a function at run time` }
    return { fn: mod[name] as SectionFn, name }
  } catch (e) {
    return { reason: `bench/${file} does not load: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}` }
  }
}

function isTable(x: unknown): x is Table {
  return !!x && typeof x === 'object' && Array.isArray((x as Table).columns) && Array.isArray((x as Table).rows)
}

/** Accepts Section, Section[], {tables}, {table}, {sections}; anything else is kept as raw JSON only. */
export function toSections(id: string, title: string, value: unknown): Section[] {
  const one = (v: unknown, i: number): Section | undefined => {
    if (!v || typeof v !== 'object') return undefined
    const o = v as Partial<Section> & { skipped?: string; table?: unknown }
    if (isTable(o.table)) return { id: o.id ?? id, title: o.title ?? title, tables: [o.table], notes: o.notes ?? [] }
    if (Array.isArray(o.tables) && o.tables.every(isTable))
      return { id: o.id ?? `${id}${i ? `-${i}` : ''}`, title: o.title ?? title, tables: o.tables, notes: o.notes ?? [] }
    if (typeof o.skipped === 'string') return { id, title, tables: [], notes: [`skipped: ${o.skipped}`] }
    return undefined
  }
  const list = Array.isArray(value) ? value : (value as { sections?: unknown[] })?.sections ?? [value]
  const out = list.map(one).filter((s): s is Section => !!s)
  return out.length ? out : [{ id, title, tables: [], notes: ['the section returned no tables (raw result kept in the JSON file)'] }]
}
