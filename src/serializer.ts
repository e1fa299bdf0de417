import { CacheError, CacheOptionError, CacheSerializationError, describe } from './errors'
import { requireOptional } from './optional-dependency'

/**
 * Turns values into bytes and back, for RedisCache and the memory cache's serialized storage.
 * `serialize` must throw (any error) for a value it cannot carry faithfully; the cache wraps it
 * in a CacheSerializationError at `set`, so a bad value never fails later at `get`.
 */
export interface Serializer<V = unknown> {
  serialize(value: V): Buffer | string
  deserialize(bytes: Buffer): V
}

/**
 * A failed serialize() at set, as the error the caller gets: it names the cache key (the
 * serializer's own message can only say where in the value), and wraps a foreign error.
 * Other CacheErrors pass through unchanged.
 */
export function notStoredError(err: unknown, key: string): Error {
  const what = notStored(key)
  if (err instanceof CacheSerializationError) return new CacheSerializationError(`${what}: ${err.message}`, { cause: err })
  if (err instanceof CacheError) return err
  return new CacheSerializationError(`${what}: the serializer threw: ${(err as Error)?.message ?? String(err)}`, { cause: err })
}

/** The start of a refused value's message; a long key is cut (keys may be 4096 characters). */
export function notStored(key: string): string {
  return `value of key ${JSON.stringify(key.length > 100 ? `${key.slice(0, 100)}…` : key)} not stored`
}

/** A `"__proto__"` key, also spelled with \u escapes (JSON.parse decodes those too). */
const PROTO_KEY = /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"\s*:/
/** A `"constructor"` key, same idea (only dangerous when it holds a `prototype`). */
const CONSTRUCTOR_KEY = /"(?:c|\\u0063)(?:o|\\u006[Ff])(?:n|\\u006[Ee])(?:s|\\u0073)(?:t|\\u0074)(?:r|\\u0072)(?:u|\\u0075)(?:c|\\u0063)(?:t|\\u0074)(?:o|\\u006[Ff])(?:r|\\u0072)"\s*:/

/**
 * JSON.parse creates `__proto__` as an own property (harmless by itself), but code that later
 * deep-merges the object would write to Object.prototype. We drop such keys on the way in.
 */
function stripPrototypeKeys(this: unknown, key: string, value: unknown): unknown {
  if (key === '__proto__') return undefined
  if (key === 'constructor' && value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, 'prototype')) {
    return undefined
  }
  return value
}

/** True until rejectLossy sees the root: JSON.stringify's first replacer call is the value itself, under key "". */
let atRoot = false

/** Where in the value `key` of `holder` is, for the message: the value itself, a property or an index. */
function where(root: boolean, holder: unknown, key: string): string {
  if (root) return 'the value itself'
  return Array.isArray(holder) ? `at index ${key}` : `at property ${JSON.stringify(key)}`
}

/** Rejects what JSON would silently drop or change, instead of storing a different value. */
function rejectLossy(this: unknown, key: string, value: unknown): unknown {
  const root = atRoot
  atRoot = false
  switch (typeof value) {
    case 'function':
      throw new CacheSerializationError(`JSON cannot store a function (${where(root, this, key)})`)
    case 'symbol':
      throw new CacheSerializationError(`JSON cannot store a symbol (${where(root, this, key)})`)
    case 'bigint':
      throw new CacheSerializationError(`JSON cannot store a BigInt (${describe(value)}, ${where(root, this, key)}); use the msgpack serializer or convert it to a string`)
    case 'number':
      if (!Number.isFinite(value as number)) {
        throw new CacheSerializationError(`JSON cannot store ${String(value)} (${where(root, this, key)}); it would come back as null`)
      }
      return value
    case 'undefined':
      if (Array.isArray(this)) {
        throw new CacheSerializationError(`JSON cannot store undefined inside an array (at index ${key}); it would come back as null`)
      }
      return value
    case 'object': {
      if (value === null) return value
      // A Buffer reaches the replacer as its toJSON() result ({ type: 'Buffer', data }); the holder still has the Buffer.
      const buffer = (value as { type?: unknown }).type === 'Buffer' && Buffer.isBuffer((this as Record<string, unknown>)[key])
      if (buffer || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
        const kind = buffer ? 'Buffer' : ((value as object).constructor?.name ?? 'binary value')
        throw new CacheSerializationError(`JSON cannot store binary data (${kind}, ${where(root, this, key)}); it would come back as ${buffer ? "{ type: 'Buffer', data: [...] }" : 'a plain object'}: use the msgpack serializer, which carries binary, or a base64 string`)
      }
      if (value instanceof Map || value instanceof Set) {
        throw new CacheSerializationError(`JSON cannot store a ${value instanceof Map ? 'Map' : 'Set'} (${where(root, this, key)}); it would come back as {}`)
      }
      return value
    }
    default:
      return value
  }
}

