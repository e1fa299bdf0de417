/** Finding and reading the *.keys.gz access traces (format: /work/shared/traces/README.md). */
import { existsSync, readFileSync } from 'node:fs'
import * as path from 'node:path'
import { gunzipSync } from 'node:zlib'

const REPO = path.resolve(__dirname, '..')

/** Directories searched, in order: --traces / ASTRA_TRACES_DIR, ../shared/traces, the test fixtures. */
export function traceDirs(explicit?: string): string[] {
  if (explicit) return [explicit]
  return [path.resolve(REPO, '..', 'shared', 'traces'), path.join(REPO, '__test__', 'fixtures', 'traces')]
}

export function findTrace(name: string, dirs: string[]): string | undefined {
  for (const d of dirs) {
    const f = path.join(d, `${name}.keys.gz`)
    if (existsSync(f)) return f
  }
  return undefined
}

export function readTrace(file: string): string[] {
  const text = gunzipSync(readFileSync(file)).toString('latin1')
  const keys = text.split('\n')
  if (keys[keys.length - 1] === '') keys.pop()
  return keys
}

export interface RefRow {
  capacity: number
  lru: number
  opt: number
  s3fifo: number
  wtinylfu: number
  sieve: number
}
export interface TraceRef {
  requests: number
  uniqueKeys: number
  /** set for the synthetic traces: bench/synthetic-traces.ts makes them */
  generator?: string
  percentCapacities: (RefRow & { percentOfUnique: string })[]
  literatureCapacities: RefRow[]
}
/** The reference table of the traces' README, embedded so the bench stands alone. */
export function loadReference(): Record<string, TraceRef> {
  return JSON.parse(readFileSync(path.join(__dirname, 'trace-reference.json'), 'utf8')).traces
}
