/**
 * A TieredCache in a worker thread over the thread-shared L1 `name` (InMemoryLRUCache.shared,
 * scope 'process'), for the lease test in machine-tiered.test.ts. workerData: { name, redisUrl,
 * keyPrefix }. Posts { resyncs, resyncsVouched } once subscribed; on any message it closes the
 * cache and posts 'closed'.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { InMemoryLRUCache } from '../../src/memory/memory-cache'
import { RedisCache } from '../../src/redis/redis-cache'
import { TieredCache } from '../../src/tiered/tiered-cache'
import { subscribed } from './subscribed'

const { name, redisUrl, keyPrefix } = workerData as { name: string; redisUrl: string; keyPrefix: string }
const l1 = InMemoryLRUCache.shared<unknown>(name, { scope: 'process', maxsize: 100, maxBytes: 1 << 20 })
const l2 = new RedisCache<unknown>({ redisUrl, keyPrefix, defaultTtl: 60, commandTimeoutMs: 5000 })
l2.on('error', () => {})
const cache = new TieredCache<unknown>({ l1, l2, l1Ttl: 30 })
cache.on('error', () => {})
void subscribed(cache).then(() => {
  const s = cache.tierStats()
  parentPort!.postMessage({ resyncs: s.resyncs, resyncsVouched: s.resyncsVouched })
})
parentPort!.once('message', () => {
  void cache.close().then(() => parentPort!.postMessage('closed'))
})
