/**
 * TieredCache vs RedisCache alone, in one run on one redis-server: the latency of an L1 hit,
 * an L2 hit (L1 empty, value in Redis) and a RedisCache hit. Needs redis-server on PATH.
 *
 *   npx tsx bench/tiered.ts            (standalone; prints a table)
 *   import { benchTiered } from './tiered'  (returns the rows)
 */
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { RedisCache } from '../src/redis/redis-cache'
import { TieredCache } from '../src/tiered/tiered-cache'
import { startRedis } from '../__test__/helpers/redis-server'

export interface TieredBenchRow {
  case: string
  ops: number
  meanUs: number
  p50Us: number
  p99Us: number
}

async function measure(name: string, ops: number, op: (i: number) => Promise<unknown>): Promise<TieredBenchRow> {
  for (let i = 0; i < Math.min(1000, ops); i++) await op(i) // warm-up
  const samples = new Float64Array(ops)
  for (let i = 0; i < ops; i++) {
    const start = performance.now()
    await op(i)
    samples[i] = (performance.now() - start) * 1000
  }
  samples.sort()
  const mean = samples.reduce((a, b) => a + b, 0) / ops
  return { case: name, ops, meanUs: mean, p50Us: samples[Math.floor(ops * 0.5)], p99Us: samples[Math.floor(ops * 0.99)] }
}

export async function benchTiered(options: { ops?: number } = {}): Promise<TieredBenchRow[]> {
  const ops = options.ops ?? 20_000
  const server = await startRedis()
  const keys = 1000
  const value = { id: 1, name: 'user', tags: ['a', 'b', 'c'] }
  try {
    const redis = new RedisCache<typeof value>({ redisUrl: server.url, keyPrefix: 'bench:tiered:' })
    const l1 = new InMemoryLRUCache<typeof value>({ maxsize: 10_000 })
    const tiered = new TieredCache<typeof value>({
      l1,
      l2: new RedisCache<typeof value>({ redisUrl: server.url, keyPrefix: 'bench:tiered:' }),
      redisUrl: server.url,
      l1Ttl: 600,
    })
    await new Promise<void>((resolve) => tiered.once('resync', () => resolve()))
    await redis.setMany(Array.from({ length: keys }, (_, i) => [`k${i}`, value] as const))
    const rows: TieredBenchRow[] = []
    rows.push(await measure('RedisCache.get (hit)', ops, (i) => redis.get(`k${i % keys}`)))
    // L2 hit: L1 emptied before every read, so each read goes to Redis and refills L1.
    rows.push(await measure('TieredCache.get (L2 hit)', Math.min(ops, 5000), async (i) => {
      await l1.invalidate(`k${i % keys}`)
      return tiered.get(`k${i % keys}`)
    }))
    for (let i = 0; i < keys; i++) await tiered.get(`k${i}`)
    rows.push(await measure('TieredCache.get (L1 hit)', ops * 5, (i) => tiered.get(`k${i % keys}`)))
    await tiered.close()
    await redis.close()
    return rows
  } finally {
    await server.stop()
  }
}

if (require.main === module) {
  benchTiered().then((rows) => {
    console.log('| case | ops | mean µs | p50 µs | p99 µs |\n|---|---:|---:|---:|---:|')
    for (const r of rows) console.log(`| ${r.case} | ${r.ops} | ${r.meanUs.toFixed(1)} | ${r.p50Us.toFixed(1)} | ${r.p99Us.toFixed(1)} |`)
    console.log('(L2 hit includes one L1 invalidate per read; Node', process.version, ')')
  })
}
