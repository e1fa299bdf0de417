import { createHash } from 'node:crypto'
import { CacheKeyEncodingError } from '../errors'
import { MAX_KEY_LENGTH } from '../validate'

/**
 * Encodes an argument list as a string such that equal argument lists (deep equality,
 * object key order ignored) give equal strings and distinct ones never collide.
 *
 * The output is JSON-like and readable: strings are JSON-quoted, so `["a,b"]` and
 * `["a","b"]` differ and `1` differs from `"1"`; `undefined`, `NaN`, `Infinity` and
 * bigints (`12n`) are written unquoted, so `null`, `undefined` and `"null"` differ.
 * Plain objects have their keys sorted; a property set to `undefined` is kept (so
 * `{a: undefined}` differs from `{}`). Dates encode as `Date(<ISO>)`, Maps and Sets as
 * `Map{...}` / `Set[...]` with their entries sorted by encoding. An object with a
 * `toJSON()` method (Buffer, URL, Decimal...) encodes as `ClassName(<its toJSON()>)`.
 *
 * Functions, symbols, cycles, objects with symbol keys and class instances without
 * `toJSON()` cannot be encoded faithfully: they throw a CacheKeyEncodingError (pass a
 * `keyFn` for such arguments) instead of silently becoming "[object Object]".
 */
export function encodeArgs(args: readonly unknown[]): string {
  return `[${encodeArgList(args)}]`
}

/** encodeArgs without the surrounding brackets: `"42",{"a":1}`. */
export function encodeArgList(args: readonly unknown[]): string {
  let out = ''
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    // Strings and numbers are most arguments: skip the general path (and its bookkeeping) for them.
    const encoded = typeof arg === 'string' ? JSON.stringify(arg) : typeof arg === 'number' ? String(arg) : encodeValue(arg, { ancestors: [], segments: [i] })
    out = i === 0 ? encoded : `${out},${encoded}`
  }
  return out
}

/**
 * A key no backend rejects: an encoding longer than the maximum key length is replaced by
 * its SHA-256 (collisions are not a practical concern), keeping the readable head.
 */
export function boundKey(key: string): string {
  if (key.length <= MAX_KEY_LENGTH) return key
  const digest = createHash('sha256').update(key).digest('base64url')
  return `${key.slice(0, 64)}…#sha256:${digest}`
}

/** Where the encoder is: the objects above (for cycles) and the path to the value (for messages, built only on error). */
interface Walk {
  ancestors: object[]
  /** argument index first; then numbers are array indices, strings property names, notes describe Map/Set members */
  segments: (number | string | Note)[]
}
interface Note {
  note: string
}
const MAP_KEY: Note = { note: ' (a Map key)' }
const MAP_VALUE: Note = { note: ' (a Map value)' }
const SET_ITEM: Note = { note: ' (a Set item)' }
const TO_JSON: Note = { note: '.toJSON()' }

function pathOf(walk: Walk): string {
  let out = `argument ${(walk.segments[0] as number) + 1}`
  for (let i = 1; i < walk.segments.length; i++) {
    const segment = walk.segments[i]
    out += typeof segment === 'number' ? `[${segment}]` : typeof segment === 'string' ? `.${segment}` : segment.note
  }
  return out
}

function fail(walk: Walk, why: string): never {
  throw new CacheKeyEncodingError(`cannot encode ${pathOf(walk)} for the cache key: ${why}; pass a keyFn`)
}

function encodeAt(value: unknown, walk: Walk, segment: number | string | Note): string {
  walk.segments.push(segment)
  const encoded = encodeValue(value, walk)
  walk.segments.pop()
  return encoded
}

function encodeValue(value: unknown, walk: Walk): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      // String() keeps NaN / Infinity distinct from strings (those are quoted); -0 reads as 0 like Map keys.
      return String(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'undefined':
      return 'undefined'
    case 'bigint':
      return `${value}n`
    case 'function':
      return fail(walk, 'it is a function')
    case 'symbol':
      return fail(walk, `it is a symbol (${String(value)})`)
  }
  if (value === null) return 'null'
  const object = value as object
  if (walk.ancestors.includes(object)) fail(walk, 'it contains a cycle')
  walk.ancestors.push(object)
  const encoded = encodeObject(object, walk)
  walk.ancestors.pop()
  return encoded
}

function encodeObject(object: object, walk: Walk): string {
  if (Array.isArray(object)) {
    let out = '['
    for (let i = 0; i < object.length; i++) out += (i === 0 ? '' : ',') + encodeAt(object[i], walk, i)
    return `${out}]`
  }
  if (object instanceof Date) {
    const time = object.getTime()
    return `Date(${Number.isNaN(time) ? 'Invalid' : object.toISOString()})`
  }
  if (object instanceof Map) {
    const entries: string[] = []
    for (const [k, v] of object) entries.push(`${encodeAt(k, walk, MAP_KEY)}=>${encodeAt(v, walk, MAP_VALUE)}`)
    return `Map{${entries.sort().join(',')}}`
  }
  if (object instanceof Set) {
    const items: string[] = []
    for (const item of object) items.push(encodeAt(item, walk, SET_ITEM))
    return `Set[${items.sort().join(',')}]`
  }
  const proto = Object.getPrototypeOf(object)
  if (proto !== Object.prototype && proto !== null) {
    const toJSON = (object as { toJSON?: unknown }).toJSON
    const className = (proto as { constructor?: { name?: string } }).constructor?.name || 'anonymous class'
    if (typeof toJSON === 'function') return `${className}(${encodeAt(toJSON.call(object), walk, TO_JSON)})`
    return fail(walk, `it is an instance of ${className} with no toJSON()`)
  }
  if (Object.getOwnPropertySymbols(object).length > 0) fail(walk, 'it has symbol keys')
  const keys = Object.keys(object).sort()
  let out = '{'
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]
    out += `${i === 0 ? '' : ','}${JSON.stringify(key)}:${encodeAt((object as Record<string, unknown>)[key], walk, key)}`
  }
  return `${out}}`
}
