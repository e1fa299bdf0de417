/**
 * Soak and leak checks (`npm run soak`; `npm run soak -- --ci` is the short version CI runs).
 * Three phases, each ending with memory measured after a full GC and compared with the
 * baseline taken before it:
 *  1. create and close memory caches of every engine and storage (100k in all; CI 10k);
 *  2. mixed get/set/getOrSet/invalidate/getMany/has on one bounded cache of each kind with
 *     values of every size, from 1 byte to 64 KiB (10M operations in all; CI 600k);
 *  3. RedisCache under a stream of calls while redis-server is restarted every 3 s (and
 *     hung once) (60 s; CI 15 s), sampling health(): the fallback, the invalidation queue and
 *     the in-flight commands (deadline list) stay within their bounds.
 * Margins: JS heap within HEAP_MARGIN_MB and RSS within RSS_MARGIN_MB of the phase's
 * baseline (RSS keeps allocator pages, so its margin is wider). No unhandled rejection may
 * occur. Prints each check and ends with "soak: N passed, N failed"; exits non-zero on failure.
 * Run with --expose-gc (the npm script does).
 */
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { RedisCache } from '../src/redis/redis-cache'
import { redisServerAvailable, sleep, startRedis } from '../__test__/helpers/redis-server'

const ci = process.argv.includes('--ci')
const CACHES = ci ? 10_000 : 100_000
const OPERATIONS = ci ? 600_000 : 10_000_000
const REDIS_MS = ci ? 15_000 : 60_000
const RESTART_EVERY_MS = 3_000
const HEAP_MARGIN_MB = 8
const RSS_MARGIN_MB = 64

const KINDS = [
  { name: 'js engine', options: { engine: 'js' as const } },
  { name: 'native engine', options: { engine: 'native' as const } },
  { name: 'native engine, serialized storage', options: { engine: 'native' as const, storage: 'serialized' as const } },
]

let passed = 0
let failed = 0
const unhandled: unknown[] = []
process.on('unhandledRejection', (reason) => unhandled.push(reason))

