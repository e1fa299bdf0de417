/**
 * Network faults between RedisCache and a real redis-server, made by the TCP fault proxy:
 * replies delayed past the timeout, a blackhole, half-open connections in each direction, a
 * reset, and a reset with reconnections refused. A stream of get calls runs throughout: none
 * rejects, none takes longer than 3 x commandTimeoutMs (a bound that catches hangs only), and
 * the cache is back on Redis after heal.
 *
 * The same stream also runs getOrSet, cached() and TieredCache calls; their worst calls are
 * logged here (t.log) but not asserted yet. So are single calls made on a fresh cache right
 * after the fault starts (no earlier failure has opened the breaker): there each Redis step of
 * a call can spend a whole timeout.
 */
import test, { type ExecutionContext } from 'ava'
import { cached } from '../src/decorators'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { RedisCache } from '../src/redis/redis-cache'
import { TieredCache } from '../src/tiered/tiered-cache'
import { callStream, waitFor, type StreamCall } from './helpers/call-stream'
import { FaultProxy } from './helpers/fault-proxy'
import { redisTestsOrSkip, sleep, startRedis, type RedisServer } from './helpers/redis-server'

const COMMAND_TIMEOUT_MS = 500
const BOUND_MS = 3 * COMMAND_TIMEOUT_MS
const FAULT_MS = 2000

interface Fault {
  name: string
  apply(proxy: FaultProxy): void
}

const faults: Fault[] = [
  { name: `replies delayed ${FAULT_MS} ms`, apply: (p) => p.delay(FAULT_MS) },
  { name: 'blackhole', apply: (p) => p.blackhole() },
  { name: 'half-open, replies lost', apply: (p) => p.halfOpen('toClient') },
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
    const options = { redisUrl: proxy.url, keyPrefix, commandTimeoutMs: COMMAND_TIMEOUT_MS }
    const cache = new RedisCache<string>(options)
    const l2 = new RedisCache<string>({ ...options, keyPrefix: `${keyPrefix}tiered:` })
    const tiered = new TieredCache<string>({ l1: new InMemoryLRUCache<string>({ engine: 'js' }), l2, l1Ttl: 1 })
    for (const emitter of [cache, l2, tiered]) emitter.on('error', () => {})
    t.teardown(() => Promise.all([cache.close(), tiered.close(), l2.close()]))
    const loadUser = cached({ cache, keyFn: (id: string) => `user:${id}`, onError: () => {} })(async (id: string) => `user ${id}`)
    await waitFor(() => cache.health().connected && l2.health().connected, 10_000, 'connected through the proxy')

    let unique = 0
    const calls: StreamCall[] = [
      { kind: 'get', run: (key) => cache.get(key) },
      { kind: 'getOrSet', run: (key) => cache.getOrSet(`${key}:${++unique}`, async () => 'loaded', 30) },
      { kind: 'cached()', run: () => loadUser(String(++unique)) },
      { kind: 'tiered get', run: (key) => tiered.get(key) },
      { kind: 'tiered getOrSet', run: (key) => tiered.getOrSet(`${key}:${++unique}`, async () => 'loaded', 30) },
    ]
    const stream = callStream(calls, { workers: 5, pauseMs: 5 })
    await sleep(200)
    fault.apply(proxy)
    await sleep(FAULT_MS)
    await proxy.heal()
    await waitFor(() => {
      const h = cache.health()
      return h.connected && h.breaker === 'closed' && h.pendingInvalidations === 0
    }, 15_000, 'the cache is back on Redis after heal')
    await sleep(300)
    const result = await stream.stop()

    const worst = Object.entries(result.worst).map(([kind, ms]) => `${kind} ${ms.toFixed(0)} ms`).join(', ')
    t.log(`${fault.name}: ${result.calls} calls; worst: ${worst} (asserted for get: < ${BOUND_MS} ms)`)
    t.deepEqual(result.rejections, [], 'no call rejected')
    t.true(result.worst.get < BOUND_MS, `worst get ${result.worst.get.toFixed(0)} ms`)
    await cache.set('after', 'x')
    t.is(server.cli(['GET', `${keyPrefix}after`]), '"x"', 'writes reach Redis again')
  }

  faults.forEach((fault, index) => {
    test(`get stays bounded: ${fault.name}`, (t) => run(t, fault, index))
  })

  /** One call of `kind` on fresh caches behind a fresh proxy, right after `fault` starts: its ms. */
  async function singleCall(t: ExecutionContext, fault: Fault, kind: string): Promise<number> {
    const proxy = await FaultProxy.start(server.port)
    t.teardown(() => proxy.close())
    const options = { redisUrl: proxy.url, keyPrefix: 'proxy-single:', commandTimeoutMs: COMMAND_TIMEOUT_MS }
    const cache = new RedisCache<string>(options)
    const l2 = new RedisCache<string>(options)
    const tiered = new TieredCache<string>({ l1: new InMemoryLRUCache<string>({ engine: 'js' }), l2, l1Ttl: 1 })
    for (const emitter of [cache, l2, tiered]) emitter.on('error', () => {})
    t.teardown(() => Promise.all([cache.close(), tiered.close(), l2.close()]))
    const loadUser = cached({ cache, keyFn: (id: string) => `user:${id}`, onError: () => {} })(async (id: string) => `user ${id}`)
    await waitFor(() => cache.health().connected && l2.health().connected, 10_000, 'connected through the proxy')
    fault.apply(proxy)
    await sleep(20)
    const key = `single:${kind}`
    const started = performance.now()
    if (kind === 'get') await cache.get(key)
    else if (kind === 'getOrSet') await cache.getOrSet(key, async () => 'loaded', 30)
    else if (kind === 'cached()') await loadUser(key)
    else if (kind === 'tiered get') await tiered.get(key)
    else if (kind === 'tiered getOrSet') await tiered.getOrSet(key, async () => 'loaded', 30)
    else await tiered.set(key, 'v')
    const ms = performance.now() - started
    await proxy.heal()
    return ms
  }

  test('single calls right after a fault starts: get and getOrSet stay under the bound', async (t) => {
    const kinds = ['get', 'getOrSet', 'cached()', 'tiered get', 'tiered getOrSet', 'tiered set']
    const hanging = faults.filter((f) => !f.name.startsWith('connections reset'))
    const rows = await Promise.all(hanging.map(async (fault) => ({ fault, ms: await Promise.all(kinds.map((kind) => singleCall(t, fault, kind))) })))
    for (const { fault, ms } of rows) {
      t.log(`${fault.name}: ${kinds.map((kind, i) => `${kind} ${ms[i].toFixed(0)} ms`).join(', ')}`)
      t.true(ms[0] < BOUND_MS, `get took ${ms[0].toFixed(0)} ms`)
      t.true(ms[1] < BOUND_MS, `getOrSet took ${ms[1].toFixed(0)} ms`)
    }
  })
}
