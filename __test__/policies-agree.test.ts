/**
 * Property test: for each eviction policy, the native engine and the JS engine (same hash
 * seed) agree op for op on every returned value, every counter and every removal (the
 * onRemove hook: the same victims in the same order), over random sequences with TTLs,
 * deletes, clears and clock advances; each run ends with a clear, whose removals list the
 * resident keys in the policy's order.
 * Without the native engine (not under CI), the JS engine is checked against its own
 * invariants only.
 */
import test from 'ava'
import fc from 'fast-check'
import type { Engine, EngineOptions } from '../src/memory/engine'
import { createEngine } from '../src/memory/engine-choice'
import type { EnginePolicy } from '../src/memory/policies/policy'
import type { TinyLfuPolicy } from '../src/memory/policies/tinylfu'
import { enginesUnderTest } from './helpers/engines'
import { FakeClock } from './helpers/fake-clock'
import { recordRemovals } from './helpers/removals'

type Op =
  | { op: 'get' | 'peek' | 'has' | 'delete'; key: string }
  | { op: 'set'; key: string; value: number; ttlMs: number }
  | { op: 'advance'; ms: number }
  | { op: 'clear' }

// More keys than capacity so evictions, ghost hits and admissions all happen; some
// non-Latin-1 keys so both key encodings go through the shared hash.
const KEYS = [...'abcdefghijklmnopqrstuvwx'.split(''), '', 'é', 'ключ', '🔑', '\uD800', 'k10', 'k11', 'k12']
const key = fc.constantFrom(...KEYS)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 40, arbitrary: fc.record({ op: fc.constant('get' as const), key }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constantFrom('peek' as const, 'has' as const), key }) },
  { weight: 30, arbitrary: fc.record({ op: fc.constant('set' as const), key, value: fc.integer(), ttlMs: fc.constantFrom(0, 0, 0, 1, 5, 20, 100) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(0.5, 1, 3, 10, 50) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
)

const POLICIES: EnginePolicy[] = ['s3fifo', 'tinylfu', 'tinylfu-fixed']
const RUNS = 150
const OPS_PER_RUN = 400

/** Engines of each name, each with a hook recording its removals. */
function enginesWithLogs(names: readonly ('js' | 'native')[], options: Omit<EngineOptions<number>, 'onRemove'>): { engine: Engine<number>; log: string[] }[] {
  return names.map((n) => {
    const r = recordRemovals<number>()
    return { engine: createEngine<number>(n, { ...options, onRemove: r.hook }), log: r.log }
  })
}

function sameLogs(logs: { log: string[] }[]): boolean {
  return logs.every((l) => l.log.length === logs[0].log.length && l.log.every((x, i) => x === logs[0].log[i]))
}

for (const policy of POLICIES) {
  test(`${policy}: native and JS engines agree op for op (${RUNS} x ${OPS_PER_RUN} ops)`, (t) => {
    const names = enginesUnderTest()
    if (names.length === 1) t.log('native engine not available: checking the JS engine alone')
    let total = 0
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(opArb, { minLength: OPS_PER_RUN, maxLength: OPS_PER_RUN }),
        (capacity, seed, ops) => {
          const clock = new FakeClock()
          const logged = enginesWithLogs(names, { capacity, clock: clock.now, policy, policySeed: seed })
          const engines = logged.map((l) => l.engine)
          try {
            for (const [i, o] of [...ops, { op: 'clear' } as Op].entries()) {
              total++
              const where = () => `op ${i} ${JSON.stringify(o)} (capacity ${capacity}, seed ${seed})`
              switch (o.op) {
                case 'advance':
                  clock.advance(o.ms)
                  break
                case 'clear':
                  for (const e of engines) e.clear()
                  break
                case 'set':
                  for (const e of engines) e.set(o.key, o.value, o.ttlMs)
                  break
                default: {
                  const results = engines.map((e) => e[o.op](o.key))
                  if (results.some((r) => r !== results[0])) throw new Error(`${where()}: results differ ${JSON.stringify(results)}`)
                }
              }
              const counters = engines.map((e) => JSON.stringify(e.counters()))
              if (counters.some((c) => c !== counters[0])) throw new Error(`${where()}: counters differ ${counters.join(' vs ')}`)
              if (!sameLogs(logged)) throw new Error(`${where()}: removals differ ${logged.map((l) => JSON.stringify(l.log.slice(-3))).join(' vs ')}`)
              const c = engines[0].counters()
              if (c.size > capacity) throw new Error(`${where()}: size ${c.size} > capacity`)
            }
          } finally {
            for (const e of engines) e.close()
          }
        },
      ),
      { numRuns: RUNS },
    )
    t.true(total >= RUNS * OPS_PER_RUN)
  })
}

