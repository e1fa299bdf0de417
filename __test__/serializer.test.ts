import test from 'ava'
import { CacheOptionError, CacheSerializationError } from '../src/errors'
import { jsonSerializer, msgpackSerializer, notStoredError } from '../src/serializer'

const roundTrip = (v: unknown) => jsonSerializer.deserialize(Buffer.from(jsonSerializer.serialize(v)))

test('json round-trips plain data', (t) => {
  const value = { a: 1, b: 'x', c: [1, null, { d: true }], e: null, f: -0.5, g: '🔑' }
  t.deepEqual(roundTrip(value), value)
  t.is(roundTrip(null), null)
  t.is(roundTrip(''), '')
})

test('json rejects what it would silently change, with a coded error', (t) => {
  const cycle: Record<string, unknown> = {}
  cycle.self = cycle
  const cases: [string, unknown, RegExp][] = [
    ['bigint', { n: 10n }, /BigInt/],
    ['function', { f: () => 1 }, /function/],
    ['symbol', { s: Symbol('s') }, /symbol/],
    ['cycle', cycle, /circular/i],
    ['undefined in array', [1, undefined, 2], /undefined inside an array/],
    ['NaN', { x: NaN }, /NaN/],
    ['Infinity', [Infinity], /Infinity/],
    ['Map', { m: new Map([[1, 2]]) }, /Map/],
    ['Set', new Set([1]), /Set/],
    ['top-level bigint', 1n, /BigInt/],
    ['Buffer', Buffer.from([1, 2]), /^JSON cannot store binary data \(Buffer, the value itself\); it would come back as \{ type: 'Buffer', data: \[\.\.\.\] \}: use the msgpack serializer/],
    ['Buffer in an object', { avatar: Buffer.from([1]) }, /^JSON cannot store binary data \(Buffer, at property "avatar"\)/],
    ['typed array', [new Float32Array(2)], /^JSON cannot store binary data \(Float32Array, at index 0\); it would come back as a plain object/],
    ['ArrayBuffer', new ArrayBuffer(4), /ArrayBuffer, the value itself/],
  ]
  for (const [what, value, message] of cases) {
    const err = t.throws(() => jsonSerializer.serialize(value), { instanceOf: CacheSerializationError }, what)
    t.is(err?.code, 'ERR_CACHE_SERIALIZE', what)
    t.regex(err!.message, message, what)
  }
})

test('json says where in the value the lossy part is: the value itself, a property or an index', (t) => {
  const cases: [unknown, string][] = [
    [() => 1, 'JSON cannot store a function (the value itself)'],
    [{ a: { b: Symbol('s') } }, 'JSON cannot store a symbol (at property "b")'],
    [{ '': () => 1 }, 'JSON cannot store a function (at property "")'],
    [[1, 2, NaN], 'JSON cannot store NaN (at index 2); it would come back as null'],
    [2n, 'JSON cannot store a BigInt (2n (bigint), the value itself); use the msgpack serializer or convert it to a string'],
    [{ s: new Set() }, 'JSON cannot store a Set (at property "s"); it would come back as {}'],
  ]
  for (const [value, message] of cases) t.is(t.throws(() => jsonSerializer.serialize(value))?.message, message)
  // The root is told apart per call: a failed call leaves nothing behind for the next one.
  t.is(jsonSerializer.serialize({ ok: 1 }), '{"ok":1}')
})

test('a refused value\'s error names the key, cut after 100 characters; a foreign error is wrapped, other CacheErrors pass', (t) => {
  const refused = t.throws(() => jsonSerializer.serialize({ n: 1n }))!
  const named = notStoredError(refused, 'user:1')
  t.true(named instanceof CacheSerializationError)
  t.is(named.message, 'value of key "user:1" not stored: JSON cannot store a BigInt (1n (bigint), at property "n"); use the msgpack serializer or convert it to a string')
  t.is(named.cause, refused)
  t.is(notStoredError(refused, 'k'.repeat(4096)).message.indexOf(`"${'k'.repeat(100)}…" not stored`), 'value of key '.length)
  const foreign = notStoredError(new RangeError('too deep'), 'k')
  t.true(foreign instanceof CacheSerializationError)
  t.is(foreign.message, 'value of key "k" not stored: the serializer threw: too deep')
  const other = new CacheOptionError('not a serialization problem')
  t.is(notStoredError(other, 'k'), other)
})

