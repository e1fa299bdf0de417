import { CacheOptionError, describe } from '../errors'
import { checkSerializer, jsonSerializer, type Serializer } from '../serializer'
import type { Clock, Engine, RemovalHook } from './engine'
import type { EnginePolicy } from './policies/policy'
import { SerializedEngine, serializedBinding } from './serialized-engine'
import { MachineEngine, machineBinding } from './machine-engine'
import { defaultMachineMaxBytes, type MachineSegmentOptions } from './machine-options'

/**
 * The `storage`, `maxBytes` and `serializer` options of InMemoryLRUCache, and the hidden
 * option `shared()` passes to the constructor. Kept out of memory-cache.ts so the cache
 * class only asks "is there a serialized engine for these options?".
 */

export type StorageChoice = 'reference' | 'serialized'

/** Hidden constructor option set by InMemoryLRUCache.shared() (a symbol: not listed by Object.keys). */
export const SHARED_SPEC: unique symbol = Symbol('astra-cache.sharedSpec')

export interface SharedSpec {
  name: string
  shards: number
  /** Set for scope: 'machine'. */
  machine?: MachineSegmentOptions
}

interface StorageOptions {
  storage?: unknown
  maxBytes?: unknown
  serializer?: unknown
  engine?: unknown
  [SHARED_SPEC]?: SharedSpec
}

/** Largest maxBytes accepted (exact integers in a double). */
const MAX_BYTES = Number.MAX_SAFE_INTEGER

/**
 * The serialized engine the options ask for, or undefined for reference storage (the
 * caller then builds its usual engine). Validates storage, maxBytes and serializer.
 */
export function createStorageEngine<V>(
  options: StorageOptions,
  base: { capacity: number; clock: Clock; defaultTtlMs: number; policy?: EnginePolicy; policySeed?: number; onRemove?: RemovalHook<V> },
): Engine<V> | undefined {
  const spec = options[SHARED_SPEC]
  const storage = options.storage === undefined ? (spec ? 'serialized' : 'reference') : options.storage
  if (storage !== 'reference' && storage !== 'serialized') {
    throw new CacheOptionError(`storage must be 'reference' or 'serialized', got ${describe(storage)}`)
  }
  if (storage === 'reference') {
    if (spec) {
      throw new CacheOptionError(
        `InMemoryLRUCache.shared("${spec.name}") needs storage: 'serialized': values kept by reference live in one thread's JS heap and cannot be shared with other threads`,
      )
    }
    if (options.maxBytes !== undefined) throw new CacheOptionError(`maxBytes needs storage: 'serialized' (reference storage does not know the size of your values)`)
    if (options.serializer !== undefined) throw new CacheOptionError(`serializer needs storage: 'serialized' (reference storage keeps values as they are)`)
    return undefined
  }
  const maxBytes = options.maxBytes === undefined ? (spec?.machine ? defaultMachineMaxBytes(base.capacity) : 0) : options.maxBytes
  if (typeof maxBytes !== 'number' || !Number.isInteger(maxBytes) || maxBytes < 0 || maxBytes > MAX_BYTES) {
    throw new CacheOptionError(`maxBytes must be an integer number of bytes >= 0 (0 = no byte limit), got ${describe(maxBytes)}`)
  }
  if (options.serializer !== undefined) checkSerializer(options.serializer)
  const serializer = (options.serializer ?? jsonSerializer) as Serializer
  if (spec?.machine) {
    if (base.policy !== undefined && base.policy !== 'lru') throw new CacheOptionError(`scope: 'machine' runs the 'lru' policy only, got policy '${base.policy}'`)
    if (base.onRemove !== undefined) throw new CacheOptionError(`scope: 'machine' does not take a dispose option: entries leave the segment in other processes too, and a removal cannot call back into each of them`)
    if (maxBytes === 0) throw new CacheOptionError(`scope: 'machine' needs maxBytes > 0: the segment's size is fixed when it is created`)
    const machine = machineBinding(options.engine === undefined ? 'auto' : options.engine)
    return new MachineEngine<V>(machine, { capacity: base.capacity, maxBytes, serializer, spec: { name: spec.name, shards: spec.shards, ...spec.machine } })
  }
  const binding = serializedBinding(options.engine === undefined ? 'auto' : options.engine)
  return new SerializedEngine<V>(binding, {
    capacity: base.capacity,
    clock: base.clock,
    maxBytes,
    serializer,
    policy: base.policy,
    policySeed: base.policySeed,
    onRemove: base.onRemove,
    shared: spec && { name: spec.name, shards: spec.shards, defaultTtlMs: base.defaultTtlMs },
  })
}

/** The storage an engine serves. */
export function storageOf(engine: Engine<unknown>): StorageChoice {
  return engine instanceof SerializedEngine || engine instanceof MachineEngine ? 'serialized' : 'reference'
}
