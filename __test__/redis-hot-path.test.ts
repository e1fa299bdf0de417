/**
 * RedisCache's get/set hot paths (a Command sent directly on a plain client; a wrapper promise
 * on an auto-pipelined client) keep the full behaviour on a real, SIGSTOPped redis-server:
 * every call is cut by commandTimeoutMs, counted, emitted, served by the fallback (or rejected
 * with failOpen: false), and a set that timed out is not served stale after recovery.
 */
import test from 'ava'
import { RedisCache } from '../src/redis/redis-cache'
import { CacheSerializationError, CacheUnavailableError } from '../src/errors'
import { redisTestsOrSkip, sleep, startRedis, type RedisServer } from './helpers/redis-server'

/** Causes are redacted copies (credentials removed), so a timeout is recognised by name. */
const isTimeout = (err: unknown) => err instanceof Error && err.name === 'TimeoutError' && /timed out after \d+ ms/.test(err.message)

/** Same generous margin as the fault tests (shared machine). */
const MARGIN_MS = 1000
const TIMEOUT_MS = 150

if (redisTestsOrSkip(test, 'RedisCache hot-path tests')) {
  let server: RedisServer
  test.before(async () => {
    server = await startRedis()
  })
  test.after.always(() => server?.stop())

  const variants = [
    { name: 'plain client', redisOptions: {} },
    { name: 'auto-pipelined client', redisOptions: { enableAutoPipelining: true } },
  ]

  for (const variant of variants) {
    test.serial(`${variant.name}: a hung server cuts get and set at the timeout; counted, emitted, fallback serves`, async (t) => {
      // A high breaker threshold keeps the calls on the hot path (breaker closed) while the server hangs.
      const cache = new RedisCache<string>({ redisUrl: server.url, keyPrefix: `hot:${variant.name}:`, commandTimeoutMs: TIMEOUT_MS, breakerThreshold: 1000, redisOptions: variant.redisOptions })
      t.teardown(() => cache.close())
      const errors: Error[] = []
      cache.on('error', (e) => errors.push(e))
      await cache.set('k', 'before', 60)
      t.is(await cache.get('k'), 'before')
      server.pause()
      try {
        let started = performance.now()
        await cache.set('k', 'during', 60)
        t.true(performance.now() - started <= TIMEOUT_MS + MARGIN_MS)
        started = performance.now()
        t.is(await cache.get('k'), 'during', 'the fallback serves the value Redis did not take')
        t.true(performance.now() - started <= TIMEOUT_MS + MARGIN_MS)
        started = performance.now()
        t.is(await cache.get('never-set'), undefined)
        t.true(performance.now() - started <= TIMEOUT_MS + MARGIN_MS)
      } finally {
        server.resume()
      }
      t.is(cache.errorCounts().set, 1)
      t.true(cache.errorCounts().get >= 1)
      t.true(errors.length >= 2)
      t.true(errors.every((e) => e instanceof CacheUnavailableError))
      t.true(errors.some((e) => isTimeout(e.cause)))
      // After recovery the timed-out set's key is invalidated in Redis (whatever the late SET did).
      const deadline = Date.now() + 10_000
      while (cache.health().pendingInvalidations > 0 && Date.now() < deadline) await sleep(20)
      t.is(cache.health().pendingInvalidations, 0)
      const stale = await cache.get('k')
      t.true(stale === undefined || stale === 'during', `never the older value, got ${stale}`)
      await cache.set('k', 'after', 60)
      t.is(await cache.get('k'), 'after')
    })

    test.serial(`${variant.name}: failOpen false rejects a hung get and set with CacheUnavailableError caused by the timeout`, async (t) => {
      const cache = new RedisCache<string>({ redisUrl: server.url, keyPrefix: `strict:${variant.name}:`, commandTimeoutMs: TIMEOUT_MS, failOpen: false, breakerThreshold: 1000, redisOptions: variant.redisOptions })
      t.teardown(() => cache.close())
      cache.on('error', () => {})
      await cache.set('k', 'v', 60)
      server.pause()
      try {
        const getError = await t.throwsAsync(cache.get('k'), { instanceOf: CacheUnavailableError })
        t.true(isTimeout(getError?.cause))
        const setError = await t.throwsAsync(cache.set('k', 'w', 60), { instanceOf: CacheUnavailableError })
        t.true(isTimeout(setError?.cause))
      } finally {
        server.resume()
      }
      // The set that timed out may have landed late: its key is invalidated once Redis is back.
      const deadline = Date.now() + 10_000
      while (cache.health().pendingInvalidations > 0 && Date.now() < deadline) await sleep(20)
      t.is(await cache.get('k'), undefined)
      t.is(server.cli(['EXISTS', `strict:${variant.name}:k`]), '0')
      await cache.set('k', 'x', 60)
      t.is(await cache.get('k'), 'x', 'Redis answers again on the hot path')
    })

    test.serial(`${variant.name}: undecodable bytes: a miss with an error event, or a rejection with failOpen false`, async (t) => {
      const prefix = `bad:${variant.name}:`
      server.cli(['SET', `${prefix}k`, '{not json'])
      const lenient = new RedisCache<string>({ redisUrl: server.url, keyPrefix: prefix, redisOptions: variant.redisOptions })
      t.teardown(() => lenient.close())
      const errors: Error[] = []
      lenient.on('error', (e) => errors.push(e))
      await lenient.set('warm', 'up') // connected: the next get takes the hot path
      t.is(await lenient.get('k'), undefined)
      t.true(errors[0] instanceof CacheSerializationError)
      t.deepEqual([lenient.stats().hits, lenient.stats().misses], [0, 1])
      const strict = new RedisCache<string>({ redisUrl: server.url, keyPrefix: prefix, failOpen: false, redisOptions: variant.redisOptions })
      t.teardown(() => strict.close())
      strict.on('error', () => {})
      await strict.set('warm', 'up')
      await t.throwsAsync(strict.get('k'), { instanceOf: CacheSerializationError })
    })
  }
}
