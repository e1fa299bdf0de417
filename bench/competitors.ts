/**
 * Everything the bench compares, behind one small adapter each. Adding a competitor is one
 * entry here. Optional ones (the astra engines while they are being written, lru-native2
 * when it cannot build) are reported as missing with the reason, never silently dropped.
 */
import { LRUCache as IsaacsLRU } from 'lru-cache'
import MnemonistLRU from 'mnemonist/lru-cache'
import { LRU as TinyLRU } from 'tiny-lru'
import type { Cache } from '../src/contract/cache'
import { loadLruNative2 } from './lru-native2'

/** The object the measured loops call: `get(k)` and `set(k, v, setArg)`. */
export interface SyncTarget {
  get(key: string): unknown
  set(key: string, value: unknown, arg?: unknown): unknown
}

export interface SyncInstance {
  target: SyncTarget
  /** third argument of set: the astra engines' ttlMs; undefined for peers (then set is called with two) */
  setArg: unknown
  size(): number
  /** batch get, when the competitor has one (astra native engine) */
  getMany?: (keys: readonly string[]) => unknown[]
  /** the cache's own hit counter, to cross-check what the loop observed */
  hits?: () => number
  close(): void
}

/** set outside the timed loops (fills, trace replay), with the right arity. */
export function put(inst: SyncInstance, key: string, value: unknown): void {
  if (inst.setArg === undefined) inst.target.set(key, value)
  else inst.target.set(key, value, inst.setArg)
}

export interface SyncCompetitor {
  name: string
  group: 'astra' | 'peer' | 'floor'
  /** exact LRU: must reproduce the reference LRU hit counts on the traces */
  exactLru: boolean
  supportsTtl: boolean
  note?: string
  create(capacity: number, ttlMs: number): SyncInstance
}

export interface AsyncCompetitor {
  name: string
  create(capacity: number, ttlMs: number, extra?: Record<string, unknown>): Cache<unknown>
}

export interface Missing {
  name: string
  reason: string
}

export interface Lineup {
  sync: SyncCompetitor[]
  async: AsyncCompetitor[]
  /** the Cache API with storage: 'serialized' (values off the JS heap), when supported */
  serialized?: AsyncCompetitor
  missing: Missing[]
}


/**
 * The plain-Map floor: no LRU reordering on get, FIFO eviction on set through a ring of
 * keys (the least a bounded cache must do). Not `keys().next()`: V8 keeps deleted slots in
 * a Map's table until it rehashes, so the first live key can be far away.
 */
class FifoMap extends Map<string, unknown> {
  private readonly ring: (string | undefined)[]
  private head = 0
  constructor(private readonly capacity: number) {
    super()
    this.ring = new Array(capacity).fill(undefined)
  }
  override set(key: string, value: unknown): this {
    if (!this.has(key)) {
      if (this.size >= this.capacity) this.delete(this.ring[this.head] as string)
      this.ring[this.head] = key
      this.head = this.head + 1 === this.capacity ? 0 : this.head + 1
    }
    return super.set(key, value)
  }
  override clear(): void {
    super.clear()
    this.ring.fill(undefined)
    this.head = 0
  }
}

function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e)
  return msg.split('\n')[0].slice(0, 200)
}

/** require() a project module that may not exist yet; returns the module or the reason. */
function tryRequire(path: string): { mod?: any; reason?: string } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { mod: require(path) }
  } catch (e) {
    return { reason: errorText(e) }
  }
}

interface EngineLike {
  get(k: string): unknown
  set(k: string, v: unknown, ttlMs: number): void
  size: number
  counters(): { hits: number }
  close(): void
  getMany?: (keys: readonly string[]) => unknown[]
}

function engineCompetitor(name: string, clock: () => number, Ctor: new (o: { capacity: number; clock: () => number }) => EngineLike): SyncCompetitor {
  return {
    name,
    group: 'astra',
    exactLru: true,
    supportsTtl: true,
    note: 'sync engine, no validation, no async',
    create(capacity, ttlMs) {
      const e = new Ctor({ capacity, clock })
      return {
        target: e as SyncTarget,
        setArg: ttlMs,
        size: () => e.size,
        getMany: typeof e.getMany === 'function' ? (keys) => e.getMany!(keys) : undefined,
        hits: () => e.counters().hits,
        close: () => e.close(),
      }
    },
  }
}

