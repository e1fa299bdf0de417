/**
 * A set whose value is a string equal to the one held keeps the held string (engine.ts,
 * "Equal strings"): invisible to callers, so these tests pin what must stay visible — every
 * other value (distinct objects, -0 after 0, a changed string) replaces the held one, and the
 * set is still reported.
 */
import test from 'ava'
import { InMemoryLRUCache, type DisposeReason } from '../src'
import { enginesUnderTest } from './helpers/engines'

const policies = ['lru', 'tinylfu'] as const

for (const engine of enginesUnderTest()) {
  for (const policy of policies) {
    const make = (calls: [unknown, string, DisposeReason][] = []) =>
      new InMemoryLRUCache({ maxsize: 8, defaultTtl: 0, engine, policy, dispose: (value, key, reason) => calls.push([value, key, reason]) })

    test(`[${engine}, ${policy}] an equal string re-set is reported as a set; a changed one replaces it`, async (t) => {
      const calls: [unknown, string, DisposeReason][] = []
      const cache = make(calls)
      const first = 'v'.repeat(100)
      await cache.set('k', first)
      await cache.set('k', ['v'.repeat(50), 'v'.repeat(50)].join(''))
      t.is(await cache.get('k'), first)
      t.is(cache.stats().size, 1)
      t.deepEqual(calls, [[first, 'k', 'set']])
      await cache.set('k', `${'v'.repeat(99)}w`)
      t.is(await cache.get('k'), `${'v'.repeat(99)}w`)
      await cache.close()
    })

    test(`[${engine}, ${policy}] values that only look equal are replaced: -0 after 0, NaN, a distinct object`, async (t) => {
      const cache = make()
      await cache.set('zero', 0)
      await cache.set('zero', -0)
      t.true(Object.is(await cache.get('zero'), -0), '-0 is not 0')
      await cache.set('zero', 0)
      t.true(Object.is(await cache.get('zero'), 0))
      await cache.set('nan', Number.NaN)
      t.true(Number.isNaN(await cache.get('nan')))
      const a = { n: 1 }
      const b = { n: 1 }
      await cache.set('obj', a)
      await cache.set('obj', b)
      t.is(await cache.get('obj'), b, 'the new object, not an equal-looking old one')
      await cache.set('s', 'one')
      await cache.set('s', new String('one') as unknown as string)
      t.true((await cache.get('s')) instanceof String, 'a String object is an object, not a string')
      await cache.close()
    })
  }
}
