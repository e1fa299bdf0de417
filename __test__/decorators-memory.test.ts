import test from 'ava'
import { cached, type CacheFailure } from '../src/decorators'
import { CacheClosedError } from '../src/errors'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { decoratorSuite } from './decorators-suite'
import { enginesUnderTest } from './helpers/engines'
import { FakeClock } from './helpers/fake-clock'

for (const engine of enginesUnderTest()) {
  decoratorSuite(test, {
    name: `memory/${engine}`,
    create: async () => new InMemoryLRUCache({ engine, maxsize: 1000 }),
  })

  test(`[memory/${engine}] a cached result expires after its ttl and the function runs again`, async (t) => {
    const clock = new FakeClock()
    const cache = new InMemoryLRUCache({ engine, clock: clock.now })
    let calls = 0
    const getConfig = cached({ cache, ttl: 30 })(async function getConfig() {
      calls++
      return { version: calls }
    })
    t.deepEqual(await getConfig(), { version: 1 })
    clock.advance(29_999)
    t.deepEqual(await getConfig(), { version: 1 })
    clock.advance(1)
    t.deepEqual(await getConfig(), { version: 2 })
    t.is(calls, 2)
  })

  // A memory cache is read synchronously (readNow): the same counts as through get, once per call.
  test(`[memory/${engine}] each call is one lookup in the cache's counters, with or without staleTtl`, async (t) => {
    for (const staleTtl of [undefined, 10]) {
      const cache = new InMemoryLRUCache({ engine })
      const getUser = cached({ cache, ttl: 60, staleTtl, keyFn: (id: string) => id })(async (id: string) => `user ${id}`)
      t.is(await getUser('1'), 'user 1')
      t.is(await getUser('1'), 'user 1')
      t.is(await getUser('1'), 'user 1')
      t.like(cache.stats(), { hits: 2, misses: 1, size: 1 }, `staleTtl ${staleTtl}`)
      await cache.close()
    }
  })

  test(`[memory/${engine}] a closed memory cache fails the lookup, not the call: the function runs and onError hears of it`, async (t) => {
    const cache = new InMemoryLRUCache({ engine })
    const failures: [unknown, CacheFailure][] = []
    let calls = 0
    const getUser = cached({ cache, keyFn: (id: string) => id, onError: (error, failure) => failures.push([error, failure]) })(async (id: string) => {
      calls++
      return `user ${id}`
    })
    t.is(await getUser('1'), 'user 1')
    await cache.close()
    t.is(await getUser('1'), 'user 1')
    t.is(calls, 2)
    const get = failures.find(([, failure]) => failure.op === 'get')
    t.truthy(get, 'the failed lookup was reported')
    t.true(get![0] instanceof CacheClosedError)
    t.like(get![1], { op: 'get', key: '1' })
  })
}
