import { join } from 'node:path'
import nodeGypBuild from 'node-gyp-build'
import { CacheOptionError, NativeEngineUnavailableError, describe } from './errors'

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

/** The functions crates/node exports (see its lib.rs for the slot encodings). */
export interface NativeBinding {
  /** policy: 0 lru (default), 1 s3fifo, 2 tinylfu, 3 tinylfu with a fixed 1 % window; seed: u32 of the policy's key hash. */
  create(capacity: number, policy?: number, seed?: number): number
  close(handle: number): void
  get(handle: number, key: string): number
  getAt(handle: number, key: string, now: number): number
  peek(handle: number, key: string): number
  peekAt(handle: number, key: string, now: number): number
  set(handle: number, key: string, ttlMs: number): number
  setAt(handle: number, key: string, ttlMs: number, now: number): number
  takeSwept(handle: number): number
  remove(handle: number, key: string): number
  removeAt(handle: number, key: string, now: number): number
  clear(handle: number): void
  size(handle: number): number
  counters(handle: number, out: Float64Array): void
  nativeNowMs(): number
  /** Keys from most to least recently used (tests and debugging; O(n)). */
  keys(handle: number): string[]
  bindingVersion(): number
  // The hot path and batches (crates/node/src/hotpath.rs, batch.rs; docs/native-hotpath.md).
  /** The engine's shared area (Rust memory): ring i32[1024] | ends i32[256] | out i32[768] | ttls f64[256] | call block f64 now, f64 ttlMs, i32 ringLen, i32 slot | victims i32[64]. */
  hpBuffers(handle: number): ArrayBuffer
  /** set after applying ring[0, ringLen); slot, or -(slot + 1) with the swept slots in ring[0..2] (-1 = none). */
  hpSet(handle: number, key: string, ttlMs: number, now: number, ringLen: number): number
  /**
   * LRU only, keyless: a set of a key absent from JS's index (Rust keeps no key); now, ttlMs
   * and ringLen are read from the area's call block. Returns as hpSet; if JS still keeps a key
   * in the returned slot, that key was evicted. A call block slot word n > 0 asks for up to n
   * (<= 64) next victims, LRU tail first, written to victims with their count in the slot word;
   * JS may then record its next inserts in the ring as -(victim + 2) instead of calling.
   */
  hpInsert(handle: number): number
  /** LRU only, keyless: a set of the key JS keeps in the call block's slot (new deadline, most recently used). Returns as hpSet. */
  hpUpdate(handle: number): number
  /** occupied slots from most to least recently used, after applying the ring (tests; O(n)). */
  hpOrder(handle: number, ringLen: number): number[]
  /** removes the entry in slot after applying the ring: 1 was live, 0 was expired. */
  hpRemove(handle: number, slot: number, now: number, ringLen: number): number
  /** applies the ring and adds hits/misses counted in JS. */
  hpFlush(handle: number, ringLen: number, hits: number, misses: number): void
  /** keys joined, ends[i] = end of key i (in the area); out[i] as getAt. n <= 256. */
  getMany(handle: number, joined: string, n: number, now: number, ringLen: number): void
  /** ttls[i] in the area; out[3i] = slot of key i, out[3i+1..3i+3) = slots its sweep freed (-1 = none). */
  setMany(handle: number, joined: string, n: number, now: number, ringLen: number): void
}

/** The calling convention this file expects (crates/node `binding_version`). */
const BINDING_VERSION = 2

export type EngineChoice = 'native' | 'js' | 'auto'

/** Environment variable that forces the engine choice for every InMemoryLRUCache. */
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

const REQUIRED_FUNCTIONS = ['bindingVersion', 'create', 'close', 'getAt', 'setAt', 'peekAt', 'removeAt', 'takeSwept', 'clear', 'size', 'counters', 'hpBuffers', 'hpSet', 'hpInsert', 'hpUpdate', 'hpOrder', 'hpRemove', 'hpFlush', 'getMany', 'setMany'] as const

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
      if (version !== BINDING_VERSION) {
        throw new Error(`it speaks binding version ${version}, expected ${BINDING_VERSION} (stale build? run npm run build:native)`)
      }
      binding = candidate as NativeBinding
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
