/**
 * Outside oracle: an exact LRU reproduces the reference simulator's hit counts on real
 * traces (__test__/fixtures/traces/README.md). Any ordering bug shows up as a different count.
 */
import test from 'ava'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { enginesUnderTest } from './helpers/engines'

function readTrace(name: string): string[] {
  const gz = readFileSync(join(__dirname, 'fixtures', 'traces', `${name}.keys.gz`))
  return gunzipSync(gz).toString('utf8').split('\n').filter(Boolean)
}

// Exact hit counts from the reference simulator (`python3 sim.py <trace> --capacity N --policy lru`).
const REFERENCE: { trace: string; requests: number; capacity: number; hits: number }[] = [
  { trace: 'gli', requests: 6015, capacity: 3, hits: 50 },
  { trace: 'gli', requests: 6015, capacity: 25, hits: 54 },
  { trace: 'gli', requests: 6015, capacity: 253, hits: 55 },
  { trace: 'gli', requests: 6015, capacity: 1000, hits: 674 },
  { trace: 'gli', requests: 6015, capacity: 1500, hits: 2199 },
  { trace: 'gli', requests: 6015, capacity: 2000, hits: 3453 },
  { trace: 'web12', requests: 95607, capacity: 14, hits: 16170 },
  { trace: 'web12', requests: 95607, capacity: 138, hits: 38043 },
  { trace: 'web12', requests: 95607, capacity: 1376, hits: 65483 },
]

const traces = new Map<string, string[]>()

for (const engine of enginesUnderTest()) {
  for (const ref of REFERENCE) {
    test(`${engine} engine: LRU hits on ${ref.trace} at capacity ${ref.capacity} equal the reference (${ref.hits})`, async (t) => {
      if (!traces.has(ref.trace)) traces.set(ref.trace, readTrace(ref.trace))
      const keys = traces.get(ref.trace)!
      t.is(keys.length, ref.requests)
      const cache = new InMemoryLRUCache<number>({ maxsize: ref.capacity, defaultTtl: 0, engine })
      for (const k of keys) {
        if ((await cache.get(k)) === undefined) await cache.set(k, 1)
      }
      const s = cache.stats()
      t.is(s.hits, ref.hits)
      t.is(s.misses, ref.requests - ref.hits)
      t.is(s.evictions, ref.requests - ref.hits - s.size)
      await cache.close()
    })
  }
}
