/**
 * Where a get hit's time goes at one size, layer by layer, in one process (cases interleaved
 * in rotated rounds, so the ratios are what to read):
 *
 *   npx tsx bench/hotpath-breakdown.ts [engine=native|js] [size=10000] [time ms=300] [rounds=5]
 */
import { LRUCache } from 'lru-cache'
import { InMemoryLRUCache } from '../src'
import { type Case, measure } from './harness'
import { compileAsyncGetLoop, compileGetLoop, type Cursor } from './loops'
import { makeKeys, mulberry32 } from './prng'

const engine = (process.argv[2] ?? 'native') as 'native' | 'js'
const size = Number(process.argv[3] ?? 10000)
const time = Number(process.argv[4] ?? 300)
const rounds = Number(process.argv[5] ?? 5)
const OPS = 1000
const VALUE = { id: 1, name: 'value' }

async function main(): Promise<void> {
  const keys = makeKeys(size, 16, 42, 's')
  const rand = mulberry32(7)
  const order = keys.slice().sort(() => rand() - 0.5)
  const cache = new InMemoryLRUCache<unknown>({ engine, maxsize: size, defaultTtl: 0 })
  const lru = new LRUCache<string, object>({ max: size })
  for (const k of keys) {
    cache.sync.set(k, VALUE)
    lru.set(k, VALUE)
  }
  const internals = cache as unknown as { store: { get(k: string): unknown; engine: { get(k: string): unknown; binding?: { get(h: number, k: string): number }; handle?: number; now?: Float64Array } } }
  const store = internals.store
  const impl = store.engine
  const sync = (name: string, target: unknown): Case => {
    const loop = compileGetLoop()
    const cur: Cursor = { pos: 0 }
    return { name, opsPerCall: OPS, run: () => loop(target, order, OPS, cur) }
  }
  const awaited = (name: string, target: unknown): Case => {
    const loop = compileAsyncGetLoop()
    const cur: Cursor = { pos: 0 }
    return { name, opsPerCall: OPS, run: () => loop(target, order, OPS, cur) }
  }
  const cases: Case[] = []
  if (impl.binding !== undefined) {
    const b = impl.binding
    const h = impl.handle!
    const now = impl.now!
    cases.push(sync('binding.get (slot only)', { get: (k: string) => { now[0] = 1; return b.get(h, k) >= 0 ? 1 : undefined } }))
  }
  cases.push(sync(`engine get (${cache.engine})`, impl), sync('store get', store), sync('cache.sync.get', cache.sync), sync('lru-cache get', lru))
  cases.push(awaited('await cache.get', cache), awaited('await lru-cache get', lru))
  const results = await measure(cases, { time, warmupTime: 100, rounds })
  const ns = (name: string) => results.find((r) => r.name.startsWith(name))!.ns
  console.log(`\n${size.toLocaleString('en')} entries, get hit, ${cache.engine} engine (median ns/get, p25–p75)`)
  for (const r of results) console.log(`  ${r.name.padEnd(24)} ${r.ns.toFixed(1).padStart(7)}  ${r.p25.toFixed(1)}–${r.p75.toFixed(1)}`)
  console.log(`  sync.get / engine get: ${(ns('cache.sync.get') / ns('engine get')).toFixed(2)}x   await get / await lru-cache: ${(ns('await cache.get') / ns('await lru-cache')).toFixed(2)}x`)
  await cache.close()
}

void main()
