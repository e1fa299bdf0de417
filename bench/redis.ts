/**
 * RedisCache vs raw ioredis against the same local redis-server, in the same run:
 * - get latency p50/p99 (one caller, sequential), rounds interleaved to cancel drift;
 * - throughput with 100 concurrent callers (ABBA order, twice, to cancel drift), plus node's CPU
 *   time per op (user+system, GC threads included), which is steadier than ops/s on a shared machine;
 * - the same throughput with ioredis auto-pipelining on for both clients;
 * - the worst call latency while the server is SIGSTOPped for 2 s (default options);
 * - the cost of the stale-while-revalidate envelope check every object hit pays;
 * - TieredCache L1-hit / L2-hit latency vs RedisCache alone (bench/tiered.ts), same run.
 * Run alone: `npx tsx bench/redis.ts [--quick] [--json]` (starts its own redis-server on a free port).
 * In `npm run bench` (section "redis") the result carries `tables` (bench/table.ts) and the raw numbers.
 * Targets: latency ratio <= 1.15, throughput ratio >= 0.9.
 * Fair comparison: the raw client gets exactly the ioredis options of the client RedisCache makes
 * (ownClientOptions: offline queue off, no retries, no ioredis commandTimeout; none of them is on
 * the hot path) and, in the main rows, neither uses auto-pipelining.
 */
import { Redis } from 'ioredis'
import { RedisCache } from '../src/redis/redis-cache'
import { DEFAULT_COMMAND_TIMEOUT_MS, ownClientOptions } from '../src/redis/options'
import { isEnvelope } from '../src/facade/envelope'
import { redisServerAvailable, sleep, startRedis } from '../__test__/helpers/redis-server'
import { renderText, type Table } from './table'
import { benchTiered, type TieredBenchRow } from './tiered'

export interface Throughput {
  rawOpsPerSec: number
  rawParseOpsPerSec: number
  cacheOpsPerSec: number
  ratio: number
  ratioVsRawParse: number
  /** Node CPU µs per op (user + system). */
  rawCpuUsPerOp: number
  rawParseCpuUsPerOp: number
  cacheCpuUsPerOp: number
  concurrency: number
}

export interface RedisBenchResult {
  skipped?: string
  redisVersion?: string
  latency?: { rawP50Us: number; rawP99Us: number; cacheP50Us: number; cacheP99Us: number; p50Ratio: number; p99Ratio: number }
  throughput?: Throughput
  /** Both clients with ioredis enableAutoPipelining. */
  autoPipelined?: Throughput
  sigstop?: { worstCallMs: number; calls: number; rejections: number; timeoutMs: number }
  /** ns per `typeof v === 'object' && v !== null && isEnvelope(v)` on the bench value (what every object hit now pays). */
  envelopeCheckNs?: number
  tiered?: TieredBenchRow[]
  /** Why the tiered rows are missing, when they are. */
  tieredSkipped?: string
  /** The same numbers as bench/table.ts tables, for `npm run bench`. */
  id: 'redis'
  title: string
  tables: Table[]
  notes: string[]
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function latency(raw: Redis, cache: RedisCache<unknown>, key: string, rounds: number, perRound: number) {
  const rawTimes: number[] = []
  const cacheTimes: number[] = []
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < perRound; i++) {
      const t0 = performance.now()
      await raw.get(`${cache.keyPrefix}${key}`)
      rawTimes.push(performance.now() - t0)
    }
    for (let i = 0; i < perRound; i++) {
      const t0 = performance.now()
      await cache.get(key)
      cacheTimes.push(performance.now() - t0)
    }
  }
  rawTimes.sort((a, b) => a - b)
  cacheTimes.sort((a, b) => a - b)
  const us = (ms: number) => Math.round(ms * 1000 * 10) / 10
  const rawP50Us = us(percentile(rawTimes, 50))
  const rawP99Us = us(percentile(rawTimes, 99))
  const cacheP50Us = us(percentile(cacheTimes, 50))
  const cacheP99Us = us(percentile(cacheTimes, 99))
  return { rawP50Us, rawP99Us, cacheP50Us, cacheP99Us, p50Ratio: +(cacheP50Us / rawP50Us).toFixed(3), p99Ratio: +(cacheP99Us / rawP99Us).toFixed(3) }
}

