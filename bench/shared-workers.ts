/**
 * One shared cache (InMemoryLRUCache.shared, serialized storage, sharded locks) read by
 * 1, 2 and 4 worker_threads at once: aggregate get throughput against 1 thread.
 * Every worker runs the same number of get hits on a pre-filled cache (Zipf-free uniform
 * keys over the live set); the wall time runs from the common start to the last finish.
 * Run alone: npx tsx bench/shared-workers.ts [--quick]
 */
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { renderText, type Section } from './table'

const WORKER = path.join(__dirname, '..', '__test__', 'helpers', 'shared-worker.ts')

interface WorkerResult {
  gets: number
  hits: number
  ms: number
  error?: string
}

function startWorker(input: object): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(`require('tsx/cjs'); require(${JSON.stringify(WORKER)})`, { eval: true, workerData: input })
    w.once('message', (m: WorkerResult) => (m.error ? reject(new Error(m.error)) : resolve(m)))
    w.once('error', reject)
  })
}

async function measure(name: string, options: object, threads: number, getsPerThread: number, keys: number): Promise<{ opsPerSec: number; hitPct: number }> {
  const barrier = new Int32Array(new SharedArrayBuffer(8))
  barrier[1] = threads
  const results = await Promise.all(
    Array.from({ length: threads }, (_, i) =>
      startWorker({ name, options, barrier, close: true, random: { seed: 1000 + i, count: getsPerThread, keys, setShare: 0, invalidateShare: 0 } }),
    ),
  )
  // Per-worker run time from the barrier: thread start-up (loading tsx) is not counted.
  const wall = Math.max(...results.map((r) => r.ms))
  const gets = results.reduce((a, r) => a + r.gets, 0)
  const hits = results.reduce((a, r) => a + r.hits, 0)
  return { opsPerSec: (gets / wall) * 1000, hitPct: (100 * hits) / gets }
}

export async function sharedWorkersSection(opts: { quick?: boolean } = {}): Promise<Section> {
  const quick = opts.quick ?? process.argv.includes('--quick')
  const keys = quick ? 10_000 : 100_000
  const getsPerThread = quick ? 200_000 : 1_000_000
  const name = `bench-shared-${process.pid}`
  const options = { maxsize: keys, defaultTtl: 0, shards: 16 }
  const owner = InMemoryLRUCache.shared<string>(name, options)
  for (let i = 0; i < keys; i++) await owner.set(`key:${i}`, `${i}:${'x'.repeat(90)}`)
  const rows: (string | number)[][] = []
  const notes: string[] = []
  // Rounds interleave 1, 2 and 4 threads, best of each kept: load from other processes on
  // the machine then hits every thread count alike instead of one of them.
  const counts = [1, 2, 4]
  const best = counts.map(() => ({ opsPerSec: 0, hitPct: 0 }))
  for (let round = 0; round < (quick ? 3 : 4); round++) {
    for (let i = 0; i < counts.length; i++) {
      const r = await measure(name, options, counts[i], getsPerThread, keys)
      if (r.opsPerSec > best[i].opsPerSec) best[i] = r
    }
  }
  for (let i = 0; i < counts.length; i++) {
    rows.push([String(counts[i]), best[i].opsPerSec / 1e6, best[i].hitPct.toFixed(1), `${(best[i].opsPerSec / best[0].opsPerSec).toFixed(2)}×`])
  }
  const s = owner.stats()
  notes.push(`counters after all runs: ${s.hits.toLocaleString('en-US')} hits + ${s.misses.toLocaleString('en-US')} misses (every get counted once).`)
  await owner.close()
  return {
    id: 'shared-workers',
    title: 'One shared cache, several worker threads',
    notes,
    tables: [
      {
        title: `aggregate get throughput, shared cache of ${keys.toLocaleString('en-US')} entries (16 shards, 100-byte string values), ${getsPerThread.toLocaleString('en-US')} gets per thread`,
        note: 'Cache API get() (async) in each worker; best of rounds; time from a common start barrier to each worker\'s end (the slowest counts).',
        columns: ['threads', 'M gets/s (all threads)', 'hit %', 'vs 1 thread'],
        rows,
      },
    ],
  }
}

if (require.main === module) {
  sharedWorkersSection()
    .then((s) => {
      for (const n of s.notes) console.log(`note: ${n}`)
      for (const t of s.tables) console.log(renderText(t))
    })
    .catch((e) => {
      console.error(e)
      process.exit(1)
    })
}
