/**
 * What the synchronous face costs: `cache.sync.get` (a hit) against the engine's own get under
 * it and against lru-cache's get, with `await cache.get` for scale. One cache of `size`
 * entries per engine, lookups in an order unrelated to insertion, cases interleaved in rotated
 * rounds (the harness), so the ratios are what to read. Used by the api section of
 * `npm run bench` and by `bench/sync-face.ts`.
 */
import { LRUCache } from 'lru-cache'
import { InMemoryLRUCache } from '../../src'
import { type Case, type HarnessOptions, type Measured, measure } from '../harness'
import { compileAsyncGetLoop, compileGetLoop, type Cursor } from '../loops'
import { makeKeys, shuffled } from '../prng'

const OPS = 1000
const VALUE = { id: 1, name: 'value' }

export interface SyncFaceResult {
  size: number
  engine: string
  results: Measured[]
  /** median ns of the case whose name starts with `name` */
  ns(name: 'engine get' | 'cache.sync.get' | 'lru-cache get' | 'await cache.get'): number
}

export async function measureSyncFace(engine: 'native' | 'js', size: number, h: HarnessOptions): Promise<SyncFaceResult> {
  const keys = makeKeys(size, 16, 42, 's')
  const order = shuffled(keys, 7)
  const cache = new InMemoryLRUCache<unknown>({ engine, maxsize: size, defaultTtl: 0 })
  const lru = new LRUCache<string, object>({ max: size })
  for (const k of keys) {
    cache.sync.set(k, VALUE)
    lru.set(k, VALUE)
  }
  const engineImpl = (cache as unknown as { impl: { get(k: string): unknown } }).impl
  const check = (name: string, hits: number): number => {
    if (hits !== OPS) throw new Error(`sync face, ${name}: expected ${OPS} hits, saw ${hits}`)
    return hits
  }
  const getCase = (name: string, target: unknown): Case => {
    const loop = compileGetLoop()
    const cur: Cursor = { pos: 0 }
    return { name, opsPerCall: OPS, run: () => check(name, loop(target, order, OPS, cur)) }
  }
  const asyncLoop = compileAsyncGetLoop()
  const asyncCur: Cursor = { pos: 0 }
  const cases: Case[] = [
    getCase(`engine get (${cache.engine})`, engineImpl),
    getCase('cache.sync.get', cache.sync),
    getCase('lru-cache get', lru),
    { name: 'await cache.get', opsPerCall: OPS, run: async () => check('await cache.get', await asyncLoop(cache, order, OPS, asyncCur)) },
  ]
  const results = await measure(cases, h)
  await cache.close()
  return { size, engine: cache.engine, results, ns: (name) => results.find((r) => r.name.startsWith(name))!.ns }
}
