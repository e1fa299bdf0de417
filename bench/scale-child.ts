/**
 * One scale measurement in a fresh process (spawned by suites/scale.ts with default heap
 * flags; --expose-gc only, to settle the heap before measuring): fill one cache with N
 * entries through its public API, report JS heap / RSS per entry, then serve a steady
 * request loop (20 awaited ops per request, 90 % get / 10 % set over 2N keys, Zipf) while
 * monitorEventLoopDelay and a PerformanceObserver record event-loop delay and GC pauses.
 * Prints one JSON line. A cache that cannot hold N entries makes the process fail (out of
 * memory, a thrown error): the parent reports it as "did not fit".
 */
import { monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import { LRUCache as IsaacsLRU } from 'lru-cache'
import MnemonistLRU from 'mnemonist/lru-cache'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { mulberry32, scatter, ZipfSampler } from './prng'

export type ScaleCompetitor = 'astra native' | 'astra native serialized' | 'astra js' | 'lru-cache' | 'mnemonist'
export type ScaleValue = 'string100' | 'object'

export interface ScaleArgs {
  competitor: ScaleCompetitor
  entries: number
  value: ScaleValue
  /** seconds of request loop */
  seconds: number
}

export interface ScaleResult extends ScaleArgs {
  fillSeconds: number
  heapPerEntry: number
  rssPerEntry: number
  externalPerEntry: number
  /** what one value costs on the JS heap by itself (measured here, for the "value + 16 B" target) */
  valueHeapBytes: number
  ops: number
  opsPerSecond: number
  hitPercent: number
  loopDelayMs: { p50: number; p99: number; max: number }
  gc: { count: number; totalMs: number; maxMs: number; majorMs: number; minorMs: number }
}

interface Subject {
  get(key: string): unknown
  set(key: string, value: unknown): unknown
}

const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('scale-child needs --expose-gc')

function settle(): void {
  for (let i = 0; i < 4; i++) gc!()
}

// Flat (sequential) strings, built without concatenation: a concatenated key is a rope.
const keyBuf = Buffer.from('key:00000000000000000000', 'latin1') // 24 characters
const valueBuf = Buffer.from('v'.repeat(100), 'latin1')

function writeDigits(buf: Buffer, from: number, to: number, n: number): void {
  for (let p = to - 1; p >= from; p--) {
    buf[p] = 48 + (n % 10)
    n = Math.floor(n / 10)
  }
}

function keyOf(i: number): string {
  writeDigits(keyBuf, 4, 24, i)
  return keyBuf.toString('latin1', 0, 24)
}

function valueOf(kind: ScaleValue, i: number): unknown {
  if (kind === 'object') return { id: i, name: 'user', active: true }
  writeDigits(valueBuf, 0, 20, i)
  return valueBuf.toString('latin1', 0, 100)
}

function subjectFor(a: ScaleArgs): Subject {
  switch (a.competitor) {
    case 'astra native':
      return new InMemoryLRUCache({ maxsize: a.entries, defaultTtl: 0, engine: 'native' })
    case 'astra native serialized':
      return new InMemoryLRUCache({ maxsize: a.entries, defaultTtl: 0, engine: 'native', storage: 'serialized' })
    case 'astra js':
      return new InMemoryLRUCache({ maxsize: a.entries, defaultTtl: 0, engine: 'js' })
    case 'lru-cache':
      return new IsaacsLRU<string, object>({ max: a.entries }) as Subject
    case 'mnemonist':
      return new MnemonistLRU<string, unknown>(a.entries) as Subject
  }
}

/** What one value costs on the JS heap (100k of them, less the array slot holding each). */
function valueHeapBytes(kind: ScaleValue): number {
  settle()
  const before = process.memoryUsage().heapUsed
  const hold: unknown[] = []
  for (let i = 0; i < 100_000; i++) hold.push(valueOf(kind, i))
  settle()
  const per = (process.memoryUsage().heapUsed - before) / hold.length - 8
  hold.length = 0
  return per
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2]) as ScaleArgs
  const N = a.entries
  const valueBytes = valueHeapBytes(a.value)
  settle()
  const m0 = process.memoryUsage()
  const cache = subjectFor(a)
  const t0 = performance.now()
  const heapLimit = getHeapStatistics().heap_size_limit
  for (let i = 0; i < N; i++) {
    await cache.set(keyOf(i), valueOf(a.value, i))
    // A heap this full only thrashes the GC (it could take hours to fail): say so instead.
    if (i % 262_144 === 0 && process.memoryUsage().heapUsed > 0.92 * heapLimit) {
      throw new Error(`JS heap ${(100 * process.memoryUsage().heapUsed / heapLimit).toFixed(0)} % full after ${i.toLocaleString('en-US')} entries (default heap limit ${(heapLimit / 2 ** 30).toFixed(1)} GiB)`)
    }
  }
  const fillSeconds = (performance.now() - t0) / 1000
  settle()
  const m1 = process.memoryUsage()

  // The request loop: requests back to back, the event loop turning between them.
  const universe = 2 * N
  const rand = mulberry32(42)
  const zipf = new ZipfSampler(universe, 0.99, rand)
  const pauses: number[] = []
  const byKind = { major: 0, minor: 0 }
  const record = (e: PerformanceEntry) => {
    pauses.push(e.duration)
    // perf_hooks.constants: NODE_PERFORMANCE_GC_MINOR = 1 (scavenge); the rest is marking/compaction.
    if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === 1) byKind.minor += e.duration
    else byKind.major += e.duration
  }
  const observer = new PerformanceObserver((list) => list.getEntries().forEach(record))
  observer.observe({ entryTypes: ['gc'] })
  // The histogram records each 1 ms timer interval; the delay is what exceeds it.
  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
  let ops = 0
  let gets = 0
  let hits = 0
  const request = async () => {
    for (let j = 0; j < 20; j++) {
      const i = scatter(zipf.next(), universe)
      const key = keyOf(i)
      if (rand() < 0.1) await cache.set(key, valueOf(a.value, i))
      else {
        gets++
        if ((await cache.get(key)) !== undefined) hits++
      }
      ops++
    }
  }
  const l0 = performance.now()
  const end = l0 + a.seconds * 1000
  await new Promise<void>((resolve, reject) => {
    const step = () => {
      if (performance.now() >= end) return resolve()
      request().then(() => setImmediate(step), reject)
    }
    step()
  })
  const loopSeconds = (performance.now() - l0) / 1000
  delay.disable()
  await new Promise((r) => setTimeout(r, 100)) // let the observer deliver the last entries
  observer.takeRecords().forEach(record)
  observer.disconnect()
  const result: ScaleResult = {
    ...a,
    fillSeconds,
    heapPerEntry: (m1.heapUsed - m0.heapUsed) / N,
    rssPerEntry: (m1.rss - m0.rss) / N,
    externalPerEntry: (m1.external + m1.arrayBuffers - m0.external - m0.arrayBuffers) / N,
    valueHeapBytes: valueBytes,
    ops,
    opsPerSecond: ops / loopSeconds,
    hitPercent: (100 * hits) / Math.max(1, gets),
    loopDelayMs: { p50: beyondTimer(delay.percentile(50)), p99: beyondTimer(delay.percentile(99)), max: beyondTimer(delay.max) },
    gc: { count: pauses.length, totalMs: pauses.reduce((x, y) => x + y, 0), maxMs: pauses.reduce((x, y) => Math.max(x, y), 0), majorMs: byKind.major, minorMs: byKind.minor },
  }
  process.stdout.write(`\n${JSON.stringify(result)}\n`)
}

/** A recorded timer interval (ns) less the 1 ms it was set for, in ms. */
function beyondTimer(ns: number): number {
  return Math.max(0, ns / 1e6 - 1)
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`)
  process.exit(1)
})
