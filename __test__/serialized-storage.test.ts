import test from 'ava'
import fc from 'fast-check'
import { CacheOptionError, CacheSerializationError } from '../src/errors'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { JsEngine } from '../src/memory/js-engine'
import { SerializedEngine, serializedBinding } from '../src/memory/serialized-engine'
import { jsonSerializer, msgpackSerializer } from '../src/serializer'
import { LAYOUT } from '../src/memory/native-layout'
import { contractSuite } from './contract/suite'
import { recordRemovals } from './helpers/removals'
import { FakeClock } from './helpers/fake-clock'

const serialized = (opts: Record<string, unknown> = {}) =>
  new InMemoryLRUCache<any>({ storage: 'serialized', engine: 'native', defaultTtl: 0, ...opts })

contractSuite(test, {
  name: 'memory/native serialized',
  create: async ({ maxsize, defaultTtl, clock }) => new InMemoryLRUCache({ maxsize, defaultTtl, clock, engine: 'native', storage: 'serialized' }),
  advance: async (ms, clock) => clock.advance(ms),
  capabilities: { lruEviction: true, counters: true, maxsizeInStats: true },
})

for (const policy of ['s3fifo', 'tinylfu'] as const) {
  contractSuite(test, {
    name: `memory/native serialized/${policy}`,
    create: async ({ maxsize, defaultTtl, clock }) => new InMemoryLRUCache({ maxsize, defaultTtl, clock, engine: 'native', storage: 'serialized', policy }),
    advance: async (ms, clock) => clock.advance(ms),
    // Eviction order is the policy's, not LRU's.
    capabilities: { lruEviction: false, counters: true, maxsizeInStats: true },
  })
}

test('values come back equal, strings and Buffers as the same type without JSON', async (t) => {
  const c = serialized()
  const values: [string, unknown][] = [
    ['object', { id: 1, name: 'é ж 😀', list: [1, null, 'x'], nested: { ok: true } }],
    ['latin1', 'café'],
    ['utf16', 'ж😀'],
    ['lone surrogate', 'a\uD800b'],
    ['empty', ''],
    ['json-looking string', '{"a":1}'],
    ['number', 42.5],
    ['null', null],
    ['false', false],
    ['array', [1, 'two', { three: 3 }]],
  ]
  for (const [k, v] of values) await c.set(k, v)
  for (const [k, v] of values) t.deepEqual(await c.get(k), v, k)
  t.is(await c.get('json-looking string'), '{"a":1}', 'a string is never parsed')
  const buf = Buffer.from([0, 1, 2, 255])
  await c.set('buf', buf)
  const back = await c.get('buf')
  t.true(Buffer.isBuffer(back))
  t.deepEqual(back, buf)
  t.not(back, buf, 'a copy: nothing of the value stays on the JS heap')
  t.is(c.storage, 'serialized')
  await c.close()
})

test('serialization errors surface at set and leave the previous value', async (t) => {
  const c = serialized()
  await c.set('k', { ok: 1 })
  const err = await t.throwsAsync(c.set('k', { n: 10n }), { instanceOf: CacheSerializationError })
  t.regex(err!.message, /BigInt/)
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  await t.throwsAsync(c.set('k', cyclic), { instanceOf: CacheSerializationError })
  t.deepEqual(await c.get('k'), { ok: 1 })
  const bad = serialized({
    serializer: {
      serialize: () => {
        throw new Error('nope')
      },
      deserialize: () => null,
    },
  })
  await t.throwsAsync(bad.set('k', { a: 1 }), { instanceOf: CacheSerializationError, message: 'value of key "k" not stored: the serializer threw: nope' })
  const wrongType = serialized({ serializer: { serialize: () => 42, deserialize: () => null } })
  await t.throwsAsync(wrongType.set('k', { a: 1 }), {
    instanceOf: CacheSerializationError,
    message: 'value of key "k" not stored: serializer.serialize must return a string or a Buffer, got 42 (number)',
  })
  await Promise.all([c.close(), bad.close(), wrongType.close()])
})

