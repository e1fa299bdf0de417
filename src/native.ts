import { join } from 'node:path'
import nodeGypBuild from 'node-gyp-build'
import { CacheOptionError, NativeEngineUnavailableError, describe } from './errors'
import { areaViews, LAYOUT, layoutDifferences, type AreaViews } from './memory/native-layout'

/**
 * Loading the Rust engine (crates/node) and choosing between it and the pure-TS engine.
 *
 * Where the binary comes from, in order:
 *   1. `native/index.js`, the loader napi-rs generates: a local build in `native/`
 *      (`npm run build:native`, run by `npm install` when cargo is present), then the
 *      per-platform npm package (`astra-cache-<platform>`, musl detected), when one is installed.
 *   2. `prebuilds/<platform>-<arch>/*.node` through node-gyp-build, under the package root or
 *      under ASTRA_CACHE_PREBUILDS_ROOT (for bundles that ship binaries inside the package).
 *   Otherwise the JS engine serves (selectEngine warns once).
 * Nothing is loaded until an engine is first needed, and the outcome is cached.
 */

/**
 * The functions crates/node exports; results and the shared area's layout are described
 * in crates/node/src/reference.rs, serialized.rs and layout.rs (numbers: LAYOUT). Every
 * keyed call reads its time from the area (`now[0]`, written just before the call).
 */
export interface NativeBinding {
  bindingVersion(): number
  /** Every constant of the boundary, by name (compared with LAYOUT at load). */
  layout(): Record<string, number>
  /** This thread's shared area (status, removal log, counters, batch offsets and results). */
  area(): ArrayBuffer
  // any handle
  close(handle: number): void
  size(handle: number): number
  /** With a hook, the status word then counts the removals to take. */
  clear(handle: number): void
  /** Writes the counters into the area (LAYOUT.COUNTER_*). */
  counters(handle: number): void
  /** The removals kept by the last reporting call: LAYOUT.REMOVAL_FIELDS values each (slot, reason, key, value, tag). */
  takeRemovals(): unknown[]
  // reference storage
  /** policy: POLICY_CODES; seed: u32 of the policy's key hash; flags: LAYOUT.FLAG_REPORT with an onRemove hook. */
  create(capacity: number, policy: number, seed: number, flags: number): number
  /** slot (hit), LAYOUT.MISS, or LAYOUT.EXPIRED_BASE - slot (expired and removed). */
  get(handle: number, key: string): number
  peek(handle: number, key: string): number
  /** The slot now holding the key, or LAYOUT.MISS (not kept); status word = removals to read. */
  set(handle: number, key: string, ttlMs: number): number
  /** slot (a live entry removed), LAYOUT.MISS, or LAYOUT.EXPIRED_BASE - slot. */
  remove(handle: number, key: string): number
  /** Keys joined, area ends[i] = end of key i; area out[i] = what get would return. n <= LAYOUT.BATCH. */
  getMany(handle: number, joined: string, n: number): void
  // serialized storage (a negative now: the engine's own clock)
  sCreate(capacity: number, maxBytes: number, policy: number, seed: number, flags: number): number
  sOpen(name: string, capacity: number, maxBytes: number, shards: number, defaultTtlMs: number, policy: number, seed: number, flags: number): number
  sPolicy(handle: number): number
  /** A shared cache's identity, equal for every handle of it in any thread (metrics count it once); undefined for an own cache. */
  sIdentity?(handle: number): string | undefined
  /** A shared cache's watcher lease, as MachineBinding.mWatch; undefined for an own cache (older builds lack it). */
  sWatch?(handle: number, op: 0 | 1 | 2, topic: string, leaseMs: number): number | undefined
  /** The value, its tag in the area's tag word; undefined when absent. */
  sGet(handle: number, key: string): string | Buffer | undefined
  sPeek(handle: number, key: string): string | Buffer | undefined
  sHas(handle: number, key: string): boolean
  /** True when the value was kept. */
  sSet(handle: number, key: string, value: string | Uint8Array, serialized: number, ttlMs: number): boolean
  sRemove(handle: number, key: string): boolean
}

export type EngineChoice = 'native' | 'js' | 'auto'

/** Environment variable that forces the engine choice for every InMemoryLRUCache. */
/** The op codes of the native watcher-lease calls (mWatch, sWatch). */
export const WATCH_OPS = { stop: 0, start: 1, beat: 2 } as const

export const ENGINE_ENV_VAR = 'ASTRA_CACHE_ENGINE'

const CHOICES: readonly string[] = ['native', 'js', 'auto']

/** Directory holding `prebuilds/` for node-gyp-build: an override for bundles, else the package root. */
export const PREBUILDS_ENV_VAR = 'ASTRA_CACHE_PREBUILDS_ROOT'

