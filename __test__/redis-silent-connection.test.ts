/**
 * A connection that dies without closing (resilience.ts silentConnectionMs): the fault proxy
 * strands it, ioredis keeps calling it ready, and only replacing it gets the cache back on
 * Redis. Checked for a client the cache makes, for one the caller passes in and for a Cluster
 * (every node behind its own proxy, through ioredis' natMap), with the replacement reported as
 * an 'error' event counted on op 'connection'; and a probe that times out once, well under the
 * limit, replaces nothing.
 */
import test, { type ExecutionContext } from 'ava'
import { Cluster, Redis } from 'ioredis'
import { RedisCache } from '../src/redis/redis-cache'
import { recommendedClientOptions } from '../src/redis/options'
import { silentConnectionMs } from '../src/redis/resilience'
import { waitFor } from './helpers/call-stream'
import { FaultProxy } from './helpers/fault-proxy'
import { redisTestsOrSkip, sleep, startRedis, startRedisCluster, type RedisServer } from './helpers/redis-server'

// 200 ms: silentConnectionMs is still its 2 s floor, with room for a loaded CI machine.
const COMMAND_TIMEOUT_MS = 200

test('silentConnectionMs: 10 command timeouts, never under 2 s', (t) => {
  t.is(silentConnectionMs(500), 5000)
  t.is(silentConnectionMs(100), 2000)
  t.is(silentConnectionMs(1000), 10_000)
})