test('setMany with one value the serializer refuses stores none of the entries, and names that key', async (t) => {
  const c = serialized()
  await c.set('second', 'before')
  await t.throwsAsync(c.setMany([['first', 1], ['second', { when: new Map() }], ['third', 'plain string']]), {
    instanceOf: CacheSerializationError,
    message: 'value of key "second" not stored: JSON cannot store a Map (at property "when"); it would come back as {}',
  })
  t.deepEqual(await c.getMany(['first', 'second', 'third']), [undefined, 'before', undefined])
  await c.close()
})

test('pluggable serializer: msgpack carries what JSON cannot; string output reaches deserialize as a Buffer', async (t) => {
  const c = serialized({ serializer: msgpackSerializer() })
  await c.set('k', { big: 10n, when: new Date(0), set: new Set([1]) })
  const v = await c.get('k')
  t.is(v.big, 10n)
  t.true(v.when instanceof Date)
  const seen: unknown[] = []
  const upper = serialized({
    serializer: {
      serialize: (v: unknown) => JSON.stringify(v),
      deserialize: (b: Buffer) => {
        seen.push(b)
        return JSON.parse(b.toString('utf8'))
      },
    },
  })
  await upper.set('k', { x: 'ж' })
  t.deepEqual(await upper.get('k'), { x: 'ж' })
  t.true(Buffer.isBuffer(seen[0]))
  await Promise.all([c.close(), upper.close()])
})

/** What one entry costs (stats().bytes): its record in its size class plus the per-entry bytes. */
function entryCost(key: string, value: string): number {
  const record = 1 + (1 + key.length) + 1 + (1 + value.length) // header, key, value length, value (1-byte tags)
  return Math.ceil(record / 8) * 8 + LAYOUT.ENTRY_BYTES
}

test('maxBytes evicts least recently used entries by what they cost, counted as evictions; stats report bytes', async (t) => {
  const cost = entryCost('a', 'x'.repeat(9))
  const c = serialized({ maxsize: 100, maxBytes: 3 * cost + 5 })
  for (const k of ['a', 'b', 'c']) await c.set(k, 'x'.repeat(9))
  t.is(c.stats().bytes, 3 * cost)
  await c.get('a') // b becomes the least recently used
  await c.set('d', 'y'.repeat(9)) // four entries do not fit: b goes
  t.is(await c.get('b'), undefined)
  t.is(await c.get('a'), 'x'.repeat(9))
  const s = c.stats()
  t.is(s.evictions, 1)
  t.is(s.bytes, 3 * cost)
  t.is(s.size, 3)
  t.true(s.arenaBytes! >= s.bytes! - 3 * LAYOUT.ENTRY_BYTES, 'the arena holds at least the records')
  t.true(s.fragmentation! >= 0 && s.fragmentation! < 1)
  // A value larger than the whole budget is not stored, and does not flush the others.
  await c.set('huge', 'z'.repeat(200))
  t.is(await c.get('huge'), undefined)
  t.is(c.stats().size, 3)
  t.is(c.stats().evictions, 2)
  await c.clear()
  t.is(c.stats().bytes, 0)
  await c.close()
})

test('the onRemove hook gets every removed value, deserialized, in order (budget evictions and refusals included)', (t) => {
  const binding = serializedBinding('native')
  const clock = new FakeClock()
  const seen: string[] = []
  const cost = entryCost('k1', '{"n":1}')
  const e = new SerializedEngine<unknown>(binding, {
    capacity: 3,
    clock: clock.now,
    maxBytes: 2 * cost,
    serializer: jsonSerializer,
    onRemove: (key, value, reason) => seen.push(`${reason}:${key}=${JSON.stringify(value)}`),
  })
  e.set('k1', { n: 1 }, 0)
  e.set('k2', 'two', 0) // the same size class: the budget holds exactly these two
  e.set('k1', { n: 3 }, 0) // replaced
  e.set('k3', { n: 4 }, 0) // over the byte budget: k2, the least recently used, goes
  e.set('k4', 'x'.repeat(500), 0) // larger than the whole budget: not stored
  t.true(e.delete('k1'))
  e.set('k6', { n: 6 }, 0)
  e.clear()
  t.deepEqual(seen, ['set:k1={"n":1}', 'evict:k2="two"', `evict:k4="${'x'.repeat(500)}"`, 'delete:k1={"n":3}', 'clear:k6={"n":6}', 'clear:k3={"n":4}'])
  e.close()
})

