/**
 * Every public path (RedisCache get/set/getOrSet, cached(), TieredCache get/set/getOrSet,
 * KeyvAstraStore get/set) while the redis-server process itself fails: a hang (SIGSTOP), a
 * kill (SIGKILL, the server stays down) and a restart (killed and started again on its port).
 * A stream of calls runs throughout: none rejects, none takes 3 x commandTimeoutMs (a bound
 * that catches hangs only; the worst calls are logged), and the caches are back on Redis after.
 * Single calls on fresh caches right after a hang starts are bounded the same way.
 */
import test, { type ExecutionContext } from 'ava'
import { callPaths, overBound, PATH_KINDS, worstLine } from './helpers/call-paths'
import { callStream, waitFor } from './helpers/call-stream'
import { redisTestsOrSkip, sleep, startRedis, type RedisServer } from './helpers/redis-server'

const COMMAND_TIMEOUT_MS = 500
const BOUND_MS = 3 * COMMAND_TIMEOUT_MS
const OUTAGE_MS = 2000

interface ProcessFault {
  name: string
  /** Starts the fault; resolves once it is in place. */
  start(server: RedisServer): Promise<void>
  /** Ends it: Redis answers again. */
  end(server: RedisServer): Promise<void>
}

const faults: ProcessFault[] = [
  { name: 'hang (SIGSTOP)', start: async (s) => s.pause(), end: async (s) => s.resume() },
  { name: 'kill (SIGKILL), restarted after the outage', start: (s) => s.kill(), end: (s) => s.restart() },
  {
    name: 'restart (killed and started again at once)',
    start: (s) => s.restart(),
    end: async () => {},
  },
]

if (redisTestsOrSkip(test, 'every call path under redis-server hangs, kills and restarts')) {
  async function run(t: ExecutionContext, fault: ProcessFault, index: number) {
    const server = await startRedis()
    t.teardown(() => server.stop())
    const paths = callPaths(server.url, `paths:${index}:`, COMMAND_TIMEOUT_MS)
    t.teardown(() => paths.close())
    await waitFor(() => paths.connected(), 10_000, 'connected')
    const stream = callStream(paths.calls, { workers: 6, pauseMs: 5 })
    await sleep(200)
    await fault.start(server)
    await sleep(OUTAGE_MS)
    await fault.end(server)
    await waitFor(() => {
      const h = paths.cache.health()
      return h.connected && h.breaker === 'closed' && h.pendingInvalidations === 0
    }, 15_000, 'back on Redis')
    await sleep(300)
    const result = await stream.stop()
    t.log(`${fault.name}: ${result.calls} calls; worst: ${worstLine(result.worst)} (bound ${BOUND_MS} ms)`)
    t.deepEqual(result.rejections, [], 'no call rejected')
    t.deepEqual(overBound(result.worst, BOUND_MS), [], 'every path stays under the bound')
    await paths.cache.set('after', 'x')
    t.is(server.cli(['GET', `paths:${index}:after`]), '"x"', 'writes reach Redis again')
  }

  faults.forEach((fault, index) => {
    test.serial(`every path stays bounded: ${fault.name}`, (t) => run(t, fault, index))
  })

  test.serial('single calls on fresh caches right after a hang starts: every path stays under the bound', async (t) => {
    const server = await startRedis()
    t.teardown(() => server.stop())
    const ms: Record<string, number> = {}
    const all = PATH_KINDS.map((kind) => {
      const paths = callPaths(server.url, 'paths-single:', COMMAND_TIMEOUT_MS)
      t.teardown(() => paths.close())
      return { kind, paths }
    })
    await waitFor(() => all.every(({ paths }) => paths.connected()), 10_000, 'connected')
    server.pause()
    try {
      await Promise.all(
        all.map(async ({ kind, paths }) => {
          const started = performance.now()
          await paths.one(kind, `single:${kind}`)
          ms[kind] = performance.now() - started
        }),
      )
    } finally {
      server.resume()
    }
    t.log(`hang (SIGSTOP), single calls: ${worstLine(ms)}`)
    t.deepEqual(overBound(ms, BOUND_MS), [])
  })
}
