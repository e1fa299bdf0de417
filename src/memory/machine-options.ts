import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { durationStringMs } from '../duration'
import { CacheOptionError, describe } from '../errors'

/**
 * The options of `InMemoryLRUCache.shared(name, { scope: 'machine', ... })` that place the
 * segment: `dir`, `mode` and `lockTimeout` (seconds). Kept apart from the process-scope
 * options so shared-registry.ts only asks "which scope?".
 */

export interface MachineSegmentOptions {
  dir: string
  mode: number
  lockTimeoutMs: number
}

/** The segment directory unless told otherwise: /dev/shm (memory, not disk) where it exists. */
export function defaultMachineDir(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir()
}

/** Bytes of keys + values a machine-wide cache gets without a maxBytes: 1 KiB per entry of maxsize. */
export function defaultMachineMaxBytes(capacity: number): number {
  return capacity * 1024
}

const DEFAULT_LOCK_TIMEOUT_S = 10

/** Validates the machine-scope options; undefined for scope 'process' (which refuses them). */
export function machineSpec(scope: unknown, o: { dir?: unknown; mode?: unknown; lockTimeout?: unknown }): MachineSegmentOptions | undefined {
  if (scope !== 'process' && scope !== 'machine') throw new CacheOptionError(`scope must be 'process' or 'machine', got ${describe(scope)}`)
  if (scope === 'process') {
    for (const [k, v] of Object.entries(o)) {
      if (v !== undefined) throw new CacheOptionError(`${k} applies to scope: 'machine' only (a process-scope shared cache has no segment file)`)
    }
    return undefined
  }
  const dir = o.dir ?? defaultMachineDir()
  if (typeof dir !== 'string' || dir.length === 0) throw new CacheOptionError(`dir must be a directory path, got ${describe(dir)}`)
  const mode = o.mode ?? 0o600
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0o400 || mode > 0o777 || (mode & 0o600) !== 0o600) {
    throw new CacheOptionError(`mode must be a file mode from 0o600 to 0o777 that lets the owner read and write, got ${describe(mode)}`)
  }
  const given = o.lockTimeout ?? DEFAULT_LOCK_TIMEOUT_S
  const lockTimeout = typeof given === 'string' ? durationStringMs(given, 'lockTimeout') / 1000 : given
  if (typeof lockTimeout !== 'number' || !(lockTimeout > 0) || lockTimeout > 3600) {
    throw new CacheOptionError(`lockTimeout must be a number of seconds or a duration string above 0 and at most 1 hour, got ${describe(given)}`)
  }
  return { dir, mode, lockTimeoutMs: Math.ceil(lockTimeout * 1000) }
}