test('json: an object that only looks like a serialized Buffer is plain data', (t) => {
  t.deepEqual(roundTrip({ type: 'Buffer', data: [1] }), { type: 'Buffer', data: [1] })
})

test('json keeps undefined object properties out (as JSON does) and stores Dates as ISO strings', (t) => {
  t.deepEqual(roundTrip({ a: undefined, b: 1 }), { b: 1 })
  t.is(roundTrip(new Date(0)), '1970-01-01T00:00:00.000Z')
})

test('json decoding cannot pollute prototypes, whatever the spelling', (t) => {
  const payloads = [
    '{"__proto__":{"polluted":1}}',
    '{"a":{"__proto__":{"polluted":1}}}',
    '{"\\u005f_proto__":{"polluted":1}}',
    '{"constructor":{"prototype":{"polluted":1}}}',
    '[{"__proto__":{"polluted":1}}]',
  ]
  for (const payload of payloads) {
    const value = jsonSerializer.deserialize(Buffer.from(payload)) as Record<string, unknown>
    // A naive deep merge is how a stray __proto__ key turns into pollution.
    const merge = (target: Record<string, any>, source: Record<string, any>) => {
      for (const key of Object.keys(source)) {
        if (source[key] && typeof source[key] === 'object') merge((target[key] ??= {}), source[key])
        else target[key] = source[key]
      }
    }
    merge({}, value)
    t.is(({} as Record<string, unknown>).polluted, undefined, payload)
    t.false(JSON.stringify(value).includes('polluted'), payload)
  }
  // A harmless "constructor" key survives.
  t.deepEqual(jsonSerializer.deserialize(Buffer.from('{"constructor":"Bob"}')), { constructor: 'Bob' })
})

test('json rejects bytes that are not JSON with a coded error', (t) => {
  t.throws(() => jsonSerializer.deserialize(Buffer.from('{nope')), { code: 'ERR_CACHE_SERIALIZE' } as never)
})

test('msgpack carries BigInt, Date, Set and binary; rejects functions', (t) => {
  const mp = msgpackSerializer()
  const value = { n: 10n, d: new Date(0), s: new Set([1]), b: Buffer.from([1, 2, 3]), a: [undefined, 1] }
  const back = mp.deserialize(Buffer.from(mp.serialize(value))) as typeof value
  t.is(back.n, 10n)
  t.is(back.d.getTime(), 0)
  t.true(back.s instanceof Set && back.s.has(1))
  t.deepEqual([...back.b], [1, 2, 3])
  t.deepEqual(back.a, [undefined, 1])
  t.throws(() => mp.serialize({ f: () => 1 }), { code: 'ERR_CACHE_SERIALIZE' } as never)
  t.throws(() => mp.serialize([Symbol('s')]), { code: 'ERR_CACHE_SERIALIZE' } as never)
  const cycle: Record<string, unknown> = {}
  cycle.self = cycle
  t.throws(() => mp.serialize(cycle), { code: 'ERR_CACHE_SERIALIZE' } as never)
})

test('msgpack decoding does not pollute prototypes', (t) => {
  const mp = msgpackSerializer()
  const bytes = mp.serialize(JSON.parse('{"__proto__":{"polluted":1}}'))
  const value = mp.deserialize(Buffer.from(bytes)) as Record<string, unknown>
  t.is(Object.getPrototypeOf(value), Object.prototype)
  t.is(({} as Record<string, unknown>).polluted, undefined)
})