export async function loadLineup(opts: { lruNative2: boolean; quick: boolean; quiet?: boolean }): Promise<Lineup> {
  const sync: SyncCompetitor[] = []
  const asyncs: AsyncCompetitor[] = []
  const missing: Missing[] = []
  let serialized: AsyncCompetitor | undefined
  // the engines' default clock: performance.now() cached for 1 ms, like lru-cache's ttlResolution
  const clock: () => number = tryRequire('../src/memory/clock').mod?.coarseClock ?? (() => performance.now())

  // astra-cache: the two sync engines, then the public async API over each.
  const nativeEngine = tryRequire('../src/memory/native-engine')
  if (nativeEngine.mod?.NativeEngine) {
    try {
      const probe = new nativeEngine.mod.NativeEngine({ capacity: 2, clock })
      probe.close()
      sync.push(engineCompetitor('astra native (engine)', clock, nativeEngine.mod.NativeEngine))
    } catch (e) {
      missing.push({ name: 'astra native (engine)', reason: `native engine does not load: ${errorText(e)}` })
    }
  } else missing.push({ name: 'astra native (engine)', reason: nativeEngine.reason ?? 'no NativeEngine export' })

  const jsEngine = tryRequire('../src/memory/js-engine')
  if (jsEngine.mod?.JsEngine) sync.push(engineCompetitor('astra js (engine)', clock, jsEngine.mod.JsEngine))
  else missing.push({ name: 'astra js (engine)', reason: jsEngine.reason ?? 'no JsEngine export' })

  const memoryCache = tryRequire('../src/memory/memory-cache')
  const InMemoryLRUCache = memoryCache.mod?.InMemoryLRUCache
  if (InMemoryLRUCache) {
    for (const engine of ['native', 'js'] as const) {
      const name = `astra ${engine} (Cache API)`
      try {
        const probe = new InMemoryLRUCache({ maxsize: 2, defaultTtl: 0, engine })
        const served = probe.engine
        await probe.close()
        if (served !== engine) {
          missing.push({ name, reason: `engine '${engine}' requested, '${served}' served` })
          continue
        }
        asyncs.push({
          name,
          create: (capacity, ttlMs, extra) =>
            new InMemoryLRUCache({ maxsize: capacity, defaultTtl: ttlMs / 1000, engine, ...extra }),
        })
      } catch (e) {
        missing.push({ name, reason: errorText(e) })
      }
    }
    try {
      const probe = new InMemoryLRUCache({ maxsize: 2, defaultTtl: 0, engine: 'native', storage: 'serialized' })
      await probe.set('k', { a: 1 })
      await probe.close()
      serialized = {
        name: 'astra native serialized (Cache API)',
        create: (capacity, ttlMs, extra) =>
          new InMemoryLRUCache({ maxsize: capacity, defaultTtl: ttlMs / 1000, engine: 'native', storage: 'serialized', ...extra }),
      }
    } catch (e) {
      missing.push({ name: 'astra native serialized (Cache API)', reason: errorText(e) })
    }
  } else missing.push({ name: 'astra (Cache API)', reason: memoryCache.reason ?? 'no InMemoryLRUCache export' })

  // Peers.
  sync.push({
    name: 'lru-cache',
    group: 'peer',
    exactLru: true,
    supportsTtl: true,
    create(capacity, ttlMs) {
      const c = ttlMs > 0 ? new IsaacsLRU<string, any>({ max: capacity, ttl: ttlMs }) : new IsaacsLRU<string, any>({ max: capacity })
      return { target: c as SyncTarget, setArg: undefined, size: () => c.size, close: () => c.clear() }
    },
  })
  try {
    const QuickLRU = (await import('quick-lru')).default
    sync.push({
      name: 'quick-lru',
      group: 'peer',
      exactLru: false,
      supportsTtl: true,
      note: 'approximate LRU: two generations, holds up to 2x maxSize entries',
      create(capacity, ttlMs) {
        const c = new QuickLRU<string, any>(ttlMs > 0 ? { maxSize: capacity, maxAge: ttlMs } : { maxSize: capacity })
        return { target: c as SyncTarget, setArg: undefined, size: () => c.size, close: () => c.clear() }
      },
    })
  } catch (e) {
    missing.push({ name: 'quick-lru', reason: `ESM-only, import failed: ${errorText(e)}` })
  }
  sync.push({
    name: 'mnemonist LRUCache',
    group: 'peer',
    exactLru: true,
    supportsTtl: false,
    create(capacity) {
      const c = new MnemonistLRU<string, any>(capacity)
      return { target: c as SyncTarget, setArg: undefined, size: () => c.size, close: () => c.clear() }
    },
  })
  sync.push({
    name: 'tiny-lru',
    group: 'peer',
    exactLru: true,
    supportsTtl: true,
    create(capacity, ttlMs) {
      const c = new TinyLRU<any>(capacity, ttlMs)
      return { target: c as SyncTarget, setArg: undefined, size: () => c.size, close: () => c.clear() }
    },
  })
  if (opts.lruNative2) {
    const ln2 = loadLruNative2({ install: !opts.quiet })
    if (ln2.ctor) {
      const Ctor = ln2.ctor
      sync.push({
        name: 'lru-native2',
        group: 'peer',
        exactLru: true,
        supportsTtl: true,
        note: `C++ std::unordered_map + std::list (${ln2.where})`,
        create(capacity, ttlMs) {
          const c = new Ctor(ttlMs > 0 ? { maxElements: capacity, maxAge: ttlMs } : { maxElements: capacity })
          return { target: c as SyncTarget, setArg: undefined, size: () => c.size(), close: () => c.clear() }
        },
      })
    } else missing.push({ name: 'lru-native2', reason: ln2.reason! })
  } else missing.push({ name: 'lru-native2', reason: 'disabled with --no-lru-native2' })

  sync.push({
    name: 'Map (floor)',
    group: 'floor',
    exactLru: false,
    supportsTtl: false,
    note: 'plain Map: no LRU reorder on get, FIFO eviction on set; the floor, not a competitor',
    create(capacity) {
      const c = new FifoMap(capacity)
      return { target: c as SyncTarget, setArg: undefined, size: () => c.size, close: () => c.clear() }
    },
  })
  return { sync, async: asyncs, serialized, missing }
}
