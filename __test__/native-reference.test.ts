/**
 * The native engine in reference storage (src/memory/native-engine.ts): one engine for
 * every policy, values kept by slot in JS, batches across the shared area, removal
 * reporting with and without a hook, and its capacity limit.
 */
import test from 'ava'
import fc from 'fast-check'
import { CacheOptionError } from '../src/errors'
import type { RemovalReason } from '../src/memory/engine'
import { JsEngine } from '../src/memory/js-engine'
import { NATIVE_REFERENCE_MAX_ENTRIES, NativeEngine } from '../src/memory/native-engine'
import { LAYOUT } from '../src/memory/native-layout'
import { loadNative, nativeLoadError } from '../src/native'
import { FakeClock } from './helpers/fake-clock'
import { LruModel } from './helpers/lru-model'
import { describeRemovals, recordRemovals } from './helpers/removals'

if (loadNative() === null) {
  test('native reference engine (binary not built: run npm run build:native)', (t) => {
    t.fail(`native binding unavailable: ${nativeLoadError()?.message}`)
  })
} else {
  test('every policy runs on the one native engine', (t) => {
    for (const policy of ['lru', 's3fifo', 'tinylfu', 'tinylfu-fixed'] as const) {
      const e = new NativeEngine<number>({ capacity: 3, clock: () => 0, policy, policySeed: 1 })
      for (let i = 0; i < 10; i++) e.set(`k${i}`, i, 0)
      t.is(e.size, 3, policy)
      t.is(e.counters().evictions, 7, policy)
      e.close()
    }
  })

  test('the hook sees replaced, swept, evicted, expired, deleted and cleared values, after each operation', (t) => {
    const clock = new FakeClock(0)
    const seen: [string, unknown, RemovalReason, number][] = []
    const e: NativeEngine<string> = new NativeEngine<string>({
      capacity: 2,
      clock: clock.now,
      // The hook runs after the operation: it may use the engine (here: its size).
      onRemove: (key, value, reason) => seen.push([key, value, reason, e.size]),
    })
    e.set('a', 'A1', 0)
    e.set('a', 'A2', 0) // replaced
    e.set('b', 'B', 5)
    e.set('c', 'C', 0) // full: evicts a, the least recently used
    clock.advance(10)
    e.set('d', 'D', 0) // its sweep frees b (expired); d takes b's slot
    t.is(e.get('c'), 'C')
    e.set('e', 'E', 1) // evicts d
    clock.advance(1)
    t.is(e.get('e'), undefined) // expired at its deadline
    t.true(e.delete('c'))
    e.set('f', 'F', 0)
    e.clear()
    t.deepEqual(seen, [
      ['a', 'A1', 'set', 1],
      ['a', 'A2', 'evict', 2],
      ['b', 'B', 'expire', 2],
      ['d', 'D', 'evict', 2],
      ['e', 'E', 'expire', 1],
      ['c', 'C', 'delete', 0],
      ['f', 'F', 'clear', 0],
    ])
    e.close()
  })

  test('with and without a hook, every operation sequence gives the model\'s removals and values (getMany beyond one batch included)', (t) => {
    type Op = { op: 'get' | 'delete'; k: number } | { op: 'set'; k: number; ttl: number } | { op: 'getMany'; ks: number[] } | { op: 'advance' } | { op: 'clear' }
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ op: fc.constantFrom('get' as const, 'delete' as const), k: fc.nat(12) }) },
      { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), k: fc.nat(12), ttl: fc.constantFrom(0, 0, 2, 10) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('getMany' as const), ks: fc.array(fc.nat(12), { minLength: 250, maxLength: 600 }) }) },
      { weight: 2, arbitrary: fc.constant({ op: 'advance' as const }) },
      { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
    )
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 120 }), (capacity, ops) => {
        const clock = new FakeClock()
        const model = new LruModel(capacity, clock.now)
        const r = recordRemovals<number>()
        const hooked = new NativeEngine<number>({ capacity, clock: clock.now, onRemove: r.hook })
        const plain = new NativeEngine<number>({ capacity, clock: clock.now })
        const values = () => (plain as unknown as { values: (number | undefined)[] }).values
        try {
          let n = 0
          for (const o of ops) {
            const k = (i: number) => `k${i}`
            if (o.op === 'set') {
              n++
              model.set(k(o.k), n, o.ttl)
              hooked.set(k(o.k), n, o.ttl)
              plain.set(k(o.k), n, o.ttl)
            } else if (o.op === 'getMany') {
              const want = JSON.stringify(o.ks.map((i) => model.get(k(i))))
              for (const e of [hooked, plain]) if (JSON.stringify(e.getMany(o.ks.map(k))) !== want) throw new Error(`getMany ${want}`)
            } else if (o.op === 'advance') clock.advance(3)
            else if (o.op === 'clear') {
              model.clear()
              hooked.clear()
              plain.clear()
            } else {
              const want = model[o.op](k(o.k))
              for (const e of [hooked, plain]) if (e[o.op](k(o.k)) !== want) throw new Error(`${o.op} ${o.k}: want ${String(want)}`)
            }
            if (JSON.stringify(r.log) !== JSON.stringify(describeRemovals(model.removed))) throw new Error(`removals ${JSON.stringify(r.log)}`)
            // Without a hook, no value outlives its entry: the values kept are exactly the model's.
            const kept = values().filter((v) => v !== undefined).sort()
            const live = model.keysMruToLru().map((key) => model.peekAny(key)).sort()
            if (JSON.stringify(kept) !== JSON.stringify(live)) throw new Error(`values kept ${JSON.stringify(kept)}, entries ${JSON.stringify(live)}`)
          }
        } finally {
          hooked.close()
          plain.close()
        }
      }),
      { numRuns: 200 },
    )
    t.pass()
  })

  test(`reference storage holds up to ${NATIVE_REFERENCE_MAX_ENTRIES} entries and refuses more at construction`, (t) => {
    const e = new NativeEngine<number>({ capacity: NATIVE_REFERENCE_MAX_ENTRIES, clock: () => 0 })
    e.set('k', 1, 0)
    t.is(e.get('k'), 1, 'a cache of the largest capacity works (its arrays grow with use)')
    e.close()
    const err = t.throws(() => new NativeEngine<number>({ capacity: NATIVE_REFERENCE_MAX_ENTRIES + 1, clock: () => 0 }), { instanceOf: CacheOptionError })
    t.regex(err!.message, new RegExp(`${NATIVE_REFERENCE_MAX_ENTRIES + 1}.*${NATIVE_REFERENCE_MAX_ENTRIES}.*storage: 'serialized'`))
    t.true(NATIVE_REFERENCE_MAX_ENTRIES < LAYOUT.MAX_CAPACITY)
  })

  test('native and JS engines agree under an injected clock at the deadline itself', (t) => {
    const clock = new FakeClock()
    const js = new JsEngine<string>({ capacity: 4, clock: clock.now })
    const nat = new NativeEngine<string>({ capacity: 4, clock: clock.now })
    for (const e of [js, nat]) e.set('k', 'v', 10)
    clock.advance(9.999)
    t.deepEqual([js.get('k'), nat.get('k')], ['v', 'v'])
    clock.advance(0.001)
    t.deepEqual([js.get('k'), nat.get('k')], [undefined, undefined])
    nat.close()
  })
}