interface Run {
  ops: number
  cpuUs: number
}

async function throughput(call: () => Promise<unknown>, concurrency: number, durationMs: number): Promise<Run> {
  let ops = 0
  const cpu0 = process.cpuUsage()
  const end = performance.now() + durationMs
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await call()
        ops++
      }
    }),
  )
  const cpu = process.cpuUsage(cpu0)
  return { ops, cpuUs: cpu.user + cpu.system }
}

/** raw, cache, cache, raw (twice unless quick), then raw get + JSON.parse; sums per side. */
async function compareThroughput(raw: Redis, cache: RedisCache<unknown>, key: string, durationMs: number, cycles: number): Promise<Throughput> {
  const concurrency = 100
  const fullKey = cache.keyPrefix + key
  const rawGet = () => raw.get(fullKey)
  const cacheGet = () => cache.get(key)
  const rawParse = () => raw.get(fullKey).then((s) => (s === null ? undefined : JSON.parse(s)))
  await throughput(rawGet, concurrency, 300) // warm-up
  await throughput(cacheGet, concurrency, 300)
  const rawRuns: Run[] = []
  const cacheRuns: Run[] = []
  for (let c = 0; c < cycles; c++) {
    rawRuns.push(await throughput(rawGet, concurrency, durationMs))
    cacheRuns.push(await throughput(cacheGet, concurrency, durationMs))
    cacheRuns.push(await throughput(cacheGet, concurrency, durationMs))
    rawRuns.push(await throughput(rawGet, concurrency, durationMs))
  }
  const parseRun = await throughput(rawParse, concurrency, durationMs * 2)
  const sum = (runs: Run[]) => runs.reduce((a, r) => ({ ops: a.ops + r.ops, cpuUs: a.cpuUs + r.cpuUs }), { ops: 0, cpuUs: 0 })
  const rawSum = sum(rawRuns)
  const cacheSum = sum(cacheRuns)
  const seconds = (durationMs / 1000) * rawRuns.length
  const rawOps = Math.round(rawSum.ops / seconds)
  const cacheOps = Math.round(cacheSum.ops / seconds)
  const rawParseOps = Math.round(parseRun.ops / ((durationMs * 2) / 1000))
  const perOp = (r: Run) => +(r.cpuUs / r.ops).toFixed(2)
  return {
    rawOpsPerSec: rawOps,
    rawParseOpsPerSec: rawParseOps,
    cacheOpsPerSec: cacheOps,
    ratio: +(cacheOps / rawOps).toFixed(3),
    ratioVsRawParse: +(cacheOps / rawParseOps).toFixed(3),
    rawCpuUsPerOp: perOp(rawSum),
    rawParseCpuUsPerOp: perOp(parseRun),
    cacheCpuUsPerOp: perOp(cacheSum),
    concurrency,
  }
}

async function sigstopWorst(): Promise<RedisBenchResult['sigstop']> {
  const server = await startRedis()
  const cache = new RedisCache<string>({ redisUrl: server.url, keyPrefix: 'bench:stop:' })
  cache.on('error', () => {})
  let running = true
  let worst = 0
  let calls = 0
  let rejections = 0
  const loops = Array.from({ length: 20 }, async (_, w) => {
    let i = 0
    while (running) {
      const t0 = performance.now()
      try {
        if (i++ % 2) await cache.get(`k${w}`)
        else await cache.getOrSet(`k${w}:${i % 5}`, () => 'v')
      } catch {
        rejections++
      }
      worst = Math.max(worst, performance.now() - t0)
      calls++
      await sleep(2)
    }
  })
  await sleep(300)
  server.pause()
  await sleep(2000)
  server.resume()
  const deadline = Date.now() + 15_000
  while (cache.health().breaker !== 'closed' && Date.now() < deadline) await sleep(20)
  await sleep(300)
  running = false
  await Promise.all(loops)
  await cache.close()
  await server.stop()
  return { worstCallMs: +worst.toFixed(1), calls, rejections, timeoutMs: DEFAULT_COMMAND_TIMEOUT_MS }
}

