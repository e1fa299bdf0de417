/**
 * The sync-face rows of the api section on their own, for any engine and sizes:
 *
 *   npx tsx bench/sync-face.ts [engine=native|js] [sizes=10000,1000000] [time ms per case per round=300] [rounds=5]
 */
import { sinkValue } from './harness'
import { measureSyncFace } from './suites/sync-face'

const engine = (process.argv[2] ?? 'native') as 'native' | 'js'
const sizes = (process.argv[3] ?? '10000,1000000').split(',').map(Number)
const time = Number(process.argv[4] ?? 300)
const rounds = Number(process.argv[5] ?? 5)

async function main(): Promise<void> {
  for (const size of sizes) {
    const r = await measureSyncFace(engine, size, { time, warmupTime: 100, rounds })
    console.log(`\n${size.toLocaleString('en')} entries, get hit, ${r.engine} engine (median ns/get, p25–p75)`)
    for (const m of r.results) console.log(`  ${m.name.padEnd(22)} ${m.ns.toFixed(1).padStart(7)}  ${m.p25.toFixed(1)}–${m.p75.toFixed(1)}`)
    console.log(`  sync.get / engine get: ${(r.ns('cache.sync.get') / r.ns('engine get')).toFixed(2)}x   sync.get / lru-cache get: ${(r.ns('cache.sync.get') / r.ns('lru-cache get')).toFixed(2)}x   await get / sync.get: ${(r.ns('await cache.get') / r.ns('cache.sync.get')).toFixed(2)}x`)
  }
  if (sinkValue() === -1) console.log('')
}

void main()
