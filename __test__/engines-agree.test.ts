/**
 * Property test: the native engine, the JS engine and a naive model agree, op for op,
 * on every returned value, every counter and every removal (key, value, reason, in
 * order: the onRemove hook), over long random sequences with clock advances (100k+
 * operations in all). Each run ends with a clear, whose removals list the whole LRU order.
 */
import test from 'ava'
import fc from 'fast-check'
import type { Engine } from '../src/memory/engine'
import { JsEngine } from '../src/memory/js-engine'
import { NativeEngine } from '../src/memory/native-engine'
import { enginesUnderTest } from './helpers/engines'
import { FakeClock } from './helpers/fake-clock'
import { LruModel } from './helpers/lru-model'
import { describeRemovals, recordRemovals } from './helpers/removals'

type Op =
  | { op: 'get' | 'peek' | 'has' | 'delete'; key: string }
  | { op: 'set'; key: string; value: number; ttlMs: number }
  | { op: 'advance'; ms: number }
  | { op: 'clear' }
  | { op: 'getMany'; keys: string[] }
  | { op: 'setMany'; entries: [string, number, number][] }

// Few keys so hits, overwrites and evictions are common; some non-ASCII to cover key encoding.
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', '', 'é', 'ключ', '🔑', '\uD800', '\uDC00']
const key = fc.constantFrom(...KEYS)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: fc.record({ op: fc.constant('get' as const), key }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constantFrom('peek' as const, 'has' as const), key }) },
  { weight: 30, arbitrary: fc.record({ op: fc.constant('set' as const), key, value: fc.integer(), ttlMs: fc.constantFrom(0, 0, 1, 5, 20, 100) }) },
  { weight: 8, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
  { weight: 10, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(0.5, 1, 3, 10, 50) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
  // Batches must equal the single ops one by one (values, counters, order).
  { weight: 4, arbitrary: fc.record({ op: fc.constant('getMany' as const), keys: fc.array(key, { maxLength: 6 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('setMany' as const),
      entries: fc.array(fc.tuple(key, fc.integer(), fc.constantFrom(0, 0, 1, 5, 20, 100)), { maxLength: 6 }),
    }),
  },
)

const RUNS = 250
const OPS_PER_RUN = 400 // 250 x 400 = 100k operations per engine set

test('native engine, JS engine and the model agree over 100k random operations, removals included', (t) => {
  const names = enginesUnderTest()
  let total = 0
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.array(opArb, { minLength: OPS_PER_RUN, maxLength: OPS_PER_RUN }), (capacity, ops) => {
      const clock = new FakeClock()
      const model = new LruModel(capacity, clock.now)
      const engines = names.map((n) => {
        const r = recordRemovals<number>()
        const options = { capacity, clock: clock.now, onRemove: r.hook }
        return { log: r.log, engine: (n === 'js' ? new JsEngine<number>(options) : new NativeEngine<number>(options)) as Engine<number> }
      })
      const check = (i: number, o: Op) => {
        const want = describeRemovals(model.removed)
        for (const { engine: e, log } of engines) {
          if (JSON.stringify(log) !== JSON.stringify(want)) {
            throw new Error(`op ${i} ${JSON.stringify(o)}: ${e.kind} removed ${JSON.stringify(log.slice(-4))}, model ${JSON.stringify(want.slice(-4))}`)
          }
          const c = e.counters()
          for (const k of Object.keys(model.counters) as (keyof typeof model.counters)[]) {
            if (c[k] !== model.counters[k]) throw new Error(`op ${i} ${JSON.stringify(o)}: ${e.kind} ${k}=${c[k]}, model ${model.counters[k]}`)
          }
        }
      }
      try {
        for (const [i, o] of [...ops, { op: 'clear' } as Op].entries()) {
          total++
          let expected: unknown
          switch (o.op) {
            case 'advance':
              clock.advance(o.ms)
              continue
            case 'clear':
              model.clear()
              for (const { engine: e } of engines) e.clear()
              break
            case 'set':
              model.set(o.key, o.value, o.ttlMs)
              for (const { engine: e } of engines) e.set(o.key, o.value, o.ttlMs)
              break
            case 'getMany': {
              const want = JSON.stringify(o.keys.map((k) => model.get(k)) ?? null)
              for (const { engine: e } of engines) {
                const got = JSON.stringify(e.getMany(o.keys))
                if (got !== want) throw new Error(`op ${i} ${JSON.stringify(o)}: ${e.kind} returned ${got}, model ${want}`)
              }
              break
            }
            case 'setMany':
              for (const [k, v, ttl] of o.entries) model.set(k, v, ttl)
              for (const { engine: e } of engines) e.setMany(o.entries, o.entries.map((x) => x[2]))
              break
            default:
              expected = model[o.op](o.key)
              for (const { engine: e } of engines) {
                const got = e[o.op](o.key)
                if (got !== expected) throw new Error(`op ${i} ${JSON.stringify(o)}: ${e.kind} returned ${String(got)}, model ${String(expected)}`)
              }
          }
          check(i, o)
        }
      } finally {
        for (const { engine: e } of engines) e.close()
      }
    }),
    { numRuns: RUNS },
  )
  t.true(total >= 100_000, `ran ${total} operations`)
})