function check(ok: boolean, what: string): void {
  if (ok) passed++
  else failed++
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`)
}

const gc = (globalThis as { gc?: () => void }).gc
async function settled(): Promise<{ heapMb: number; rssMb: number }> {
  for (let i = 0; i < 4; i++) {
    gc?.()
    await sleep(50)
  }
  const m = process.memoryUsage()
  return { heapMb: m.heapUsed / 2 ** 20, rssMb: m.rss / 2 ** 20 }
}

async function memoryCheck(phase: string, before: { heapMb: number; rssMb: number }, peak?: { heapMb: number; rssMb: number }): Promise<void> {
  const after = await settled()
  const f = (m: { heapMb: number; rssMb: number }) => `heap ${m.heapMb.toFixed(1)} MB, RSS ${m.rssMb.toFixed(1)} MB`
  console.log(`     ${phase}: start ${f(before)}${peak ? `; peak ${f(peak)}` : ''}; end ${f(after)}`)
  check(after.heapMb - before.heapMb <= HEAP_MARGIN_MB, `${phase}: JS heap back within ${HEAP_MARGIN_MB} MB of its start (${(after.heapMb - before.heapMb).toFixed(1)} MB)`)
  check(after.rssMb - before.rssMb <= RSS_MARGIN_MB, `${phase}: RSS back within ${RSS_MARGIN_MB} MB of its start (${(after.rssMb - before.rssMb).toFixed(1)} MB)`)
}

async function createAndClose(): Promise<void> {
  const before = await settled()
  const perKind = Math.ceil(CACHES / KINDS.length)
  for (const kind of KINDS) {
    for (let i = 0; i < perKind; i++) {
      const cache = new InMemoryLRUCache<string>({ maxsize: 100, ...kind.options })
      if (i % 10 === 0) await cache.set('k', 'v')
      await cache.close()
    }
  }
  await memoryCheck(`${perKind * KINDS.length} caches created and closed`, before)
}

const SIZES = [1, 10, 100, 1000, 10_000, 65_536]
// Flat strings, one per size (concatenations would be ropes).
const VALUES = SIZES.map((n) => 'x'.repeat(n).split('').join(''))

async function mixedOperations(): Promise<void> {
  const before = await settled()
  const perKind = Math.ceil(OPERATIONS / KINDS.length)
  let peak = before
  for (const kind of KINDS) {
    const cache = new InMemoryLRUCache<string>({ maxsize: 10_000, ...kind.options })
    let seed = 7
    for (let i = 0; i < perKind; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      const key = `k${seed % 50_000}`
      // Big values are rarer, as in real traffic (and keep 10k entries within a few hundred MB).
      const size = seed % 1000 === 0 ? 5 : seed % 100 === 0 ? 4 : seed % 6 === 5 ? 3 : seed % 3
      const op = seed % 10
      if (op < 4) await cache.get(key)
      else if (op < 7) await cache.set(key, VALUES[size], (seed % 3) + 1)
      else if (op === 7) await cache.getOrSet(key, () => VALUES[size])
      else if (op === 8) await cache.invalidate(key)
      else if (i % 100 === 0) await cache.getMany([key, `k${(seed >> 3) % 50_000}`])
      else await cache.has(key)
    }
    const m = process.memoryUsage()
    if (m.rss / 2 ** 20 > peak.rssMb) peak = { heapMb: m.heapUsed / 2 ** 20, rssMb: m.rss / 2 ** 20 }
    await cache.close()
  }
  await memoryCheck(`${perKind * KINDS.length} mixed operations`, before, peak)
}

async function redisRestarts(): Promise<void> {
  const available = redisServerAvailable()
  if (!available.available) {
    check(false, `redis phase: redis-server is not available (${available.reason})`)
    return
  }
  const before = await settled()
  const server = await startRedis()
  const fallbackMaxsize = 1000
  const queueBound = 10_000
  const cache = new RedisCache<string>({ redisUrl: server.url, keyPrefix: 'soak:', commandTimeoutMs: 200, fallbackMaxsize })
  let errors = 0
  cache.on('error', () => errors++)
  const bounds = { fallback: 0, queue: 0, inFlight: 0 }
  let running = true
  let calls = 0
  let rejections = 0
  const workers = Array.from({ length: 20 }, async (_, w) => {
    let i = 0
    while (running) {
      const key = `k${(w * 7919 + i++) % 5000}`
      try {
        const op = i % 5
        if (op === 0) await cache.set(key, VALUES[i % 4], 30)
        else if (op === 1) await cache.invalidate(key)
        else if (op === 2) await cache.getOrSet(key, async () => VALUES[i % 3])
        else await cache.get(key)
      } catch {
        rejections++
      }
      calls++
      if (i % 10 === 0) await sleep(1)
    }
  })
  const sampler = setInterval(() => {
    const h = cache.health()
    bounds.fallback = Math.max(bounds.fallback, h.fallbackEntries)
    bounds.queue = Math.max(bounds.queue, h.pendingInvalidations)
    bounds.inFlight = Math.max(bounds.inFlight, h.inFlightCommands)
  }, 20)
  const startedAt = Date.now()
  let restarts = 0
  let peak = before
  while (Date.now() - startedAt < REDIS_MS) {
    await sleep(RESTART_EVERY_MS)
    if (restarts === 1) {
      server.pause() // one hang among the restarts: no connection dropped
      await sleep(1000)
      server.resume()
    } else {
      await server.restart()
    }
    restarts++
    const m = process.memoryUsage()
    if (m.rss / 2 ** 20 > peak.rssMb) peak = { heapMb: m.heapUsed / 2 ** 20, rssMb: m.rss / 2 ** 20 }
  }
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline && (cache.health().breaker !== 'closed' || cache.health().pendingInvalidations > 0)) await sleep(50)
  running = false
  await Promise.all(workers)
  clearInterval(sampler)
  const h = cache.health()
  console.log(`     ${calls} calls over ${restarts} restarts (one a hang), ${errors} errors emitted; max fallback ${bounds.fallback}, max queue ${bounds.queue}, max in-flight commands ${bounds.inFlight}`)
  check(rejections === 0, `redis: no call rejected (${rejections})`)
  check(bounds.fallback <= fallbackMaxsize, `redis: fallback within fallbackMaxsize ${fallbackMaxsize} (max ${bounds.fallback})`)
  check(bounds.queue <= queueBound, `redis: invalidation queue within ${queueBound} (max ${bounds.queue})`)
  // Each of the 20 callers has at most a few commands in flight (a getOrSet: get, then its write).
  check(bounds.inFlight <= 20 * 4, `redis: in-flight commands within 80 (max ${bounds.inFlight})`)
  check(h.breaker === 'closed' && h.pendingInvalidations === 0, `redis: back on Redis with nothing queued at the end (${h.breaker}, ${h.pendingInvalidations})`)
  await cache.close()
  await server.stop()
  await memoryCheck(`redis restarted every ${RESTART_EVERY_MS / 1000} s for ${REDIS_MS / 1000} s`, before, peak)
}

async function main(): Promise<void> {
  if (gc === undefined) console.log('note: run with --expose-gc for exact memory figures')
  await createAndClose()
  await mixedOperations()
  await redisRestarts()
  await sleep(100)
  check(unhandled.length === 0, `no unhandled rejection (${unhandled.length})`)
  console.log(`soak: ${passed} passed, ${failed} failed`)
  process.exitCode = failed === 0 ? 0 : 1
}

main().catch((err) => {
  console.error(err)
  console.log(`soak: ${passed} passed, ${failed + 1} failed`)
  process.exitCode = 1
})