/** The added per-hit work of envelope unwrapping, on a value that is not an envelope (the common case). */
function envelopeCheckNs(value: unknown): number {
  const n = 2_000_000
  let found = 0
  const check = (v: unknown) => typeof v === 'object' && v !== null && isEnvelope(v)
  for (let i = 0; i < 200_000; i++) if (check(value)) found++ // warm-up
  const t0 = performance.now()
  for (let i = 0; i < n; i++) if (check(value)) found++
  const ns = ((performance.now() - t0) * 1e6) / n
  if (found !== 0) throw new Error('the bench value must not be an envelope')
  return +ns.toFixed(1)
}

const TITLE = 'Redis: RedisCache vs raw ioredis'

export async function runRedisBench(options: { quick?: boolean; tiered?: boolean } = {}): Promise<RedisBenchResult> {
  const available = redisServerAvailable()
  if (!available.available) return { skipped: available.reason, id: 'redis', title: TITLE, tables: [], notes: [`skipped: ${available.reason}`] }
  const server = await startRedis()
  const raw = new Redis(server.url, ownClientOptions(DEFAULT_COMMAND_TIMEOUT_MS))
  const cache = new RedisCache<unknown>({ redisUrl: server.url, keyPrefix: 'bench:' })
  const pipelinedOptions = { enableAutoPipelining: true }
  const rawPipelined = new Redis(server.url, ownClientOptions(DEFAULT_COMMAND_TIMEOUT_MS, pipelinedOptions))
  const cachePipelined = new RedisCache<unknown>({ redisUrl: server.url, keyPrefix: 'bench:', redisOptions: pipelinedOptions })
  try {
    const value = { id: 42, name: 'Ada Lovelace', tags: ['math', 'engines'], active: true }
    await cache.set('hot', value, 0)
    await latency(raw, cache, 'hot', 2, 500) // warm-up
    const lat = await latency(raw, cache, 'hot', options.quick ? 4 : 10, 1000)
    const duration = options.quick ? 500 : 1000
    const cycles = options.quick ? 1 : 2
    const tput = await compareThroughput(raw, cache, 'hot', duration, cycles)
    const pipelined = await compareThroughput(rawPipelined, cachePipelined, 'hot', duration, cycles)
    const result: Omit<RedisBenchResult, 'tables' | 'notes' | 'id' | 'title'> = {
      redisVersion: available.version,
      latency: lat,
      throughput: tput,
      autoPipelined: pipelined,
      sigstop: await sigstopWorst(),
      envelopeCheckNs: envelopeCheckNs(value),
    }
    if (options.tiered !== false) {
      try {
        result.tiered = await benchTiered({ ops: options.quick ? 2000 : 20_000 })
      } catch (err) {
        result.tieredSkipped = `bench/tiered.ts failed: ${(err as Error)?.message ?? String(err)}`
      }
    }
    return { ...result, ...redisTables(result) }
  } finally {
    await cache.close()
    await cachePipelined.close()
    raw.disconnect()
    rawPipelined.disconnect()
    await server.stop()
  }
}

const x = (ratio: number) => `${ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2)}×`