test('option errors name the option and the value', (t) => {
  const err = (opts: Record<string, unknown>) => t.throws(() => new InMemoryLRUCache(opts as never), { instanceOf: CacheOptionError })!.message
  t.regex(err({ storage: 'serialized', engine: 'js' }), /serialized.*native engine.*engine: 'js'/)
  t.regex(err({ storage: 'serialized', maxBytes: -1 }), /maxBytes.*-1/)
  t.regex(err({ storage: 'serialized', maxBytes: 1.5 }), /maxBytes.*1\.5/)
  t.regex(err({ maxBytes: 10 }), /maxBytes needs storage: 'serialized'/)
  t.regex(err({ serializer: jsonSerializer }), /serializer needs storage: 'serialized'/)
  t.regex(err({ storage: 'serialized', serializer: { serialize: 1 } }), /serializer must be an object/)
  t.regex(err({ storage: 'disk' }), /storage.*"disk"/)
})

test('reference storage reports no bytes and keeps identity', async (t) => {
  const c = new InMemoryLRUCache<object>({ engine: 'native' })
  const v = {}
  await c.set('k', v)
  t.is(await c.get('k'), v)
  t.is(c.stats().bytes, undefined)
  t.is(c.storage, 'reference')
  await c.close()
})

// ---- op for op: one shard is an exact LRU, so it must agree with the JS engine ----

type Op = { op: 'get' | 'peek' | 'has' | 'delete'; key: number } | { op: 'set'; key: number; value: number; ttl: number } | { op: 'clear' } | { op: 'advance'; ms: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constantFrom('get' as const, 'peek' as const, 'has' as const, 'delete' as const), key: fc.integer({ min: 0, max: 11 }) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 11 }), value: fc.integer(), ttl: fc.constantFrom(0, 1, 5, 20) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 25 }) }) },
)

const ENGINE_POLICIES = ['lru', 's3fifo', 'tinylfu', 'tinylfu-fixed'] as const

for (const policy of ENGINE_POLICIES) test(`serialized native engine agrees op for op with the JS reference engine under ${policy} (fast-check)`, (t) => {
  const binding = serializedBinding('native')
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 0xffffffff }), fc.array(opArb, { maxLength: 400 }), (capacity, policySeed, ops) => {
      const clock = new FakeClock()
      const ra = recordRemovals<unknown>()
      const rb = recordRemovals<unknown>()
      const a = new SerializedEngine<unknown>(binding, { capacity, clock: clock.now, maxBytes: 0, serializer: jsonSerializer, policy, policySeed, onRemove: ra.hook })
      const b = new JsEngine<unknown>({ capacity, clock: clock.now, policy, policySeed, onRemove: rb.hook })
      try {
        for (const o of [...ops, { op: 'clear' } as Op]) {
          const k = `k${o.op === 'clear' || o.op === 'advance' ? '' : o.key}`
          switch (o.op) {
            case 'get':
              t.deepEqual(a.get(k), b.get(k))
              break
            case 'peek':
              t.deepEqual(a.peek(k), b.peek(k))
              break
            case 'has':
              t.is(a.has(k), b.has(k))
              break
            case 'delete':
              t.is(a.delete(k), b.delete(k))
              break
            case 'set': {
              const v = o.value % 2 === 0 ? { v: o.value } : `s${o.value}`
              a.set(k, v, o.ttl)
              b.set(k, v, o.ttl)
              break
            }
            case 'clear':
              a.clear()
              b.clear()
              break
            case 'advance':
              clock.advance(o.ms)
          }
          const { bytes, arenaBytes, fragmentation, ...ca } = a.counters()
          t.deepEqual(ca, b.counters())
          t.true(bytes >= ca.size * LAYOUT.ENTRY_BYTES && arenaBytes >= 0 && fragmentation >= 0)
          t.deepEqual(ra.log, rb.log, 'the same removals, values included, in the same order')
        }
      } finally {
        a.close()
      }
    }),
    { numRuns: 150 },
  )
})

