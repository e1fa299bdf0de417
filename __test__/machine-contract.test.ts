/**
 * The Cache contract (contract/suite.ts) against the machine-wide cache
 * (InMemoryLRUCache.shared(name, { scope: 'machine' })), plus what its second-chance eviction
 * does where it differs from strict LRU. Linux only, like machine-cache.test.ts: elsewhere
 * the one test checks the coded refusal.
 *
 * A machine-wide cache takes no `clock` (its TTLs run on the kernel's CLOCK_MONOTONIC in the
 * segment, the clock every process shares), so time moves by real sleeps, as for Redis.
 * Every cache gets its own segment name (pid + counter: parallel test files never meet) in a
 * temporary directory removed after the file.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { CacheOptionError, InMemoryLRUCache } from '../src/index'
import { contractSuite } from './contract/suite'
import { sleep } from './helpers/redis-server'

const dir = mkdtempSync(join(tmpdir(), 'astra-machine-contract-'))
test.after.always(() => rmSync(dir, { recursive: true, force: true }))

let counter = 0
const fresh = () => `contract${process.pid}-${counter++}`
const open = (name: string, extra: Record<string, unknown> = {}) => InMemoryLRUCache.shared<unknown>(name, { scope: 'machine', dir, maxsize: 100, ...extra })

if (process.platform !== 'linux') {
  test('off Linux, scope machine is refused with a coded error', (t) => {
    const err = t.throws(() => open(fresh()))
    t.is((err as { code?: string }).code, 'ERR_CACHE_UNSUPPORTED_PLATFORM')
  })
} else {
  contractSuite(test, {
    name: 'memory/machine',
    // The suite's clock is not passed: shared() refuses it (test below).
    create: async ({ maxsize, defaultTtl }) => open(fresh(), { maxsize, defaultTtl }),
    advance: (ms) => sleep(ms),
    // lruEviction: the suite's eviction cases are ones where second-chance and strict LRU
    // agree (the entry to evict was never read, or recency comes from a write); where they
    // differ is asserted below.
    capabilities: { lruEviction: true, counters: true, maxsizeInStats: true },
  })

  test('a clock cannot be injected: TTLs run on the machine-wide monotonic clock', (t) => {
    const err = t.throws(() => open(fresh(), { clock: () => 0 }), { instanceOf: CacheOptionError })
    t.regex(err.message, /clock cannot be set/)
  })

  test('second-chance: among entries that were all read, the oldest insertion goes first, not the least recently read', async (t) => {
    const c = open(fresh(), { maxsize: 3, shards: 1 })
    t.teardown(() => c.close())
    await c.set('a', 1)
    await c.set('b', 2)
    await c.set('c', 3)
    // Read order c, b, a: strict LRU would evict c (least recently read).
    await c.get('c')
    await c.get('b')
    await c.get('a')
    await c.set('d', 4)
    // Every mark was set: the pass clears a, b, c in insertion order and evicts a, the oldest.
    t.deepEqual(await c.getMany(['a', 'b', 'c', 'd']), [undefined, 2, 3, 4])
    t.is(c.stats().evictions, 1)
    t.deepEqual(c.verify(), [])
  })

  test('second-chance: one read protects an entry for one pass only', async (t) => {
    const c = open(fresh(), { maxsize: 2, shards: 1 })
    t.teardown(() => c.close())
    await c.set('a', 1)
    await c.set('b', 2)
    await c.get('a')
    await c.set('c', 3) // a gets its second chance; b, unread, goes
    t.false(await c.has('b'))
    await c.set('d', 4) // a was not read again: now it goes, before c
    t.deepEqual(await c.getMany(['a', 'c', 'd']), [undefined, 3, 4])
    t.is(c.stats().evictions, 2)
  })
}
