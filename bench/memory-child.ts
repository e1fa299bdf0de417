/**
 * One memory/GC measurement in a fresh process (spawned by suites/memory.ts with
 * --expose-gc): fill one cache with N entries, report heap/RSS growth per entry, then churn
 * (90 % get / 10 % set of new keys, evicting) while a PerformanceObserver records GC pauses.
 * Prints one JSON line: the result.
 */
import { PerformanceObserver } from 'node:perf_hooks'
import { loadLineup, put } from './competitors'
import { mulberry32 } from './prng'

interface ChildArgs {
  competitor: string
  entries: number
  churnOps: number
  value: 'object' | 'string100'
  lruNative2: boolean
}

const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('memory-child needs --expose-gc')

/** A flat (sequential) string, as one read from a socket would be: no rope, no slice parent. */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1')
}
const keyOf = (i: number) => flat(`key:${i.toString().padStart(12, '0')}`) // 16 chars
const valueOf = (kind: ChildArgs['value'], i: number): unknown =>
  kind === 'object' ? { id: i, name: 'user', active: true } : flat(i.toString(36).padEnd(100, '.'))

function settle(): void {
  for (let i = 0; i < 4; i++) gc!()
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2]) as ChildArgs
  const lineup = await loadLineup({ lruNative2: a.lruNative2, quick: true, quiet: true })
  const sync = lineup.sync.find((c) => c.name === a.competitor)
  const asyncC = lineup.serialized?.name === a.competitor ? lineup.serialized : lineup.async.find((c) => c.name === a.competitor)
  if (!sync && !asyncC) throw new Error(`unknown competitor ${a.competitor}`)
  const N = a.entries

  settle()
  const m0 = process.memoryUsage()
  let get: (k: string) => unknown
  let set: (k: string, v: unknown) => unknown
  let size: () => number
  let close: () => unknown
  if (sync) {
    const inst = sync.create(N, 0)
    const t = inst.target
    get = (k) => t.get(k)
    set = (k, v) => put(inst, k, v)
    size = inst.size
    close = inst.close
  } else {
    const cache = asyncC!.create(N, 0)
    get = (k) => cache.get(k)
    set = (k, v) => cache.set(k, v)
    size = () => cache.stats().size
    close = () => cache.close()
  }
  const t0 = performance.now()
  for (let i = 0; i < N; i++) {
    const r = set(keyOf(i), valueOf(a.value, i))
    if (r instanceof Promise) await r
  }
  const fillMs = performance.now() - t0
  settle()
  const m1 = process.memoryUsage()
  const filled = size()
  if (filled !== N) throw new Error(`${a.competitor}: size ${filled} after ${N} sets, expected ${N}`)

  const pauses: number[] = []
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push(e.duration)
  })
  obs.observe({ entryTypes: ['gc'] })
  const rand = mulberry32(42)
  let next = N // next new key index
  let hits = 0
  let gets = 0
  const c0 = performance.now()
  for (let j = 0; j < a.churnOps; j++) {
    if (j % 10 === 9) {
      const r = set(keyOf(next), valueOf(a.value, next))
      next++
      if (r instanceof Promise) await r
    } else {
      // a key among the live window [next - N, next)
      const i = next - 1 - Math.floor(rand() * N)
      let v = get(keyOf(i))
      if (v instanceof Promise) v = await v
      gets++
      if (v !== undefined) hits++
    }
  }
  const churnMs = performance.now() - c0
  await new Promise((r) => setTimeout(r, 100)) // let the observer deliver the last entries
  for (const e of obs.takeRecords()) pauses.push(e.duration)
  obs.disconnect()
  await close()
  process.stdout.write(
    `\n${JSON.stringify({
      competitor: a.competitor,
      value: a.value,
      entries: N,
      heapPerEntry: (m1.heapUsed - m0.heapUsed) / N,
      externalPerEntry: (m1.external + m1.arrayBuffers - m0.external - m0.arrayBuffers) / N,
      rssPerEntry: (m1.rss - m0.rss) / N,
      fillNsPerOp: (fillMs * 1e6) / N,
      churnOps: a.churnOps,
      churnNsPerOp: (churnMs * 1e6) / a.churnOps,
      churnHitPct: (100 * hits) / gets,
      gcPauses: pauses,
    })}\n`,
  )
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`)
  process.exit(1)
})
