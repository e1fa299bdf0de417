/**
 * RedisCache vs raw ioredis against the same local redis-server, in the same run:
 * - get latency p50/p99 (one caller, sequential), rounds interleaved to cancel drift;
 * - throughput with 100 concurrent callers (ABBA order, twice, to cancel drift), plus node's CPU
 *   time per op (user+system, GC threads included), which is steadier than ops/s on a shared machine;
 * - the same throughput with ioredis auto-pipelining on for both clients;
 * - the worst call latency while the server is SIGSTOPped for 2 s (default options).
 * Run alone: `npx tsx bench/redis.ts` (starts its own redis-server on a free port).
 * Targets: latency ratio <= 1.15, throughput ratio >= 0.9.
 * Fair comparison: the raw client gets exactly the ioredis options of the client RedisCache makes
 * (ownClientOptions: offline queue off, no retries, no ioredis commandTimeout; none of them is on
 * the hot path) and, in the main rows, neither uses auto-pipelining.
 */
import { Redis } from 'ioredis'
import { RedisCache } from '../src/redis/redis-cache'
import { DEFAULT_COMMAND_TIMEOUT_MS, ownClientOptions } from '../src/redis/options'
import { redisServerAvailable, sleep, startRedis } from '../__test__/helpers/redis-server'

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

export async function runRedisBench(options: { quick?: boolean } = {}): Promise<RedisBenchResult> {
  const available = redisServerAvailable()
  if (!available.available) return { skipped: available.reason }
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
    return {
      redisVersion: available.version,
      latency: lat,
      throughput: tput,
      autoPipelined: pipelined,
      sigstop: await sigstopWorst(),
    }
  } finally {
    await cache.close()
    await cachePipelined.close()
    raw.disconnect()
    rawPipelined.disconnect()
    await server.stop()
  }
}

export function printRedisBench(r: RedisBenchResult): void {
  if (r.skipped) {
    console.log(`Redis bench skipped: ${r.skipped}`)
    return
  }
  console.log(`\nRedisCache vs raw ioredis (redis-server ${r.redisVersion}, same server, same run; value: small JSON object)`)
  console.table({
    'get p50 (µs)': { 'raw ioredis': r.latency!.rawP50Us, RedisCache: r.latency!.cacheP50Us, ratio: r.latency!.p50Ratio, target: '<= 1.15' },
    'get p99 (µs)': { 'raw ioredis': r.latency!.rawP99Us, RedisCache: r.latency!.cacheP99Us, ratio: r.latency!.p99Ratio, target: '<= 1.15' },
    'get ops/s, 100 callers': { 'raw ioredis': r.throughput!.rawOpsPerSec, RedisCache: r.throughput!.cacheOpsPerSec, ratio: r.throughput!.ratio, target: '>= 0.9' },
    'node CPU µs per get': { 'raw ioredis': r.throughput!.rawCpuUsPerOp, RedisCache: r.throughput!.cacheCpuUsPerOp, ratio: +(r.throughput!.rawCpuUsPerOp / r.throughput!.cacheCpuUsPerOp).toFixed(3), target: '' },
    'auto-pipelined ops/s': { 'raw ioredis': r.autoPipelined!.rawOpsPerSec, RedisCache: r.autoPipelined!.cacheOpsPerSec, ratio: r.autoPipelined!.ratio, target: '' },
  })
  const t = r.throughput!
  const p = r.autoPipelined!
  console.log(`raw ioredis get + JSON.parse, 100 callers: ${t.rawParseOpsPerSec} ops/s, ${t.rawParseCpuUsPerOp} µs CPU/op; RedisCache / that = ${t.ratioVsRawParse}`)
  console.log(`auto-pipelined (both clients): raw + JSON.parse ${p.rawParseOpsPerSec} ops/s; RedisCache / that = ${p.ratioVsRawParse}; CPU µs/op raw ${p.rawCpuUsPerOp}, raw + parse ${p.rawParseCpuUsPerOp}, RedisCache ${p.cacheCpuUsPerOp}`)
  const s = r.sigstop!
  console.log(`SIGSTOP 2 s during a stream of get/getOrSet: worst call ${s.worstCallMs} ms (commandTimeoutMs ${s.timeoutMs}), ${s.calls} calls, ${s.rejections} rejected`)
}

if (require.main === module) {
  runRedisBench({ quick: process.argv.includes('--quick') })
    .then((r) => {
      printRedisBench(r)
      if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2))
    })
    .catch((err) => {
      console.error(err)
      process.exitCode = 1
    })
}