/** The numbers as bench/table.ts tables (what `npm run bench` prints and writes to the report). */
export function redisTables(r: Omit<RedisBenchResult, 'tables' | 'notes' | 'id' | 'title'>): Pick<RedisBenchResult, 'id' | 'title' | 'tables' | 'notes'> {
  const tables: Table[] = []
  const notes: string[] = [
    `redis-server ${r.redisVersion} on 127.0.0.1, one throwaway server per run; value: a small JSON object; both clients get RedisCache's own ioredis options (no auto-pipelining unless stated).`,
  ]
  const l = r.latency!
  tables.push({
    title: 'get latency, one sequential caller',
    note: 'Rounds of 1,000 gets interleaved between the two clients to cancel drift. Ratio = RedisCache / raw; target <= 1.15.',
    columns: ['metric', 'raw ioredis µs', 'RedisCache µs', 'ratio', 'target'],
    rows: [
      ['p50', l.rawP50Us, l.cacheP50Us, x(l.p50Ratio), '<= 1.15'],
      ['p99', l.rawP99Us, l.cacheP99Us, x(l.p99Ratio), '<= 1.15'],
    ],
  })
  const t = r.throughput!
  const p = r.autoPipelined!
  tables.push({
    title: `get throughput, ${t.concurrency} concurrent callers`,
    note: 'Runs in ABBA order; "raw + JSON.parse" is raw ioredis doing the decoding RedisCache does. CPU = node user+system µs per get (steadier than ops/s on a shared machine). Throughput target: ratio vs raw >= 0.9.',
    columns: ['client', 'raw ioredis', 'raw + JSON.parse', 'RedisCache', 'RedisCache / raw', 'RedisCache / raw+parse'],
    rows: [
      ['ops/s', t.rawOpsPerSec, t.rawParseOpsPerSec, t.cacheOpsPerSec, x(t.ratio), x(t.ratioVsRawParse)],
      ['CPU µs/op', t.rawCpuUsPerOp, t.rawParseCpuUsPerOp, t.cacheCpuUsPerOp, x(t.cacheCpuUsPerOp / t.rawCpuUsPerOp), x(t.cacheCpuUsPerOp / t.rawParseCpuUsPerOp)],
      ['auto-pipelined ops/s', p.rawOpsPerSec, p.rawParseOpsPerSec, p.cacheOpsPerSec, x(p.ratio), x(p.ratioVsRawParse)],
      ['auto-pipelined CPU µs/op', p.rawCpuUsPerOp, p.rawParseCpuUsPerOp, p.cacheCpuUsPerOp, x(p.cacheCpuUsPerOp / p.rawCpuUsPerOp), x(p.cacheCpuUsPerOp / p.rawParseCpuUsPerOp)],
    ],
  })
  const s = r.sigstop!
  tables.push({
    title: 'Redis paused (SIGSTOP 2 s) under 20 callers of get/getOrSet',
    note: 'Every call must stay bounded by commandTimeoutMs (plus scheduling) and none may reject (failOpen).',
    columns: ['worst call ms', 'commandTimeoutMs', 'calls', 'rejected'],
    rows: [[s.worstCallMs, s.timeoutMs, s.calls, s.rejections]],
  })
  if (r.envelopeCheckNs !== undefined) {
    tables.push({
      title: 'stale-while-revalidate envelope check on every object hit',
      note: 'get()/getMany() unwrap envelopes written by getOrSet({ staleTtl | grace }) in any process, so each decoded object pays one typeof test and one property lookup.',
      columns: ['ns per object hit', 'share of RedisCache CPU per get'],
      rows: [[r.envelopeCheckNs, `${((r.envelopeCheckNs / 1000 / t.cacheCpuUsPerOp) * 100).toFixed(2)}%`]],
    })
  }
  if (r.tiered) {
    const base = r.tiered.find((row) => row.case.startsWith('RedisCache'))
    tables.push({
      title: 'TieredCache (memory L1 over Redis L2) vs RedisCache alone, one sequential caller',
      note: 'bench/tiered.ts in the same run; the L2-hit case includes one L1 invalidate per read. Ratio = p50 / RedisCache p50.',
      columns: ['case', 'ops', 'mean µs', 'p50 µs', 'p99 µs', 'p50 vs RedisCache'],
      rows: r.tiered.map((row) => [row.case, row.ops, row.meanUs, row.p50Us, row.p99Us, base ? x(row.p50Us / base.p50Us) : null]),
    })
  } else if (r.tieredSkipped) {
    notes.push(r.tieredSkipped)
  }
  return { id: 'redis', title: TITLE, tables, notes }
}

export function printRedisBench(r: RedisBenchResult): void {
  if (r.skipped) {
    console.log(`Redis bench skipped: ${r.skipped}`)
    return
  }
  console.log(`\n${r.title}`)
  for (const note of r.notes) console.log(`  ${note}`)
  for (const table of r.tables) console.log(`\n${renderText(table)}`)
}

if (require.main === module) {
  runRedisBench({ quick: process.argv.includes('--quick'), tiered: !process.argv.includes('--no-tiered') })
    .then((r) => {
      printRedisBench(r)
      if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2))
    })
    .catch((err) => {
      console.error(err)
      process.exitCode = 1
    })
}
