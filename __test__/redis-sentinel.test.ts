/**
 * RedisCache over a real Sentinel deployment (master, replica, three sentinels on loopback):
 * the master is killed under a stream of calls. No call fails (failOpen), the cache follows the
 * promoted replica, and invalidations made while there was no master are replayed on the new
 * one (which still holds the old values it replicated). The worst call is logged; the only
 * bound asserted catches hangs: 3 x commandTimeoutMs + the time the failover itself took.
 */
import test from 'ava'
import { RedisCache } from '../src/redis/redis-cache'
import { callStream, defaultCalls, waitFor } from './helpers/call-stream'
import { redisTestsOrSkip } from './helpers/redis-server'
import { startSentinelSetup, type SentinelSetup } from './helpers/sentinel'

const COMMAND_TIMEOUT_MS = 500

if (redisTestsOrSkip(test, 'RedisCache over Redis Sentinel (master, replica, three sentinels)')) {
  // One deployment per test, so the two run side by side.
  async function deployment(t: { teardown(fn: () => unknown): void }): Promise<SentinelSetup> {
    const setup = await startSentinelSetup({ downAfterMs: 1000, failoverTimeoutMs: 3000 })
    t.teardown(() => setup.stop())
    return setup
  }

  test('master killed under load: no failed call, the cache follows the promoted replica, invalidations are replayed on it', async (t) => {
    const setup = await deployment(t)
    const keyPrefix = 'sentinel:'
    const cache = new RedisCache<string>({ redisUrl: setup.url, keyPrefix, commandTimeoutMs: COMMAND_TIMEOUT_MS })
    t.teardown(() => cache.close())
    const errors: Error[] = []
    cache.on('error', (err) => errors.push(err))
    await waitFor(() => cache.health().connected, 10_000, 'the cache connects through the sentinels')

    await cache.set('victim', 'old', 3600)
    await cache.set('overwritten', 'old', 3600)
    await waitFor(() => setup.replica.cli(['GET', `${keyPrefix}overwritten`]) === '"old"', 10_000, 'the replica has the values')

    const stream = callStream(defaultCalls(cache))
    await new Promise((resolve) => setTimeout(resolve, 200))
    const killedAt = performance.now()
    await setup.master.kill()
    // No master now: both changes are kept for replay (the replica still holds "old" for both).
    await cache.invalidate('victim')
    await cache.set('overwritten', 'new', 3600)
    t.true(cache.health().pendingInvalidations >= 2, `pending: ${cache.health().pendingInvalidations}`)

    await setup.waitForMaster(setup.replica.port)
    const failoverMs = performance.now() - killedAt
    await waitFor(() => {
      const h = cache.health()
      return h.connected && h.breaker === 'closed' && h.pendingInvalidations === 0
    }, 15_000, 'the cache is back on Redis with its invalidations replayed')
    const recoveredMs = performance.now() - killedAt
    await new Promise((resolve) => setTimeout(resolve, 300))
    const result = await stream.stop()

    const bound = 3 * COMMAND_TIMEOUT_MS + failoverMs
    t.log(
      `calls: ${result.calls}; worst call ${result.worstMs.toFixed(0)} ms (get ${result.worst.get?.toFixed(0)}, set ${result.worst.set?.toFixed(0)}, getOrSet ${result.worst.getOrSet?.toFixed(0)}); ` +
        `promoted ${failoverMs.toFixed(0)} ms after the kill, cache back ${recoveredMs.toFixed(0)} ms after it; errors emitted: ${errors.length}`,
    )
    t.deepEqual(result.rejections, [], 'no call failed')
    t.true(result.worstMs < bound, `worst call ${result.worstMs.toFixed(0)} ms, bound ${bound.toFixed(0)} ms`)

    // The promoted replica is the master now and the cache works on it.
    t.regex(setup.replica.cli(['ROLE']), /^master/)
    t.is(setup.replica.cli(['EXISTS', `${keyPrefix}victim`]), '0', 'the invalidation was replayed on the new master')
    t.not(setup.replica.cli(['GET', `${keyPrefix}overwritten`]), '"old"', 'so was the set made without a master')
    t.is(await cache.get('victim'), undefined)
    t.not(await cache.get('overwritten'), 'old')
    await cache.set('after', 'x')
    t.is(setup.replica.cli(['GET', `${keyPrefix}after`]), '"x"')
  })

  test('master hung (SIGSTOP, no connection closed) under load: the cache leaves it when the sentinels promote the replica', async (t) => {
    const setup = await deployment(t)
    const [hung, next] = [setup.master, setup.replica]
    const keyPrefix = 'sentinel-hang:'
    const cache = new RedisCache<string>({ redisUrl: setup.url, keyPrefix, commandTimeoutMs: COMMAND_TIMEOUT_MS })
    t.teardown(() => cache.close())
    const errors: Error[] = []
    cache.on('error', (err) => errors.push(err))
    await waitFor(() => cache.health().connected, 10_000, 'the cache connects through the sentinels')
    await cache.set('victim', 'old', 3600)
    await waitFor(() => next.cli(['GET', `${keyPrefix}victim`]) === '"old"', 10_000, 'the replica has the value')

    const stream = callStream(defaultCalls(cache))
    await new Promise((resolve) => setTimeout(resolve, 200))
    const pausedAt = performance.now()
    hung.pause()
    t.teardown(() => hung.resume())
    await cache.invalidate('victim')

    await setup.waitForMaster(next.port)
    const failoverMs = performance.now() - pausedAt
    await waitFor(() => {
      const h = cache.health()
      return h.connected && h.breaker === 'closed' && h.pendingInvalidations === 0
    }, 15_000, 'the cache is back on Redis (the promoted replica) with its invalidations replayed')
    const recoveredMs = performance.now() - pausedAt
    await new Promise((resolve) => setTimeout(resolve, 300))
    const result = await stream.stop()

    const bound = 3 * COMMAND_TIMEOUT_MS + failoverMs
    t.log(
      `calls: ${result.calls}; worst call ${result.worstMs.toFixed(0)} ms (get ${result.worst.get?.toFixed(0)}, set ${result.worst.set?.toFixed(0)}, getOrSet ${result.worst.getOrSet?.toFixed(0)}); ` +
        `promoted ${failoverMs.toFixed(0)} ms after SIGSTOP, cache back ${recoveredMs.toFixed(0)} ms after it; errors emitted: ${errors.length}`,
    )
    t.deepEqual(result.rejections, [], 'no call failed')
    t.true(result.worstMs < bound, `worst call ${result.worstMs.toFixed(0)} ms, bound ${bound.toFixed(0)} ms`)
    t.is(next.cli(['EXISTS', `${keyPrefix}victim`]), '0', 'the invalidation was replayed on the new master')
    await cache.set('after', 'x')
    t.is(next.cli(['GET', `${keyPrefix}after`]), '"x"', 'writes go to the new master while the old one still hangs')
  })
}
