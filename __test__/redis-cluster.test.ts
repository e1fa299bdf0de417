/** A local 3-master Redis Cluster: the contract suite, clear() on every master, slot grouping. */
import test from 'ava'
import { Cluster } from 'ioredis'
import { RedisCache } from '../src/redis/redis-cache'
import { recommendedClientOptions } from '../src/redis/options'
import { keySlot } from '../src/redis/key-slot'
import { contractSuite } from './contract/suite'
import { redisTestsOrSkip, sleep, startRedisCluster, type RedisClusterHandle } from './helpers/redis-server'

if (redisTestsOrSkip(test, 'RedisCache on a 3-master Redis Cluster')) {
  let cluster: RedisClusterHandle
  let client: Cluster
  let prefixes = 0
  const freshPrefix = () => `astra:cluster:${process.pid}:${++prefixes}:`
  const caches: RedisCache<unknown>[] = []

  test.before(async () => {
    cluster = await startRedisCluster(3)
    const { enableOfflineQueue, ...redisOptions } = recommendedClientOptions()
    client = new Cluster(cluster.nodes, { redisOptions, enableOfflineQueue, clusterRetryStrategy: () => 200 })
    await new Promise((resolve) => client.once('ready', resolve))
  })
  test.after.always(async () => {
    await Promise.all(caches.map((c) => c.close()))
    client?.disconnect()
    await cluster?.stop()
  })

  contractSuite(test, {
    name: 'redis-cluster',
    create: async ({ defaultTtl }) => {
      const c = new RedisCache({ client, keyPrefix: freshPrefix(), defaultTtl })
      caches.push(c)
      return c
    },
    advance: (ms) => sleep(ms),
    capabilities: { lruEviction: false, counters: true, maxsizeInStats: false, sizeInStats: false, expirationCount: false },
  })

  test.serial('keySlot agrees with CLUSTER KEYSLOT', async (t) => {
    for (const key of ['', 'a', 'astra:cache:user:1', '{user}:1', 'x{}y', 'x{a}{b}', '🔑ключ', 'foo{bar']) {
      t.is(keySlot(key), await client.cluster('KEYSLOT', key), key)
    }
  })

  test.serial('clear() removes the prefix on every master and nothing else; getMany/setMany span slots', async (t) => {
    const mine = new RedisCache<number>({ client, keyPrefix: freshPrefix() })
    const other = new RedisCache<number>({ client, keyPrefix: freshPrefix() })
    caches.push(mine as RedisCache<unknown>, other as RedisCache<unknown>)
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`)
    await mine.setMany(keys.map((k, i) => [k, i] as [string, number]))
    await other.setMany(keys.map((k, i) => [k, i] as [string, number]))
    t.deepEqual(await mine.getMany(keys), keys.map((_, i) => i))

    const count = async (prefix: string) => {
      const perMaster: number[] = []
      for (const node of client.nodes('master')) {
        let cursor = '0'
        let n = 0
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
          cursor = next
          n += found.length
        } while (cursor !== '0')
        perMaster.push(n)
      }
      return perMaster
    }
    const before = await count(mine.keyPrefix)
    t.is(before.length, 3)
    t.true(before.every((n) => n > 0), `keys on every master: ${before}`)
    await mine.clear()
    t.deepEqual(await count(mine.keyPrefix), [0, 0, 0])
    t.is((await count(other.keyPrefix)).reduce((a, b) => a + b), 300)
    t.deepEqual(mine.errorCounts(), {})
  })
}
