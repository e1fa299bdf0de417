/**
 * RedisCache.setIfAbsent on a real redis-server: stores only when the key is empty, answers
 * with what the key holds, is atomic across connections, and says "unknown" (undefined) rather
 * than guessing when Redis cannot be asked.
 */
import test from 'ava'
import { Redis } from 'ioredis'
import { RedisCache } from '../src/redis/redis-cache'
import { redisTestsOrSkip, startRedis, type RedisServer } from './helpers/redis-server'

if (redisTestsOrSkip(test, 'RedisCache.setIfAbsent on a real redis-server')) {
  let server: RedisServer
  let raw: Redis
  let prefixes = 0
  const open: RedisCache<unknown>[] = []
  const cache = (options: ConstructorParameters<typeof RedisCache>[0] = {}) => {
    const c = new RedisCache<unknown>({ redisUrl: server.url, keyPrefix: `sia:${process.pid}:${++prefixes}:`, ...options })
    c.on('error', () => {})
    open.push(c)
    return c
  }
  test.before(async () => {
    server = await startRedis()
    raw = new Redis(server.port, server.host)
  })
  test.after.always(async () => {
    await Promise.all(open.map((c) => c.close()))
    raw?.disconnect()
    await server?.stop()
  })

  test('stores when absent and returns the value; otherwise keeps and returns what is there', async (t) => {
    const c = cache()
    t.deepEqual(await c.setIfAbsent('k', { n: 1 }), { n: 1 })
    t.deepEqual(await c.setIfAbsent('k', { n: 2 }), { n: 1 })
    t.deepEqual(await c.get('k'), { n: 1 })
  })

  test('ttl as in set(): seconds (PX), default ttl, 0 = no expiry', async (t) => {
    const c = cache({ defaultTtl: 30 })
    await c.setIfAbsent('ttl', 'v', 10)
    await c.setIfAbsent('default', 'v')
    await c.setIfAbsent('forever', 'v', 0)
    const pttl = await raw.pttl(`${c.keyPrefix}ttl`)
    t.true(pttl > 9000 && pttl <= 10_000, String(pttl))
    const pttlDefault = await raw.pttl(`${c.keyPrefix}default`)
    t.true(pttlDefault > 29_000 && pttlDefault <= 30_000, String(pttlDefault))
    t.is(await raw.pttl(`${c.keyPrefix}forever`), -1)
  })

  test('many connections racing for one key: one value wins and every caller is told the same one', async (t) => {
    const prefix = `sia-race:${process.pid}:`
    const racers = Array.from({ length: 8 }, () => cache({ keyPrefix: prefix }))
    await Promise.all(racers.map((c) => c.get('warm-up')))
    const answers = await Promise.all(racers.map((c, i) => c.setIfAbsent('contested', `racer${i}`, 0)))
    t.is(new Set(answers).size, 1, JSON.stringify(answers))
    t.is(await raw.get(`${prefix}contested`), JSON.stringify(answers[0]))
  })

  test('unknown (undefined) while Redis cannot be asked; with failOpen false it rejects', async (t) => {
    const down = await startRedis()
    const open = cache({ redisUrl: down.url, commandTimeoutMs: 200 })
    const strict = cache({ redisUrl: down.url, commandTimeoutMs: 200, failOpen: false })
    await Promise.all([open.get('warm-up'), strict.get('warm-up')])
    down.pause()
    t.teardown(() => down.stop())
    t.is(await open.setIfAbsent('k', 'v'), undefined)
    t.is(await open.get('k'), undefined, 'nothing was put in the fallback')
    await t.throwsAsync(strict.setIfAbsent('k', 'v'), { code: 'ERR_CACHE_UNAVAILABLE' } as never)
    t.true((open.errorCounts().setIfAbsent ?? 0) >= 1)
  })

  test('bad input is refused like set()', async (t) => {
    const c = cache()
    await t.throwsAsync(c.setIfAbsent(42 as never, 'v'), { code: 'ERR_CACHE_INVALID_KEY' } as never)
    await t.throwsAsync(c.setIfAbsent('k', undefined as never), { code: 'ERR_CACHE_INVALID_VALUE' } as never)
    await t.throwsAsync(c.setIfAbsent('k', 'v', -1), { code: 'ERR_CACHE_INVALID_TTL' } as never)
  })
}
