import test from 'ava'
import fc from 'fast-check'
import { boundKey, encodeArgs } from '../src/decorators/key-encoding'
import { CacheKeyEncodingError } from '../src/errors'
import { MAX_KEY_LENGTH } from '../src/validate'

test('encoding is readable and JSON-like', (t) => {
  t.is(encodeArgs([]), '[]')
  t.is(encodeArgs(['42', 7, true, null, undefined, 10n]), '["42",7,true,null,undefined,10n]')
  t.is(encodeArgs([{ b: [1, 'x'], a: { d: 1, c: 2 } }]), '[{"a":{"c":2,"d":1},"b":[1,"x"]}]')
  t.is(encodeArgs([new Date(0)]), '[Date(1970-01-01T00:00:00.000Z)]')
  t.is(encodeArgs([new Date(Number.NaN)]), '[Date(Invalid)]')
  t.is(encodeArgs([new Map<unknown, unknown>([['b', 1], ['a', 2]])]), '[Map{"a"=>2,"b"=>1}]')
  t.is(encodeArgs([new Set([3, 1, 2])]), '[Set[1,2,3]]')
  t.is(encodeArgs([Buffer.from('hi')]), '[Buffer({"data":[104,105],"type":"Buffer"})]')
  t.is(encodeArgs([new URL('https://example.com/a')]), '[URL("https://example.com/a")]')
  t.is(encodeArgs([Object.assign(Object.create(null), { z: 1, a: 2 })]), '[{"a":2,"z":1}]')
})

test('object key order, Map and Set insertion order do not matter', (t) => {
  t.is(encodeArgs([{ a: 1, b: 2 }]), encodeArgs([{ b: 2, a: 1 }]))
  t.is(encodeArgs([new Map([[1, 'a'], [2, 'b']])]), encodeArgs([new Map([[2, 'b'], [1, 'a']])]))
  t.is(encodeArgs([new Set(['x', 'y'])]), encodeArgs([new Set(['y', 'x'])]))
})

test('argument lists that look alike encode differently', (t) => {
  const lists: unknown[][] = [
    ['a,b'], ['a', 'b'], [1], ['1'], [null], [undefined], ['null'], ['undefined'], [], [undefined, undefined],
    [{}], [[]], ['{}'], [{ a: undefined }], [NaN], ['NaN'], [Infinity], [-Infinity], [10n], ['10n'],
    [new Date(0)], ['1970-01-01T00:00:00.000Z'], [new Map()], [new Set()], [{ '"a"': 1 }], [{ a: 1 }], ['a"b'], ['a\\"b'],
  ]
  const encoded = lists.map(encodeArgs)
  t.is(new Set(encoded).size, lists.length, encoded.join('  '))
})

// Equality model: two values are "the same argument" when a JSON-compatible deep comparison says so.
const jsonValue = fc.jsonValue({ maxDepth: 3 })

test('property: equal argument lists give equal keys, distinct JSON argument lists give distinct keys', (t) => {
  fc.assert(
    fc.property(fc.array(jsonValue, { maxLength: 4 }), fc.array(jsonValue, { maxLength: 4 }), (a, b) => {
      const same = canonical(a) === canonical(b)
      return (encodeArgs(a) === encodeArgs(b)) === same
    }),
    { numRuns: 2000 },
  )
  t.pass()
})

test('unsupported arguments are a CacheKeyEncodingError naming the argument', (t) => {
  const cyclic: unknown[] = []
  cyclic.push(cyclic)
  const cases: [unknown[], RegExp][] = [
    [[1, () => 1], /argument 2 for the cache key: it is a function/],
    [[Symbol('s')], /argument 1 for the cache key: it is a symbol \(Symbol\(s\)\)/],
    [[cyclic], /argument 1\[0\] for the cache key: it contains a cycle/],
    [[{ deep: { fn: Math.max } }], /argument 1\.deep\.fn for the cache key: it is a function/],
    [[new (class Widget {})()], /it is an instance of Widget with no toJSON\(\)/],
    [[/re/], /it is an instance of RegExp with no toJSON\(\)/],
    [[{ [Symbol('k')]: 1 }], /it has symbol keys/],
  ]
  for (const [args, message] of cases) {
    const error = t.throws(() => encodeArgs(args), { instanceOf: CacheKeyEncodingError })
    t.is(error!.code, 'ERR_CACHE_KEY_ENCODING')
    t.regex(error!.message, message)
    t.regex(error!.message, /pass a keyFn/)
  }
})

test('a shared (non-cyclic) object used twice is fine', (t) => {
  const shared = { a: 1 }
  t.is(encodeArgs([shared, [shared]]), '[{"a":1},[{"a":1}]]')
})

test('boundKey keeps short keys and hashes over-long ones within the limit', (t) => {
  t.is(boundKey('f("x")'), 'f("x")')
  const long = `f(${JSON.stringify('x'.repeat(MAX_KEY_LENGTH))})`
  const other = `f(${JSON.stringify(`${'x'.repeat(MAX_KEY_LENGTH - 1)}y`)})`
  t.true(boundKey(long).length <= MAX_KEY_LENGTH)
  t.true(boundKey(long).startsWith('f("xxx'))
  t.not(boundKey(long), boundKey(other))
  t.is(boundKey(long), boundKey(long))
})

/** Canonical JSON with sorted keys and -0 as 0: the equality the model uses. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`
  }
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value)
  return JSON.stringify(value)
}
