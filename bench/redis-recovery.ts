/**
 * RedisCache under outages, on throwaway redis-servers:
 * - recovery after a hang (SIGSTOP) of 3 s and of 30 s: 20 callers read a working set of
 *   1,000 keys through getOrSet (every key in Redis before the hang); counted are the loader
 *   calls in the second after SIGCONT as a share of the working set (target <= 10 %), and the
 *   time from SIGCONT to the first read answered by Redis (a key only Redis holds);
 * - the worst call per fault for get, getOrSet and cached() (hang, kill, restart, half-open
 *   connection and stranded connections through the test fault proxy, Sentinel master
 *   killed), commandTimeoutMs 500, and the time from the fault to the cache back on Redis.
 * Run alone: `npx tsx bench/redis-recovery.ts [--quick]` (--quick: 3 s hang only, no Sentinel).
 */
import { cached } from '../src/decorators'
import { RedisCache } from '../src/redis/redis-cache'
import { callPaths } from '../__test__/helpers/call-paths'
import { callStream, waitFor } from '../__test__/helpers/call-stream'
import { FaultProxy } from '../__test__/helpers/fault-proxy'
import { redisServerAvailable, sleep, startRedis } from '../__test__/helpers/redis-server'
import { startSentinelSetup } from '../__test__/helpers/sentinel'
import { renderText, type Table } from './table'

const WORKING_SET = 1000
const TIMEOUT_MS = 500

export interface RecoveryRow {
  hangMs: number
  loadsInSecondAfter: number
  shareOfWorkingSet: number
  msToFirstRedisHit: number
  msToBreakerClosed: number
}

export async function recoveryAfterHang(hangMs: number): Promise<RecoveryRow> {
  const server = await startRedis()
  const cache = new RedisCache<string>({ redisUrl: server.url, keyPrefix: 'bench:recovery:', commandTimeoutMs: TIMEOUT_MS })
  cache.on('error', () => {})
  const loads: number[] = []
  const load = (key: string) => async () => {
    loads.push(performance.now())
    return `value of ${key}`
  }
  try {
    for (let i = 0; i < WORKING_SET; i += 100) {
      await cache.setMany(Array.from({ length: 100 }, (_, j) => [`k${i + j}`, `value of k${i + j}`] as [string, string]))
    }
    await cache.set('only-in-redis', 'x')
    let running = true
    let seed = 1
    const workers = Array.from({ length: 20 }, async () => {
      while (running) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31
        const key = `k${seed % WORKING_SET}`
        await cache.getOrSet(key, load(key))
        await sleep(1)
      }
    })
    await sleep(300)
    server.pause()
    await sleep(hangMs)
    const resumedAt = performance.now()
    server.resume()
    let firstHitAt = 0
    const probe = (async () => {
      while (firstHitAt === 0 && performance.now() - resumedAt < 20_000) {
        if ((await cache.get('only-in-redis')) === 'x') firstHitAt = performance.now()
        else await sleep(5)
      }
    })()
    await waitFor(() => cache.health().breaker === 'closed', 30_000, 'breaker closed')
    const closedAt = performance.now()
    await probe
    await sleep(Math.max(0, resumedAt + 1000 - performance.now()))
    running = false
    await Promise.all(workers)
    const inSecond = loads.filter((at) => at >= resumedAt && at < resumedAt + 1000).length
    return {
      hangMs,
      loadsInSecondAfter: inSecond,
      shareOfWorkingSet: inSecond / WORKING_SET,
      msToFirstRedisHit: firstHitAt === 0 ? NaN : +(firstHitAt - resumedAt).toFixed(0),
      msToBreakerClosed: +(closedAt - resumedAt).toFixed(0),
    }
  } finally {
    await cache.close()
    await server.stop()
  }
}

const KINDS = ['get', 'getOrSet', 'cached()'] as const

interface FaultRow {
  worst: Record<string, number>
  /** ms from the fault to the breaker closed on a connected client */
  msToBack: number
}

/** Worst call of get/getOrSet/cached() while `fault` lasts about 2 s under a stream of calls. */
async function worstUnder(fault: string): Promise<FaultRow> {
  const server = await startRedis()
  const proxy = fault === 'half-open' || fault === 'stranded' ? await FaultProxy.start(server.port) : undefined
  const paths = callPaths(proxy?.url ?? server.url, `bench:fault:${fault}:`, TIMEOUT_MS)
  try {
    await waitFor(() => paths.connected(), 10_000, 'connected')
    const stream = callStream(paths.calls.filter((c) => (KINDS as readonly string[]).includes(c.kind)), { workers: 6, pauseMs: 5 })
    await sleep(300)
    const faultAt = performance.now()
    if (fault === 'hang') server.pause()
    else if (fault === 'kill') await server.kill()
    else if (fault === 'restart') await server.restart()
    else if (fault === 'stranded') proxy!.strand()
    else proxy!.halfOpen('toClient')
    await sleep(2000)
    if (fault === 'hang') server.resume()
    else if (fault === 'kill') await server.restart()
    else if (proxy) await proxy.heal()
    await waitFor(() => paths.cache.health().breaker === 'closed' && paths.cache.health().connected, 15_000, 'back on Redis')
    const msToBack = performance.now() - faultAt
    await sleep(300)
    return { worst: (await stream.stop()).worst, msToBack }
  } finally {
    await paths.close()
    await proxy?.close()
    await server.stop()
  }
}