/**
 * The default serializer: JSON, UTF-8.
 * - set: throws CacheSerializationError for BigInt, functions, symbols, cycles, NaN/Infinity,
 *   Map/Set, Buffers and typed arrays, and `undefined` inside arrays (all of which JSON would
 *   drop or alter silently). Serialized memory storage keeps a Buffer value as it is, without
 *   this serializer; a Buffer inside an object goes through it.
 *   Objects with toJSON (Date) are stored through it: a Date comes back as its ISO string.
 *   `undefined` object properties are dropped, as JSON does (reading them still gives undefined).
 * - get: `__proto__` keys, and `constructor` keys holding a `prototype`, are removed, so a
 *   cached object cannot pollute a prototype when merged later.
 */
export const jsonSerializer: Serializer<any> = Object.freeze({
  serialize(value: unknown): string {
    try {
      atRoot = true
      return JSON.stringify(value, rejectLossy)
    } catch (err) {
      if (err instanceof CacheSerializationError) throw err
      // JSON.stringify's own TypeErrors: cycles ("Converting circular structure") and BigInt in toJSON results.
      throw new CacheSerializationError(`JSON cannot store this value: ${(err as Error).message.split('\n')[0]}`, { cause: err })
    }
  },
  deserialize(bytes: Buffer | string): unknown {
    const text = typeof bytes === 'string' ? bytes : bytes.toString('utf8')
    try {
      // Fast path: only pay for the reviver when a dangerous key may be present.
      if ((text.includes('__') || text.includes('\\u') || text.includes('constructor')) && (PROTO_KEY.test(text) || CONSTRUCTOR_KEY.test(text))) {
        return JSON.parse(text, stripPrototypeKeys)
      }
      return JSON.parse(text)
    } catch (err) {
      throw new CacheSerializationError(`stored bytes are not valid JSON: ${(err as Error).message}`, { cause: err })
    }
  },
})

export interface MsgpackSerializerOptions {
  /** Passed to msgpackr's Packr (e.g. `{ structuredClone: true }` to keep cycles). */
  packrOptions?: Record<string, unknown>
}

/**
 * msgpack through the optional `msgpackr` package (install it yourself: `npm install msgpackr`).
 * Loaded when called, so astra-cache works without it. Carries BigInt, Date, Set, typed arrays,
 * binary data and `undefined` in arrays. A Map comes back as a plain object (msgpack has one map
 * type). msgpackr renames `__proto__` keys to `__proto_`, so decoding is pollution-safe too.
 */
export function msgpackSerializer(options: MsgpackSerializerOptions = {}): Serializer<any> {
  const msgpackr = requireOptional<{ Packr: new (opts?: Record<string, unknown>) => { pack(v: unknown): Buffer; unpack(b: Buffer): unknown } }>('msgpackr', 'msgpackSerializer()')
  const packr = new msgpackr.Packr({ useRecords: false, moreTypes: true, ...options.packrOptions })
  return Object.freeze({
    serialize(value: unknown): Buffer {
      rejectFunctions(value, new Set())
      try {
        return packr.pack(value)
      } catch (err) {
        throw new CacheSerializationError(`msgpack cannot store this value: ${(err as Error).message}`, { cause: err })
      }
    },
    deserialize(bytes: Buffer): unknown {
      try {
        return packr.unpack(bytes)
      } catch (err) {
        throw new CacheSerializationError(`stored bytes are not valid msgpack: ${(err as Error).message}`, { cause: err })
      }
    },
  })
}

/** msgpackr turns functions into nil silently; refuse them (and symbols) instead. Cycles are left to msgpackr. */
function rejectFunctions(value: unknown, seen: Set<object>): void {
  if (typeof value === 'function' || typeof value === 'symbol') {
    throw new CacheSerializationError(`msgpack cannot store a ${typeof value}`)
  }
  if (value === null || typeof value !== 'object' || seen.has(value) || ArrayBuffer.isView(value)) return
  seen.add(value)
  if (value instanceof Map) {
    for (const [k, v] of value) {
      rejectFunctions(k, seen)
      rejectFunctions(v, seen)
    }
  } else if (value instanceof Set || Array.isArray(value)) {
    for (const v of value) rejectFunctions(v, seen)
  } else {
    for (const k of Object.keys(value)) rejectFunctions((value as Record<string, unknown>)[k], seen)
  }
}

/** Validates a user-supplied serializer option. */
export function checkSerializer(serializer: unknown): void {
  if (
    serializer === null ||
    typeof serializer !== 'object' ||
    typeof (serializer as Serializer).serialize !== 'function' ||
    typeof (serializer as Serializer).deserialize !== 'function'
  ) {
    throw new CacheOptionError(`serializer must be an object with serialize() and deserialize() methods, got ${describe(serializer)}`)
  }
}
