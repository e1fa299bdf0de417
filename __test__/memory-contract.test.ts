import test from 'ava'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { contractSuite } from './contract/suite'
import { enginesUnderTest } from './helpers/engines'

for (const engine of enginesUnderTest()) {
  contractSuite(test, {
    name: `memory/${engine}`,
    create: async ({ maxsize, defaultTtl, clock }) => new InMemoryLRUCache({ maxsize, defaultTtl, clock, engine }),
    advance: async (ms, clock) => clock.advance(ms),
    capabilities: { lruEviction: true, counters: true, maxsizeInStats: true },
  })
}