async function worstUnderSentinelFailover(): Promise<FaultRow> {
  const setup = await startSentinelSetup({ downAfterMs: 1000, failoverTimeoutMs: 3000 })
  const cache = new RedisCache<string>({ redisUrl: setup.url, keyPrefix: 'bench:sentinel:', commandTimeoutMs: TIMEOUT_MS })
  cache.on('error', () => {})
  const loadUser = cached({ cache, keyFn: (id: string) => `user:${id}`, onError: () => {} })(async (id: string) => `user ${id}`)
  let unique = 0
  try {
    await waitFor(() => cache.health().connected, 10_000, 'connected through the sentinels')
    const stream = callStream([
      { kind: 'get', run: (key) => cache.get(key) },
      { kind: 'getOrSet', run: (key) => cache.getOrSet(`${key}:${++unique}`, async () => 'loaded', 30) },
      { kind: 'cached()', run: () => loadUser(String(++unique)) },
    ], { workers: 6, pauseMs: 5 })
    await sleep(300)
    const faultAt = performance.now()
    await setup.master.kill()
    await setup.waitForMaster(setup.replica.port)
    await waitFor(() => cache.health().breaker === 'closed' && cache.health().connected, 15_000, 'on the promoted replica')
    const msToBack = performance.now() - faultAt
    await sleep(300)
    return { worst: (await stream.stop()).worst, msToBack }
  } finally {
    await cache.close()
    await setup.stop()
  }
}

export async function benchRecovery(options: { quick?: boolean } = {}): Promise<Table[]> {
  const hangs = options.quick ? [3000] : [3000, 30_000]
  const rows: RecoveryRow[] = []
  for (const hangMs of hangs) rows.push(await recoveryAfterHang(hangMs))
  const faults = ['hang', 'kill', 'restart', 'half-open', 'stranded']
  const worst: [string, FaultRow | undefined][] = []
  for (const fault of faults) worst.push([fault, await worstUnder(fault)])
  if (!options.quick) {
    try {
      worst.push(['Sentinel master killed', await worstUnderSentinelFailover()])
    } catch (err) {
      worst.push([`Sentinel master killed (failed: ${(err as Error).message})`, undefined])
    }
  }
  return [
    {
      title: `Recovery after a Redis hang (SIGSTOP), ${WORKING_SET} keys read through getOrSet by 20 callers`,
      note: 'Loader calls in the second after SIGCONT as a share of the working set (target <= 10 %); time from SIGCONT to the first read Redis answers, and to the breaker closing (commandTimeoutMs 500).',
      columns: ['hang', 'loader calls in the second after', 'share of working set', 'ms to first Redis hit', 'ms to breaker closed'],
      rows: rows.map((r) => [`${r.hangMs / 1000} s`, r.loadsInSecondAfter, `${(r.shareOfWorkingSet * 100).toFixed(1)}%`, r.msToFirstRedisHit, r.msToBreakerClosed]),
    },
    {
      title: 'Worst call per fault (2 s outage under 6 callers), commandTimeoutMs 500',
      note: 'half-open: replies lost through the test TCP fault proxy; stranded: the open connections through the proxy go silent for good (new ones work; only replacing the connection gets back); kill: SIGKILL then restarted 2 s later; restart: killed and started again at once. Last column: from the fault to the breaker closed on a connected client.',
      columns: ['fault', ...KINDS.map((k) => `${k} ms`), 'ms to back on Redis'],
      rows: worst.map(([fault, row]) => [fault, ...KINDS.map((k) => (row?.worst[k] === undefined ? null : +row.worst[k].toFixed(0))), row === undefined ? null : +row.msToBack.toFixed(0)]),
    },
  ]
}

if (require.main === module) {
  const available = redisServerAvailable()
  if (!available.available) {
    console.log(`skipped: ${available.reason}`)
  } else {
    benchRecovery({ quick: process.argv.includes('--quick') })
      .then((tables) => {
        for (const table of tables) console.log(`\n${renderText(table)}`)
      })
      .catch((err) => {
        console.error(err)
        process.exitCode = 1
      })
  }
}