test('bad arguments to the serialized binding throw coded errors, never crash', (t) => {
  const b = serializedBinding('native') as unknown as Record<string, (...args: unknown[]) => unknown>
  const h = b.sCreate(4, 0, 0, 0, 0) as number
  const junk = [undefined, null, NaN, -1, 2 ** 40, 'x', {}, [], Symbol('s'), () => 1, new Float64Array(1), Buffer.alloc(1)]
  fc.assert(
    fc.property(fc.constantFrom('sCreate', 'sOpen', 'sGet', 'sPeek', 'sHas', 'sSet', 'sRemove', 'sPolicy', 'counters', 'size', 'takeRemovals'), fc.array(fc.constantFrom(h, ...junk), { maxLength: 8 }), (fn, args) => {
      try {
        const out = b[fn](...args)
        if ((fn === 'sCreate' || fn === 'sOpen') && typeof out === 'number') b.close(out)
      } catch (e) {
        t.truthy((e as { code?: string }).code, String(e))
      }
    }),
    { numRuns: 2000 },
  )
  b.close(h)
  t.throws(() => b.sGet(h, 'k'), { code: 'ERR_ASTRA_NATIVE_HANDLE' } as never)
})

test('maxBytes under every policy: bytes stay within the budget, evictions are counted, lookups and sets add up', async (t) => {
  for (const policy of ['lru', 's3fifo', 'tinylfu'] as const) {
    const perEntry = entryCost('k10', 'k10:xxxxxx') + (policy === 'lru' ? 0 : LAYOUT.POLICY_ENTRY_BYTES)
    const budget = 18 * perEntry + 7
    const c = serialized({ maxsize: 1000, maxBytes: budget, policy })
    t.is(c.policy, policy)
    let gets = 0
    let hits = 0
    for (let i = 0; i < 3000; i++) {
      const k = `k${String((i * 7919) % 97).padStart(2, '0')}` // one length: every record in one size class
      gets++
      const v = await c.get(k)
      if (v !== undefined) {
        hits++
        t.is(v, `${k}:${'x'.repeat(9 - k.length)}`, 'a value is the one written for its key')
      } else await c.set(k, `${k}:${'x'.repeat(9 - k.length)}`) // records of one size class
      const s = c.stats()
      t.true(s.bytes! <= budget, `${policy}: ${s.bytes} bytes`)
    }
    const s = c.stats()
    t.is(s.hits, hits, policy)
    t.is(s.hits + s.misses, gets, policy)
    t.true(s.evictions > 0, `${policy}: the byte budget evicted`)
    t.true(s.size <= 18, `${policy}: ${s.size} entries, 18 fit`)
    t.is(s.bytes, s.size * perEntry, policy)
    await c.close()
  }
})

test('the policy reaches the serialized binding', async (t) => {
  const binding = serializedBinding('native')
  for (const [policy, code] of [['lru', 0], ['s3fifo', 1], ['tinylfu', 2]] as const) {
    const c = serialized({ policy })
    t.is(binding.sPolicy((c as unknown as { impl: { handle: number } }).impl.handle), code, policy)
    await c.close()
  }
  t.throws(() => binding.sCreate(4, 0, 9, 0, 0), { message: /policy must be 0, 1, 2 or 3, got 9/ })
})
