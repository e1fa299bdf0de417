import test from 'ava'
import { cached } from '../src/decorators'
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
}
