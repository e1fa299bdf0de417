/**
 * Network faults between the caches and a real redis-server, made by the TCP fault proxy:
 * replies delayed past the timeout, a blackhole, half-open connections in each direction, a
 * reset, a reset with reconnections refused, and connections that die without closing. A
 * stream of calls through every path (RedisCache get/set/getOrSet, cached(), TieredCache
 * get/set/getOrSet, KeyvAstraStore) runs
 * throughout: none rejects, none takes longer than 3 x commandTimeoutMs (a bound that catches
 * hangs only; the worst calls are logged), and the cache is back on Redis after heal.
 *
 * Single calls made on fresh caches right after the fault starts (no earlier failure has
 * opened the breaker) are bounded the same way: a call spends at most one timeout on Redis.
 */
import test, { type ExecutionContext } from 'ava'
import { callPaths, overBound, PATH_KINDS, worstLine } from './helpers/call-paths'
import { callStream, waitFor } from './helpers/call-stream'
import { FaultProxy } from './helpers/fault-proxy'
import { redisTestsOrSkip, sleep, startRedis, type RedisServer } from './helpers/redis-server'

const COMMAND_TIMEOUT_MS = 500
const BOUND_MS = 3 * COMMAND_TIMEOUT_MS
const FAULT_MS = 2000

interface Fault {
  name: string
  apply(proxy: FaultProxy): void
  /**
   * What must have happened, beyond a closed breaker, before the cache counts as back on
   * Redis: for a fault heal() does not undo, the breaker may not even have opened yet when
   * heal() returns (a loaded machine), so "closed" alone can be the state before the fault.
   */
  recovered?(cache: { errorCounts(): Record<string, number> }): boolean
}

const faults: Fault[] = [
  { name: `replies delayed ${FAULT_MS} ms`, apply: (p) => p.delay(FAULT_MS) },
  { name: 'blackhole', apply: (p) => p.blackhole() },
  { name: 'half-open, replies lost', apply: (p) => p.halfOpen('toClient') },
  // Open connections die for good without closing (heal() does not bring them back): only
  // replacing them (resilience.ts silentConnectionMs, the bus's heartbeat) gets back to Redis.
  { name: 'connections stranded', apply: (p) => p.strand(), recovered: (cache) => (cache.errorCounts().connection ?? 0) >= 1 },
  { name: 'half-open, requests lost', apply: (p) => p.halfOpen('toServer') },
  { name: 'connections reset', apply: (p) => p.reset() },
  {
    name: 'connections reset, reconnections refused',
    apply: (p) => {
      p.refuse()
      p.reset()
    },
  },
]

if (redisTestsOrSkip(test, 'RedisCache under network faults (TCP fault proxy)')) {
  let server: RedisServer
  test.before(async () => {
    server = await startRedis()
  })
  test.after.always(() => server?.stop())

  async function run(t: ExecutionContext, fault: Fault, index: number) {
    const proxy = await FaultProxy.start(server.port)
    t.teardown(() => proxy.close())
    const keyPrefix = `proxy-faults:${index}:`
    const paths = callPaths(proxy.url, keyPrefix, COMMAND_TIMEOUT_MS)
    t.teardown(() => paths.close())
    const { cache } = paths
    await waitFor(() => paths.connected(), 10_000, 'connected through the proxy')

    const stream = callStream(paths.calls, { workers: 6, pauseMs: 5 })
    await sleep(200)
    fault.apply(proxy)
    await sleep(FAULT_MS)
    await proxy.heal()
    await waitFor(() => {
      const h = cache.health()
      return h.connected && h.breaker === 'closed' && h.pendingInvalidations === 0 && (fault.recovered?.(cache) ?? true)
    }, 20_000, 'the cache is back on Redis after heal')
    await sleep(300)
    const result = await stream.stop()

    t.log(`${fault.name}: ${result.calls} calls; worst: ${worstLine(result.worst)} (bound ${BOUND_MS} ms)`)
    t.deepEqual(result.rejections, [], 'no call rejected')
    t.deepEqual(overBound(result.worst, BOUND_MS), [], 'every path stays under the bound')
    const before = JSON.stringify(cache.health())
    await cache.set('after', 'x')
    t.is(server.cli(['GET', `${keyPrefix}after`]), '"x"', `writes reach Redis again (health before the set: ${before}, after: ${JSON.stringify(cache.health())}, errors: ${JSON.stringify(cache.errorCounts())})`)
  }

  faults.forEach((fault, index) => {
    test(`every path stays bounded: ${fault.name}`, (t) => run(t, fault, index))
  })

  /** One call of `kind` on fresh caches behind a fresh proxy, right after `fault` starts: its ms. */
  async function singleCall(t: ExecutionContext, fault: Fault, kind: (typeof PATH_KINDS)[number]): Promise<number> {
    const proxy = await FaultProxy.start(server.port)
    t.teardown(() => proxy.close())
    const paths = callPaths(proxy.url, 'proxy-single:', COMMAND_TIMEOUT_MS)
    t.teardown(() => paths.close())
    await waitFor(() => paths.connected(), 10_000, 'connected through the proxy')
    fault.apply(proxy)
    await sleep(20)
    const started = performance.now()
    await paths.one(kind, `single:${kind}`)
    const ms = performance.now() - started
    await proxy.heal()
    return ms
  }

  test('single calls right after a fault starts: every path stays under the bound', async (t) => {
    const hanging = faults.filter((f) => !f.name.startsWith('connections reset'))
    const rows = await Promise.all(hanging.map(async (fault) => ({ fault, ms: await Promise.all(PATH_KINDS.map((kind) => singleCall(t, fault, kind))) })))
    for (const { fault, ms } of rows) {
      const worst = Object.fromEntries(PATH_KINDS.map((kind, i) => [kind, ms[i]]))
      t.log(`${fault.name}: ${worstLine(worst)}`)
      t.deepEqual(overBound(worst, BOUND_MS), [], `${fault.name}: every path under ${BOUND_MS} ms`)
    }
  })
}
