/**
 * RedisCache over a real Sentinel deployment (master, replica, three sentinels on loopback):
 * the master is killed under a stream of calls. No call fails (failOpen), the cache follows the
 * promoted replica, and invalidations made while there was no master are replayed on the new
 * one (which still holds the old values it replicated). The worst call is logged; the only
 * bound asserted catches hangs: 3 x commandTimeoutMs + the time the failover itself took.
 */
import test, { type ExecutionContext } from 'ava'
import { RedisCache } from '../src/redis/redis-cache'
import { callStream, defaultCalls, waitFor } from './helpers/call-stream'
import { redisTestsOrSkip, sleep } from './helpers/redis-server'
import { startSentinelSetup, type SentinelSetup } from './helpers/sentinel'

const COMMAND_TIMEOUT_MS = 500

if (redisTestsOrSkip(test, 'RedisCache over Redis Sentinel (master, replica, three sentinels)')) {
  // One deployment per test, so the two run side by side.
  async function deployment(t: ExecutionContext): Promise<SentinelSetup> {
    const setup = await startSentinelSetup({ downAfterMs: 1000, failoverTimeoutMs: 3000 })
    t.teardown(() => setup.stop())
    return setup
  }

  /**
   * A cache on a fresh deployment with `victim` and `overwritten` stored (and replicated); a
   * call stream; the fault on the master; both keys changed while there is no master; then the
   * replica promoted and the cache back on it. Checks and logs what every failover must give.
   */
  async function failoverUnderLoad(t: ExecutionContext, keyPrefix: string, fault: (setup: SentinelSetup) => Promise<void> | void, what: string): Promise<void> {
    const setup = await deployment(t)
    const cache = new RedisCache<string>({ redisUrl: setup.url, keyPrefix, commandTimeoutMs: COMMAND_TIMEOUT_MS })
    t.teardown(() => cache.close())
    const errors: Error[] = []
    cache.on('error', (err) => errors.push(err))
    await waitFor(() => cache.health().connected, 10_000, 'the cache connects through the sentinels')
    await cache.set('victim', 'old', 3600)
    await cache.set('overwritten', 'old', 3600)
    await waitFor(() => setup.replica.cli(['GET', `${keyPrefix}overwritten`]) === '"old"', 10_000, 'the replica has the values')

    const stream = callStream(defaultCalls(cache))
    await sleep(200)
    const faultAt = performance.now()
    await fault(setup)
    // No usable master now: both changes are kept for replay (the replica still holds "old" for both).
    await cache.invalidate('victim')
    await cache.set('overwritten', 'new', 3600)

    await setup.waitForMaster(setup.replica.port)
    const failoverMs = performance.now() - faultAt
    await waitFor(() => {
      const h = cache.health()
      return h.connected && h.breaker === 'closed' && h.pendingInvalidations === 0
    }, 15_000, 'the cache is back on Redis (the promoted replica) with its invalidations replayed')
    const recoveredMs = performance.now() - faultAt
    await sleep(300)
    const result = await stream.stop()

    const bound = 3 * COMMAND_TIMEOUT_MS + failoverMs
    const worst = Object.entries(result.worst).map(([kind, ms]) => `${kind} ${ms.toFixed(0)}`).join(', ')
    t.log(`${what}: ${result.calls} calls; worst call ${result.worstMs.toFixed(0)} ms (${worst}); promoted ${failoverMs.toFixed(0)} ms after the fault, cache back ${recoveredMs.toFixed(0)} ms after it; errors emitted: ${errors.length}`)
    t.deepEqual(result.rejections, [], 'no call failed')
    t.true(result.worstMs < bound, `worst call ${result.worstMs.toFixed(0)} ms, bound ${bound.toFixed(0)} ms`)

    t.regex(setup.replica.cli(['ROLE']), /^master/)
    t.is(setup.replica.cli(['EXISTS', `${keyPrefix}victim`]), '0', 'the invalidation was replayed on the new master')
    t.not(setup.replica.cli(['GET', `${keyPrefix}overwritten`]), '"old"', 'so was the set made without a master')
    t.is(await cache.get('victim'), undefined)
    t.not(await cache.get('overwritten'), 'old')
    await cache.set('after', 'x')
    t.is(setup.replica.cli(['GET', `${keyPrefix}after`]), '"x"', 'writes go to the new master')
  }

  test('master killed under load: no failed call, the cache follows the promoted replica, invalidations are replayed on it', async (t) => {
    await failoverUnderLoad(t, 'sentinel-kill:', (setup) => setup.master.kill(), 'master killed')
  })

  test('master hung (SIGSTOP, no connection closed) under load: the cache leaves it when the sentinels promote the replica', async (t) => {
    // The old master stays paused throughout: only the sentinels' news can move the cache.
    await failoverUnderLoad(
      t,
      'sentinel-hang:',
      (setup) => {
        setup.master.pause()
        t.teardown(() => setup.master.resume())
      },
      'master hung',
    )
  })
}