test('tinylfu: the engines agree while the hill climber moves the window (long skewed run)', (t) => {
  const names = enginesUnderTest()
  const capacity = 60
  const clock = new FakeClock()
  const logged = enginesWithLogs(names, { capacity, clock: clock.now, policy: 'tinylfu', policySeed: 77 })
  const engines = logged.map((l) => l.engine)
  const js = engines.find((e) => e.kind === 'js') as unknown as { policy: { windowMax: number } }
  const windows = new Set<number>()
  let x = 12345
  const rand = () => {
    x = (Math.imul(x, 1103515245) + 12345) | 0
    return (x >>> 8) / 0x1000000
  }
  try {
    for (let i = 0; i < 60_000; i++) {
      // Phases alternate between a recency-friendly and a frequency-friendly pattern.
      const phase = Math.floor(i / 10_000) % 2
      const k = phase === 0 ? `r${Math.floor(i / 3) % 90}` : `f${Math.floor(Math.pow(rand(), 3) * 400)}`
      const got = engines.map((e) => e.get(k))
      if (got.some((g) => g !== got[0])) throw new Error(`get ${k} at ${i}: ${JSON.stringify(got)}`)
      if (got[0] === undefined) {
        const ttl = rand() < 0.05 ? 7 : 0
        for (const e of engines) e.set(k, i, ttl)
      }
      if (i % 97 === 0) for (const e of engines) e.delete(`f${i % 50}`)
      clock.advance(1)
      windows.add(js.policy.windowMax)
      if (i % 1000 === 0 && !sameLogs(logged)) throw new Error(`removals differ at ${i}`)
    }
    const counters = engines.map((e) => JSON.stringify(e.counters()))
    t.true(counters.every((c) => c === counters[0]), counters.join(' vs '))
    for (const e of engines) e.clear()
    t.true(sameLogs(logged), 'the same resident keys in the same order')
    t.true(windows.size > 1, `the window took sizes ${[...windows].join(", ")}`)
  } finally {
    for (const e of engines) e.close()
  }
})

test('tinylfu: the engines agree while the LRU guard grows the window, with deletes and expiries', (t) => {
  const names = enginesUnderTest()
  const capacity = 200
  const clock = new FakeClock()
  const logged = enginesWithLogs(names, { capacity, clock: clock.now, policy: 'tinylfu', policySeed: 5 })
  const engines = logged.map((l) => l.engine)
  const js = engines.find((e) => e.kind === 'js') as unknown as { policy: TinyLfuPolicy }
  let guardSteps = 0
  let shrinks = 0
  js.policy.climber!.onSample = (s) => {
    if (s.lruAhead) guardSteps++
    if (s.windowAfter < s.windowBefore) shrinks++
  }
  let x = 99
  const rand = () => {
    x = (Math.imul(x, 1103515245) + 12345) | 0
    return (x >>> 8) / 0x1000000
  }
  let newest = 0
  try {
    for (let i = 0; i < 120_000; i++) {
      // Recency-heavy phases (re-use of the last 260 keys, most recent first: LRU's case)
      // alternate with a skewed popularity over a fixed set (frequency's case).
      const recency = Math.floor(i / 20_000) % 2 === 0
      let k: string
      if (recency) {
        const u = rand()
        const back = Math.floor(260 * u * u)
        if (back === 0 || rand() < 0.06) newest++
        k = `r${Math.max(0, newest - back)}`
      } else k = `f${Math.floor(rand() * rand() * rand() * 600)}`
      const got = engines.map((e) => e.get(k))
      if (got.some((g) => g !== got[0])) throw new Error(`get ${k} at ${i}: ${JSON.stringify(got)}`)
      if (got[0] === undefined) {
        const ttl = rand() < 0.03 ? 5 : 0
        for (const e of engines) e.set(k, i, ttl)
      }
      if (i % 61 === 0) for (const e of engines) e.delete(`r${newest - 3}`)
      clock.advance(1)
      if (i % 5000 === 0 && !sameLogs(logged)) throw new Error(`removals differ at ${i}`)
    }
    const counters = engines.map((e) => JSON.stringify(e.counters()))
    t.true(counters.every((c) => c === counters[0]), counters.join(' vs '))
    for (const e of engines) e.clear()
    t.true(sameLogs(logged), 'the same resident keys in the same order')
    t.true(guardSteps > 0, 'the guard stepped in')
    t.true(shrinks > 0, 'density shrank the window again')
    t.log(`guard steps ${guardSteps}, shrinking samples ${shrinks}`)
  } finally {
    for (const e of engines) e.close()
  }
})