if (redisTestsOrSkip(test, 'RedisCache replaces a silent connection')) {
  let server: RedisServer
  test.before(async () => {
    server = await startRedis()
  })
  test.after.always(() => server?.stop())

  const options = { commandTimeoutMs: COMMAND_TIMEOUT_MS, breakerOpenMs: 100, breakerThreshold: 1 }

  for (const own of [false, true]) {
    test(`a stranded connection is dropped and made again (${own ? 'a client passed in' : 'a client the cache makes'})`, async (t) => {
      const proxy = await FaultProxy.start(server.port)
      t.teardown(() => proxy.close())
      const keyPrefix = `silent:${own}:`
      const client = own ? new Redis(proxy.port, proxy.host, { lazyConnect: false }) : undefined
      t.teardown(() => client?.disconnect())
      const cache = new RedisCache<string>({ ...(client ? { client } : { redisUrl: proxy.url }), keyPrefix, ...options })
      t.teardown(() => cache.close())
      const errors: Error[] = []
      cache.on('error', (err: Error) => errors.push(err))
      // Written beside the cache: a cache write that timed out on a loaded machine would land
      // in the fallback and answer the read that must miss once the connection is stranded.
      server.cli(['SET', `${keyPrefix}k`, JSON.stringify('before')])
      t.is(await cache.get('k'), 'before')
      t.is(cache.health().fallbackEntries, 0, 'nothing in the fallback before the fault')
      t.is(proxy.counts().accepted, 1)

      proxy.strand()
      // The first read times out and opens the breaker; the fallback keeps answering.
      t.is(await cache.get('k'), undefined)
      await waitFor(() => cache.health().breaker === 'closed' && cache.health().connected, 10_000, 'back on Redis through a new connection')

      t.is(proxy.counts().accepted, 2, 'one new connection')
      t.is(await cache.get('k'), 'before', 'read from Redis again')
      await cache.set('k', 'after')
      t.is(server.cli(['GET', `${keyPrefix}k`]), '"after"', 'writes reach Redis again')
      // The message names where the connection points: a passed client's host and port, not the default URL.
      const where = own ? `${proxy.host}:${proxy.port}` : proxy.url
      t.true(assertOneReplacement(t, errors, cache).startsWith(`redis connection for cache "redis" (${where}) answered nothing for `), where)
    })
  }

  /** The one replacement reported, as an 'error' event counted on op 'connection': its message. */
  function assertOneReplacement(t: ExecutionContext, errors: Error[], cache: RedisCache<string>): string {
    const replaced = errors.filter((e) => /answered nothing for \d+ ms while ready: dropped and made again/.test(e.message))
    t.is(replaced.length, 1, errors.map((e) => e.message).join('\n'))
    t.is(replaced[0]?.name, 'CacheUnavailableError')
    t.is(cache.errorCounts().connection, replaced.length)
    return replaced[0]?.message ?? ''
  }

  /** A 3-master Cluster, every node behind its own proxy (nodes announce their own ports; natMap sends each node's traffic through its proxy), and a RedisCache on it. */
  async function clusterBehindProxies(t: ExecutionContext, keyPrefix: string) {
    const cluster = await startRedisCluster(3)
    t.teardown(() => cluster.stop())
    const proxies = await Promise.all(cluster.nodes.map((node) => FaultProxy.start(node.port)))
    t.teardown(() => Promise.all(proxies.map((p) => p.close())))
    const natMap = Object.fromEntries(cluster.nodes.map((node, i) => [`${node.host}:${node.port}`, { host: proxies[i].host, port: proxies[i].port }]))
    const { enableOfflineQueue, ...redisOptions } = recommendedClientOptions()
    const client = new Cluster(
      proxies.map((p) => ({ host: p.host, port: p.port })),
      { natMap, redisOptions, enableOfflineQueue, clusterRetryStrategy: () => 100 },
    )
    t.teardown(() => client.disconnect())
    await new Promise((resolve) => client.once('ready', resolve))
    // Node connections are made on first use: make every master's now.
    await Promise.all(client.nodes('master').map((node) => node.ping()))
    const cache = new RedisCache<string>({ client, keyPrefix, ...options })
    t.teardown(() => cache.close())
    const errors: Error[] = []
    cache.on('error', (err: Error) => errors.push(err))
    const keys = 'abcdefghijkl'.split('')
    // Written by the client, not the cache: a cache write that timed out on a loaded machine
    // would land in the fallback and answer the reads that must miss once the nodes are stranded.
    for (const key of keys) await client.set(`${keyPrefix}${key}`, JSON.stringify(`v-${key}`))
    // Which server holds each key (the others answer MOVED).
    const holder = (key: string) => cluster.servers.findIndex((server) => server.cli(['GET', `${keyPrefix}${key}`]) === `"v-${key}"`)
    return { cluster, proxies, cache, errors, keys, holder }
  }

  test('a Cluster whose node connections are all stranded drops them and connects again', async (t) => {
    const { proxies, cache, errors, keys } = await clusterBehindProxies(t, 'silent:cluster:')
    const acceptedBefore = proxies.map((p) => p.counts().accepted)
    t.true(acceptedBefore.every((n) => n >= 1), 'every node is reached through its proxy')
    t.is(cache.health().fallbackEntries, 0, 'nothing in the fallback before the fault')

    for (const proxy of proxies) proxy.strand()
    t.is(await cache.get('a'), undefined)
    await waitFor(() => cache.health().breaker === 'closed' && cache.health().connected, 15_000, 'back on Redis through new connections')

    for (const key of keys) t.is(await cache.get(key), `v-${key}`, `${key} read from Redis again`)
    t.true(proxies.some((p, i) => p.counts().accepted > acceptedBefore[i]), 'new connections were made')
    const nodes = proxies.map((p) => `${p.host}:${p.port}`).join(',')
    t.true(assertOneReplacement(t, errors, cache).startsWith(`3 redis Cluster node connections for cache "redis" (cluster ${nodes}) answered nothing`), nodes)
  })

  test('a Cluster with one stranded node: the probe asks every master, only that node is dropped', async (t) => {
    const { proxies, cache, errors, keys, holder } = await clusterBehindProxies(t, 'silent:cluster-one:')
    const onFirst = keys.find((key) => holder(key) === 0)
    const elsewhere = keys.find((key) => holder(key) !== 0)
    if (onFirst === undefined || elsewhere === undefined) return t.fail(`keys ${keys.join()} do not span the masters`)
    const acceptedBefore = proxies.map((p) => p.counts().accepted)
    t.is(cache.health().fallbackEntries, 0, 'nothing in the fallback before the fault')

    proxies[0].strand()
    t.is(await cache.get(onFirst), undefined, 'the stranded node times out; the breaker opens')
    await waitFor(() => cache.errorCounts().connection === 1 && cache.health().breaker === 'closed', 15_000, 'the stranded node dropped and the breaker closed')

    t.is(await cache.get(onFirst), `v-${onFirst}`, 'the key of the stranded node is read from Redis again')
    t.is(await cache.get(elsewhere), `v-${elsewhere}`)
    t.true(proxies[0].counts().accepted > acceptedBefore[0], 'a new connection to that node')
    t.regex(assertOneReplacement(t, errors, cache), /^1 redis Cluster node connection for/)
  })

  test('a probe that times out once, under the limit, keeps the connection', async (t) => {
    const proxy = await FaultProxy.start(server.port)
    t.teardown(() => proxy.close())
    const cache = new RedisCache<string>({ redisUrl: proxy.url, keyPrefix: 'silent:short:', ...options })
    t.teardown(() => cache.close())
    cache.on('error', () => {})
    server.cli(['SET', 'silent:short:k', JSON.stringify('v')])
    t.is(await cache.get('k'), 'v')

    proxy.blackhole()
    t.is(await cache.get('k'), undefined)
    await sleep(4 * COMMAND_TIMEOUT_MS)
    await proxy.heal()
    await waitFor(() => cache.health().breaker === 'closed', 5000, 'the breaker closes')

    t.is(proxy.counts().accepted, 1, 'the same connection serves again')
    t.false('connection' in cache.errorCounts())
    t.is(await cache.get('k'), 'v')
  })
}
