import test from 'ava'
import { CacheOptionError } from '../src/errors'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { contractSuite } from './contract/suite'
import { enginesUnderTest } from './helpers/engines'

for (const policy of ['s3fifo', 'tinylfu'] as const) {
  for (const engine of enginesUnderTest()) {
    contractSuite(test, {
      name: `memory/${engine}/${policy}`,
      create: async ({ maxsize, defaultTtl, clock }) => new InMemoryLRUCache({ maxsize, defaultTtl, clock, engine, policy }),
      advance: async (ms, clock) => clock.advance(ms),
      // Eviction order is the policy's, not LRU's.
      capabilities: { lruEviction: false, counters: true, maxsizeInStats: true },
    })
  }
}

test('policy option: default lru, exposed, and a bad value is a CacheOptionError naming it', async (t) => {
  const c = new InMemoryLRUCache({ engine: 'js' })
  t.is(c.policy, 'lru')
  await c.close()
  const s = new InMemoryLRUCache({ engine: 'js', policy: 's3fifo' })
  t.is(s.policy, 's3fifo')
  await s.close()
  t.throws(() => new InMemoryLRUCache({ policy: 'arc' as never }), {
    instanceOf: CacheOptionError,
    message: /^policy must be one of 'lru', 's3fifo', 'tinylfu'; got "arc"/,
  })
})

test('a scan does not flush frequently used keys under s3fifo and tinylfu (it does under lru)', async (t) => {
  const kept: Record<string, number> = {}
  for (const policy of ['lru', 's3fifo', 'tinylfu'] as const) {
    const c = new InMemoryLRUCache<number>({ engine: 'js', policy, maxsize: 100, defaultTtl: 0 })
    for (let round = 0; round < 5; round++) for (let i = 0; i < 50; i++) if ((await c.get(`hot${i}`)) === undefined) await c.set(`hot${i}`, i)
    for (let i = 0; i < 1000; i++) if ((await c.get(`scan${i}`)) === undefined) await c.set(`scan${i}`, i)
    let n = 0
    for (let i = 0; i < 50; i++) if (await c.has(`hot${i}`)) n++
    kept[policy] = n
    await c.close()
  }
  t.is(kept.lru, 0)
  t.true(kept.s3fifo >= 45, `s3fifo kept ${kept.s3fifo}`)
  t.true(kept.tinylfu >= 45, `tinylfu kept ${kept.tinylfu}`)
})
