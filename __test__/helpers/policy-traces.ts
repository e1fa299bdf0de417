import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { gunzipSync } from 'node:zlib'

/**
 * The traces the policy tests and the policies benchmark run, with the reference hit
 * ratios of /work/shared/traces/README.md (sim.py), in percent. `lruHits` is the exact LRU
 * hit count (LRU must match it exactly).
 */
export interface TraceRef {
  trace: string
  requests: number
  capacity: number
  lruHits: number
  lru: number
  opt: number
  s3fifo: number
  wtinylfu: number
}

export const TRACE_REFERENCE: TraceRef[] = [
  { trace: 'gli', requests: 6015, capacity: 3, lruHits: 50, lru: 0.83, opt: 1.15, s3fifo: 0.98, wtinylfu: 0.95 },
  { trace: 'gli', requests: 6015, capacity: 25, lruHits: 54, lru: 0.9, opt: 2.68, s3fifo: 1.18, wtinylfu: 1.16 },
  { trace: 'gli', requests: 6015, capacity: 253, lruHits: 55, lru: 0.91, opt: 17.84, s3fifo: 1.21, wtinylfu: 16.38 },
  { trace: 'web12', requests: 95607, capacity: 14, lruHits: 16170, lru: 16.91, opt: 34.19, s3fifo: 13.36, wtinylfu: 12.82 },
  { trace: 'web12', requests: 95607, capacity: 138, lruHits: 38043, lru: 39.79, opt: 58.54, s3fifo: 41.06, wtinylfu: 36.76 },
  { trace: 'web12', requests: 95607, capacity: 1376, lruHits: 65483, lru: 68.49, opt: 80.04, s3fifo: 72.26, wtinylfu: 70.74 },
  { trace: 'oltp', requests: 914145, capacity: 187, lruHits: 125877, lru: 13.77, opt: 35.01, s3fifo: 17.75, wtinylfu: 20.05 },
  { trace: 'oltp', requests: 914145, capacity: 1869, lruHits: 380653, lru: 41.64, opt: 59.76, s3fifo: 46.46, wtinylfu: 41.4 },
  { trace: 'oltp', requests: 914145, capacity: 18688, lruHits: 608101, lru: 66.52, opt: 76.21, s3fifo: 67.78, wtinylfu: 63.44 },
  { trace: 'orm-busy', requests: 5000000, capacity: 76, lruHits: 2509575, lru: 50.19, opt: 59.97, s3fifo: 40.25, wtinylfu: 26.91 },
  { trace: 'orm-busy', requests: 5000000, capacity: 763, lruHits: 3851698, lru: 77.03, opt: 82.82, s3fifo: 75.64, wtinylfu: 59.61 },
  { trace: 'orm-busy', requests: 5000000, capacity: 7635, lruHits: 4400401, lru: 88.01, opt: 93.31, s3fifo: 88.89, wtinylfu: 86.57 },
]

/** Committed with the repository: always run. */
export const COMMITTED_TRACES = ['gli', 'web12']
/** Read from the shared trace directory when it is there. */
export const SHARED_TRACES = ['oltp', 'orm-busy']

const REPO_ROOT = resolve(__dirname, '..', '..')

/**
 * Where a trace is, or why it is not available. Committed traces come from
 * __test__/fixtures/traces. Shared ones from ASTRA_TRACES_DIR when set (then a missing
 * file is an error: it was asked for), else from ../shared/traces beside the repository.
 * Under CI=true, a present ../shared without the trace is an error too (the CI checkout
 * has ../shared beside its clone); a machine without ../shared at all skips them.
 */
export function locateTrace(name: string, env: NodeJS.ProcessEnv = process.env): { path: string } | { skip: string } {
  const file = `${name}.keys.gz`
  if (COMMITTED_TRACES.includes(name)) return { path: join(REPO_ROOT, '__test__', 'fixtures', 'traces', file) }
  const dir = env.ASTRA_TRACES_DIR
  if (dir !== undefined && dir !== '') {
    const path = join(resolve(dir), file)
    if (!existsSync(path)) throw new Error(`ASTRA_TRACES_DIR=${dir} has no ${file}`)
    return { path }
  }
  const shared = resolve(REPO_ROOT, '..', 'shared')
  const path = join(shared, 'traces', file)
  if (existsSync(path)) return { path }
  if (env.CI === 'true' && existsSync(shared)) throw new Error(`CI=true and ${shared} exists, but ${path} is missing`)
  return { skip: `${file} not found (set ASTRA_TRACES_DIR or put the shared traces at ${join(shared, 'traces')})` }
}

const cache = new Map<string, string[]>()

export function readTraceKeys(path: string): string[] {
  let keys = cache.get(path)
  if (keys === undefined) {
    keys = gunzipSync(readFileSync(path)).toString('utf8').split('\n').filter(Boolean)
    cache.set(path, keys)
  }
  return keys
}
