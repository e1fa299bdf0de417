import { CacheOptionError, describe } from '../errors'
import { checkKnownOptions, checkName, checkOptionsObject } from '../validate'
import { MEMORY_OPTION_KEYS, SHARED_SCOPE_KEYS } from './option-keys'
import { machineSpec } from './machine-options'
import { SHARED_SPEC, type SharedSpec } from './storage'

/**
 * InMemoryLRUCache.shared(name, options): with `scope: 'process'` (the default) one cache
 * per process, opened by name from any thread (main or worker_threads); with
 * `scope: 'machine'` one cache per machine, in a segment file every process maps
 * (machine-engine.ts, options in machine-options.ts). The cache itself lives in the native addon's
 * process-wide registry (crates/node/src/shared.rs): one memory budget and one set of
 * counters, split into lock-protected shards. Each thread's `close()` releases only its
 * own reference; the cache is freed when the last one is closed.
 */

/**
 * Shards a shared cache gets unless told otherwise: one per 1024 entries of maxsize, at
 * most 16 (enough that 4-8 threads rarely meet on one lock). Small caches keep one
 * shard, an exact LRU; big ones trade a little LRU exactness for parallelism.
 */
export function defaultShards(maxsize: unknown): number {
  const n = typeof maxsize === 'number' && Number.isFinite(maxsize) ? maxsize : 1024
  return Math.max(1, Math.min(16, Math.floor(n / 1024)))
}

/** Options of shared(): those of InMemoryLRUCache (storage must be 'serialized'), plus `shards` and the machine-scope ones. */
export interface SharedOptionsInput {
  shards?: unknown
  scope?: unknown
  dir?: unknown
  mode?: unknown
  lockTimeout?: unknown
  [key: string]: unknown
}

/** Validates shared()'s arguments and returns the constructor options carrying the hidden spec. */
export function sharedConstructorOptions(name: unknown, options: unknown): Record<string | symbol, unknown> {
  if (typeof name !== 'string' || name.length === 0 || name.length > 256) {
    throw new CacheOptionError(`shared cache name must be a non-empty string of at most 256 characters, got ${describe(name)}`)
  }
  checkOptionsObject(options, 'InMemoryLRUCache.shared')
  // here, not in the constructor: the scope's own keys are taken out below, and a typo of one (scop) must list them
  checkKnownOptions(options ?? {}, [...MEMORY_OPTION_KEYS, ...SHARED_SCOPE_KEYS], 'InMemoryLRUCache.shared option')
  const { shards: rawShards, scope = 'process', dir, mode, lockTimeout, ...rest } = (options ?? {}) as SharedOptionsInput
  const shards = rawShards === undefined ? defaultShards(rest.maxsize) : rawShards
  if (typeof shards !== 'number' || !Number.isInteger(shards) || shards < 1 || shards > 1024) {
    throw new CacheOptionError(`shards must be an integer from 1 to 1024, got ${describe(shards)}`)
  }
  if (rest.clock !== undefined) {
    throw new CacheOptionError(`clock cannot be set on a shared cache: every thread must see the same time, so it uses the engine's process-wide clock`)
  }
  if (rest.name !== undefined) checkName(rest.name)
  const spec: SharedSpec = { name, shards, machine: machineSpec(scope, { dir, mode, lockTimeout }) }
  return { name, ...rest, [SHARED_SPEC]: spec }
}
