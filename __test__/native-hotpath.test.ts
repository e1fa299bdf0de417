/**
 * The native engine's hot path (docs/native-hotpath.md): hits are served in JS and
 * recorded in a ring that Rust applies later. These tests let the ring fill up between
 * checks (engines-agree reads counters after every op, which drains it each time) and
 * compare the native LRU order itself, not only the JS engine's, against the model.
 */
import test from 'ava'
import fc from 'fast-check'
import { CacheOptionError } from '../src/errors'
import { JsEngine } from '../src/memory/js-engine'
import { NativeEngine } from '../src/memory/native-engine'
import { loadNative } from '../src/native'
import { FakeClock } from './helpers/fake-clock'
import { LruModel } from './helpers/lru-model'

if (loadNative() === null) {
  test('native hot path (binary not built: run npm run build:native)', (t) => {
    if (process.env.CI) t.fail('CI=true but the native engine did not load')
    else t.pass()
  })
} else {
  defineTests()
}

function defineTests(): void {
  test('a hit recorded in the ring is applied before the set that evicts', (t) => {
    const clock = new FakeClock()
    const e = new NativeEngine<string>({ capacity: 2, clock: clock.now })
    e.set('a', 'A', 0)
    e.set('b', 'B', 0)
    t.is(e.get('a'), 'A') // recorded only: Rust's tail is still 'a' until drained
    e.set('c', 'C', 0) // must evict 'b', not 'a'
    t.is(e.peek('a'), 'A')
    t.is(e.peek('b'), undefined)
    t.deepEqual(e.keysMruToLru(), ['c', 'a'])
    t.like(e.counters(), { hits: 1, misses: 0, evictions: 1, size: 2 })
    e.close()
  })

  test('the hit that fills the ring is applied too', (t) => {
    // Exactly RING_SIZE recorded hits, the last one the only touch of 'a': if the hit that
    // fills the ring were dropped, 'a' would stay least recently used and be evicted.
    const e = new NativeEngine<number>({ capacity: 3, clock: () => 1 })
    e.set('a', 1, 0)
    e.set('b', 2, 0)
    e.set('c', 3, 0)
    const ringSize = 1024 // NativeEngine's RING_SIZE
    for (let i = 0; i < ringSize - 1; i++) e.get(i % 2 === 0 ? 'b' : 'c')
    e.get('a') // hit number ringSize: fills the ring
    e.set('d', 4, 0)
    t.is(e.peek('a'), 1)
    t.is(e.counters().hits, ringSize)
    e.close()
  })

  test('more hits than the ring holds are all applied, in order', (t) => {
    const e = new NativeEngine<number>({ capacity: 50, clock: () => 1 })
    for (let i = 0; i < 50; i++) e.set(`k${i}`, i, 0)
    // 5000 hits alternating over all keys (no repeats back to back): the ring fills and drains.
    for (let r = 0; r < 100; r++) for (let i = 0; i < 50; i++) t.is(e.get(`k${(i * 7) % 50}`), (i * 7) % 50)
    const order = e.keysMruToLru()
    const want = Array.from({ length: 50 }, (_, i) => `k${(i * 7) % 50}`).reverse()
    t.deepEqual(order, want)
    t.is(e.counters().hits, 5000)
    e.close()
  })

  test('an expired entry found by get is removed in Rust and forgotten in JS', (t) => {
    const clock = new FakeClock()
    const e = new NativeEngine<string>({ capacity: 4, clock: clock.now })
    e.set('a', 'A', 10)
    clock.advance(10)
    t.is(e.get('a'), undefined)
    t.is(e.size, 0)
    t.like(e.counters(), { misses: 1, expirations: 1, size: 0 })
    e.set('a', 'A2', 0)
    t.is(e.get('a'), 'A2')
    e.close()
  })

  test('a getMany longer than the ring applies every hit in order and counts every key', (t) => {
    const e = new NativeEngine<number>({ capacity: 40, clock: () => 1 })
    for (let i = 0; i < 40; i++) e.set(`k${i}`, i, 0)
    // 3000 keys: hits cycling over k0..k39 in a scrambled order (the ring fills twice), plus misses.
    const keys = Array.from({ length: 3000 }, (_, i) => (i % 10 === 9 ? `miss${i}` : `k${(i * 13) % 40}`))
    const got = e.getMany(keys)
    t.deepEqual(got, keys.map((k) => (k.startsWith('miss') ? undefined : Number(k.slice(1)))))
    const lastTouch = new Map<string, number>()
    keys.forEach((k, i) => { if (!k.startsWith('miss')) lastTouch.set(k, i) })
    const touched = [...lastTouch.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k)
    // k7, k17, k27, k37 fall only on miss positions: never touched, they stay least recent, in set order.
    const want = [...touched, ...['k37', 'k27', 'k17', 'k7']]
    t.deepEqual(e.keysMruToLru(), want)
    t.like(e.counters(), { hits: 2700, misses: 300, size: 40 })
    e.close()
  })

  test('expiry bookkeeping survives slot growth, replacement and clear', (t) => {
    const clock = new FakeClock()
    const e = new NativeEngine<number>({ capacity: 100, clock: clock.now })
    for (let i = 0; i < 100; i++) e.set(`k${i}`, i, i % 2 === 0 ? 10 : 0) // slots grow past the first 16
    for (let i = 0; i < 100; i += 4) e.set(`k${i}`, -i, 0) // a deadline replaced by none
    clock.advance(10)
    const got = e.getMany(Array.from({ length: 100 }, (_, i) => `k${i}`))
    t.deepEqual(got, Array.from({ length: 100 }, (_, i) => (i % 4 === 0 ? -i : i % 2 === 0 ? undefined : i)))
    t.like(e.counters(), { expirations: 25, size: 75 })
    e.clear()
    e.set('a', 1, 0) // after clear no slot may keep an old deadline
    clock.advance(100)
    t.is(e.get('a'), 1)
    t.is(e.size, 1)
    e.close()
  })

  test('keyless sets: Rust keeps no keys, and a key whose own expired entry its set sweeps is stored again', (t) => {
    const clock = new FakeClock()
    const e = new NativeEngine<number>({ capacity: 4, clock: clock.now })
    e.set('a', 1, 10) // slot 0
    e.set('b', 2, 0) // slot 1; the sweep passes slot 0 (live)
    clock.advance(10)
    e.set('a', 3, 0) // its sweep reaches slot 0 and frees the expired 'a' first: then an insert
    t.is(e.get('a'), 3)
    t.deepEqual(e.keysMruToLru(), ['a', 'b'])
    t.like(e.counters(), { sets: 3, expirations: 1, evictions: 0, size: 2 })
    const binding = loadNative()!
    const handle = (e as unknown as { handle: number }).handle
    t.deepEqual(binding.keys(handle), ['', ''], 'entries in Rust carry no key bytes')
    e.close()
  })

  test('a run of inserts recorded in the ring (deferred, no call) evicts and counts exactly', (t) => {
    // Past the 64 victims listed at a time and past the ring's 1024 entries; a hit in the
    // middle invalidates the listed victims (the order changed), a clear applies the ring first.
    const e = new NativeEngine<number>({ capacity: 100, clock: () => 1 })
    const js = new JsEngine<number>({ capacity: 100, clock: () => 1 })
    for (const x of [e, js]) {
      for (let i = 0; i < 1500; i++) x.set(`k${i}`, i, 0)
      x.get('k1450')
      for (let i = 1500; i < 3000; i++) x.set(`k${i}`, i, 0)
    }
    t.deepEqual(e.keysMruToLru(), js.keysMruToLru())
    t.deepEqual(e.counters(), js.counters())
    t.like(e.counters(), { sets: 3000, evictions: 2900, size: 100 })
    for (const x of [e, js]) {
      for (let i = 0; i < 150; i++) x.set(`n${i}`, i, 0)
      x.clear()
    }
    t.deepEqual(e.counters(), js.counters())
    t.is(e.get('n149'), undefined)
    e.close()
    t.throws(() => e.set('late', 1, 0), { message: /not open/ })
  })

  test('NativeEngine takes LRU only (other policies need keys in Rust: NativeCallEngine)', (t) => {
    t.throws(() => new NativeEngine<number>({ capacity: 4, clock: () => 1, policy: 's3fifo' }), { instanceOf: CacheOptionError, message: /policy 'lru' only.*s3fifo/ })
  })

  type Op =
    | { op: 'get' | 'peek' | 'has' | 'delete'; key: string }
    | { op: 'set'; key: string; ttlMs: number }
    | { op: 'getMany'; keys: string[] }
    | { op: 'setMany'; keys: string[]; ttlMs: number }
    | { op: 'advance'; ms: number }
    | { op: 'check' }
    | { op: 'clear' }
  const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'é', '🔑']
  const key = fc.constantFrom(...KEYS)
  const ttl = fc.constantFrom(0, 0, 0, 2, 10, 50)
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 40, arbitrary: fc.record({ op: fc.constant('get' as const), key }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constantFrom('peek' as const, 'has' as const, 'delete' as const), key }) },
    { weight: 15, arbitrary: fc.record({ op: fc.constant('set' as const), key, ttlMs: ttl }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('getMany' as const), keys: fc.array(key, { maxLength: 5 }) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('setMany' as const), keys: fc.array(key, { maxLength: 5 }), ttlMs: ttl }) },
    { weight: 5, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(1, 3, 20) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('check' as const) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
  )

  test('with the ring filling between checks, native order, counters and values equal the model and the JS engine', (t) => {
    let ops = 0
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(opArb, { minLength: 50, maxLength: 300 }), (capacity, list) => {
        const clock = new FakeClock()
        const model = new LruModel(capacity, clock.now)
        const js = new JsEngine<number>({ capacity, clock: clock.now })
        const native = new NativeEngine<number>({ capacity, clock: clock.now })
        let value = 0
        const check = (at: string) => {
          const { hits, misses, evictions, expirations, sets, size } = model.counters
          const want = JSON.stringify([model.keysMruToLru(), { hits, misses, evictions, expirations, sets, size }])
          for (const e of [js, native]) {
            const c = e.counters()
            const got = JSON.stringify([e.keysMruToLru(), { hits: c.hits, misses: c.misses, evictions: c.evictions, expirations: c.expirations, sets: c.sets, size: c.size }])
            if (got !== want) throw new Error(`${at}: ${e.kind} ${got}, model ${want}`)
          }
        }
        try {
          for (const [i, o] of list.entries()) {
            ops++
            const at = `op ${i} ${JSON.stringify(o)}`
            let want: unknown
            let got: unknown[]
            switch (o.op) {
              case 'advance':
                clock.advance(o.ms)
                continue
              case 'check':
                check(at)
                continue
              case 'clear':
                model.clear()
                js.clear()
                native.clear()
                continue
              case 'set':
                value++
                model.set(o.key, value, o.ttlMs)
                js.set(o.key, value, o.ttlMs)
                native.set(o.key, value, o.ttlMs)
                continue
              case 'setMany': {
                const entries = o.keys.map((k) => [k, ++value, o.ttlMs] as [string, number, number])
                for (const [k, v] of entries) model.set(k, v, o.ttlMs)
                js.setMany(entries, entries.map(() => o.ttlMs))
                native.setMany(entries, entries.map(() => o.ttlMs))
                continue
              }
              case 'getMany':
                want = JSON.stringify(o.keys.map((k) => model.get(k)))
                got = [JSON.stringify(js.getMany(o.keys)), JSON.stringify(native.getMany(o.keys))]
                break
              default:
                want = model[o.op](o.key)
                got = [js[o.op](o.key), native[o.op](o.key)]
            }
            if (got[0] !== want || got[1] !== want) throw new Error(`${at}: js ${String(got[0])}, native ${String(got[1])}, model ${String(want)}`)
            if (native.size !== model.counters.size) throw new Error(`${at}: native size ${native.size}, model ${model.counters.size}`)
          }
          check('end')
        } finally {
          js.close()
          native.close()
        }
      }),
      { numRuns: 300 },
    )
    t.true(ops > 20_000, `ran ${ops} operations`)
  })
}
