import { CacheOptionError, describe } from '../errors'
import { isEnvelope } from '../facade/envelope'
import type { RemovalHook, RemovalReason } from './engine'

/** Why dispose was called: the entry was evicted, found expired, deleted, replaced by a set, or cleared. */
export type DisposeReason = RemovalReason

/** The `dispose` option of InMemoryLRUCache: called with each entry that leaves the cache. */
export type Dispose<V> = (value: V, key: string, reason: DisposeReason) => void

/**
 * The engine's removal hook for a `dispose` option, or undefined without one (the engines then
 * keep no removal record at all). A stale-while-revalidate envelope is unwrapped: dispose
 * sees the value you stored, not the cache's bookkeeping around it.
 */
export function disposeHook<V>(dispose: unknown): RemovalHook<V> | undefined {
  if (dispose === undefined) return undefined
  if (typeof dispose !== 'function') throw new CacheOptionError(`dispose must be a function (value, key, reason) => void, got ${describe(dispose)}`)
  const fn = dispose as Dispose<V>
  return (key, value, reason) => fn(isEnvelope(value) ? (value.v as V) : value, key, reason)
}
