/**
 * What the synchronous face costs: `cache.sync.get` (a hit) against the engine's own get under
 * it and against lru-cache's get, at 10k and 1M entries, with `await cache.get` for scale. All
 * in one process, cases interleaved in rotated rounds, so the ratios are what to read.
 *
 *   npx tsx bench/sync-face.ts [engine=native|js] [sizes=10000,1000000] [time ms per case per round=300] [rounds=5]
 */
import { LRUCache } from 'lru-cache'
import { InMemoryLRUCache } from '../src'
import { type Case, measure, sinkValue } from './harness'
import { compileAsyncGetLoop, compileGetLoop, type Cursor } from './loops'
import { makeKeys, mulberry32 } from './prng'

const engine = (process.argv[2] ?? 'native') as 'native' | 'js'
const sizes = (process.argv[3] ?? '10000,1000000').split(',').map(Number)
const time = Number(process.argv[4] ?? 300)
const rounds = Number(process.argv[5] ?? 5)
const OPS = 1000
const VALUE = { id: 1, name: 'value' }

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice()
  const rand = mulberry32(seed)
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

async function main(): Promise<void> {
  for (const size of sizes) {
    const keys = makeKeys(size, 16, 42, 's')
    const order = shuffled(keys, 7) // lookups in an order unrelated to insertion
    const cache = new InMemoryLRUCache<unknown>({ engine, maxsize: size, defaultTtl: 0 })
    const lru = new LRUCache<string, object>({ max: size })
    for (const k of keys) {
      cache.sync.set(k, VALUE)
      lru.set(k, VALUE)
    }
    const engineImpl = (cache as unknown as { impl: { get(k: string): unknown } }).impl
    const getCase = (name: string, target: unknown): Case => {
      const loop = compileGetLoop()
      const cur: Cursor = { pos: 0 }
      return { name, opsPerCall: OPS, run: () => loop(target, order, OPS, cur) }
    }
    const asyncLoop = compileAsyncGetLoop()
    const asyncCur: Cursor = { pos: 0 }
    const cases: Case[] = [
      getCase(`engine get (${cache.engine})`, engineImpl),
      getCase('cache.sync.get', cache.sync),
      getCase('lru-cache get', lru),
      { name: 'await cache.get', opsPerCall: OPS, run: () => asyncLoop(cache, order, OPS, asyncCur) },
    ]
    const results = await measure(cases, { time, warmupTime: 100, rounds })
    const ns = (name: string) => results.find((r) => r.name.startsWith(name))!.ns
    console.log(`\n${size.toLocaleString('en')} entries, get hit, ${cache.engine} engine (median ns/get, p25–p75)`)
    for (const r of results) {
      console.log(`  ${r.name.padEnd(22)} ${r.ns.toFixed(1).padStart(7)}  ${r.p25.toFixed(1)}–${r.p75.toFixed(1)}`)
    }
    console.log(`  sync.get / engine get: ${(ns('cache.sync.get') / ns('engine get')).toFixed(2)}x   sync.get / lru-cache get: ${(ns('cache.sync.get') / ns('lru-cache get')).toFixed(2)}x   await get / sync.get: ${(ns('await cache.get') / ns('cache.sync.get')).toFixed(2)}x`)
    await cache.close()
  }
  if (sinkValue() === -1) console.log('')
}

void main()
