import { CacheSerializationError, describe } from '../errors'
import { notStored, notStoredError, type Serializer } from '../serializer'

/**
 * How serialized storage (in-process and machine-wide) turns a value that is neither a
 * string nor a Buffer into bytes and back: through the serializer, at set time, so a value
 * it cannot carry fails there, never at get.
 */

function encodeValue(serializer: Serializer, value: unknown, key: string): string | Uint8Array {
  let out: unknown
  try {
    out = serializer.serialize(value)
  } catch (err) {
    throw notStoredError(err, key)
  }
  if (typeof out !== 'string' && !(out instanceof Uint8Array)) {
    throw new CacheSerializationError(`${notStored(key)}: serializer.serialize must return a string or a Buffer, got ${describe(out)}`)
  }
  return out
}

/** What is stored for `value`: a string or Buffer as it is (tag 0), anything else through the serializer (tag 1). */
export function storedForm(serializer: Serializer, value: unknown, key: string): string | Uint8Array {
  return typeof value === 'string' || Buffer.isBuffer(value) ? value : encodeValue(serializer, value, key)
}

/** `readsStrings`: the serializer accepts a string directly (the default JSON one), no Buffer in between. */
export function decodeValue<V>(serializer: Serializer, readsStrings: boolean, stored: string | Buffer): V {
  if (typeof stored === 'string' && !readsStrings) return serializer.deserialize(Buffer.from(stored, 'utf8')) as V
  return serializer.deserialize(stored as Buffer) as V
}