/** Where to look for the binding, in order; each loads it or throws saying why not. */
const CANDIDATES: readonly { name: string; load: () => unknown }[] = [
  { name: 'native/index.js', load: () => require('../native/index.js') },
  {
    name: 'prebuilds (node-gyp-build)',
    load: () => {
      const root = process.env[PREBUILDS_ENV_VAR] || join(__dirname, '..')
      return nodeGypBuild(root)
    },
  },
]

const REQUIRED_FUNCTIONS = [
  'bindingVersion', 'layout', 'area', 'close', 'size', 'clear', 'counters', 'takeRemovals',
  'create', 'get', 'peek', 'set', 'remove', 'getMany',
  'sCreate', 'sOpen', 'sPolicy', 'sGet', 'sPeek', 'sHas', 'sSet', 'sRemove',
] as const

let binding: NativeBinding | null | undefined
let loadError: Error | undefined
let warned = false

/** The native binding, or null when none loads (see nativeLoadError()). Cached; never throws. */
export function loadNative(): NativeBinding | null {
  if (binding !== undefined) return binding
  const failures: string[] = []
  for (const { name: id, load } of CANDIDATES) {
    try {
      const candidate = load() as Partial<NativeBinding>
      const missing = REQUIRED_FUNCTIONS.filter((name) => typeof candidate[name] !== 'function')
      if (missing.length > 0) throw new Error(`it lacks ${missing.join(', ')} (stale build? run npm run build:native)`)
      const version = candidate.bindingVersion?.()
      if (version !== LAYOUT.BINDING_VERSION) {
        throw new Error(`it speaks binding version ${version}, expected ${LAYOUT.BINDING_VERSION} (stale build? run npm run build:native)`)
      }
      const drift = layoutDifferences(candidate.layout!())
      if (drift.length > 0) throw new Error(`its layout differs from src/memory/native-layout.ts (${drift.join('; ')})`)
      // A plain copy: the module's exports object has slow (dictionary) properties, and
      // every call loads a function from it (measured ~10-20 ns per call saved).
      binding = { ...candidate } as NativeBinding
      return binding
    } catch (err) {
      // One line per place: some loaders (node-gyp-build) put newlines in their messages.
      failures.push(`${id}: ${(err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim()}`)
    }
  }
  loadError = new Error(`no native binary could be loaded (${failures.join('; ')})`)
  binding = null
  return null
}

let area: AreaViews | undefined

/** Views over this thread's shared area of the loaded binding (one per thread, made once). */
export function nativeArea(b: NativeBinding): AreaViews {
  return (area ??= areaViews(b.area()))
}

/** Why loadNative() returned null, or undefined if it loaded (or was never tried). */
export function nativeLoadError(): Error | undefined {
  return loadError
}

/** The engine forced by ASTRA_CACHE_ENGINE, or undefined when unset/empty. */
export function engineFromEnv(env: NodeJS.ProcessEnv = process.env): EngineChoice | undefined {
  const raw = env[ENGINE_ENV_VAR]
  if (raw === undefined || raw === '') return undefined
  const value = raw.trim().toLowerCase()
  if (!CHOICES.includes(value)) {
    throw new CacheOptionError(`${ENGINE_ENV_VAR} must be one of native, js, auto; got ${describe(raw)}`)
  }
  return value as EngineChoice
}

/**
 * Decides which engine serves a cache: ASTRA_CACHE_ENGINE, when set, overrides the
 * `engine` option. 'native' throws NativeEngineUnavailableError when the binary cannot be
 * loaded; 'auto' falls back to 'js' with one process warning per process.
 */
export function selectEngine(requested: unknown = 'auto', env: NodeJS.ProcessEnv = process.env): 'native' | 'js' {
  if (typeof requested !== 'string' || !CHOICES.includes(requested)) {
    throw new CacheOptionError(`engine must be one of 'native', 'js', 'auto'; got ${describe(requested)}`)
  }
  const forced = engineFromEnv(env)
  const choice = forced ?? (requested as EngineChoice)
  if (choice === 'js') return 'js'
  if (loadNative() !== null) return 'native'
  const cause = nativeLoadError()
  if (choice === 'native') {
    const by = forced !== undefined ? `${ENGINE_ENV_VAR}=native` : `engine: 'native'`
    throw new NativeEngineUnavailableError(
      `${by} was requested but the native engine is unavailable: ${cause?.message ?? 'unknown reason'}. ` +
        `Build it with \`npm run build:native\` (needs cargo), or use engine 'js' or 'auto'.`,
      { cause },
    )
  }
  warnFallbackOnce(cause)
  return 'js'
}

function warnFallbackOnce(cause: Error | undefined): void {
  if (warned) return
  warned = true
  process.emitWarning(
    `astra-cache: native engine unavailable, using the pure-TS engine (${cause?.message ?? 'unknown reason'}). ` +
      `Set ${ENGINE_ENV_VAR}=js to choose it explicitly and silence this warning.`,
    { code: 'ASTRA_CACHE_NATIVE_FALLBACK' },
  )
}
