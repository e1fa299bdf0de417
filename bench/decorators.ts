/**
 * What cached() costs on a hit, over a direct `await cache.get(key)` on the same cache,
 * measured in the same run (tinybench via bench/harness.ts).
 *
 *   npx tsx bench/decorators.ts            (or import runDecoratorBench from bench/index.ts)
 *
 * Every case awaits OPS sequential calls that all hit; ns/op = sample / OPS.
 */
import { cached } from '../src/decorators'
import { loadNative } from '../src/native'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { measure, sinkValue, type Case, type Measured } from './harness'
import { machineInfo, machineLine } from './machine'
import { renderText, type Table } from './table'

const OPS = 200

export interface DecoratorBenchRow {
  engine: 'js' | 'native'
  case: string
  ns: number
  overheadNs: number
}

function casesFor(engine: 'js' | 'native'): Case[] {
  const cache = new InMemoryLRUCache<unknown>({ engine, defaultTtl: 0 })
  const user = { id: '42', name: 'Ada' }
  const viaKeyFn = cached({ cache, keyFn: (id: string) => `user:${id}` })(async function getUser(id: string) {
    return user.id === id ? user : undefined
  })
  const viaKeyFnNoTimer = cached({ cache, keyFn: (id: string) => `user:${id}`, timeoutMs: Infinity })(async function getUser(id: string) {
    return user.id === id ? user : undefined
  })
  const viaDefaultKey = cached({ cache })(async function getUser(id: string) {
    return user.id === id ? user : undefined
  })
  const viaObjectArg = cached({ cache })(async function search(query: { q: string; page: number; tags: string[] }) {
    return query
  })
  const query = { q: 'ada', page: 2, tags: ['math', 'history'] }
  const loop = (call: () => Promise<unknown>) => async () => {
    let hits = 0
    for (let i = 0; i < OPS; i++) if ((await call()) !== undefined) hits++
    return hits
  }
  return [
    { name: `${engine}: await cache.get(key)`, opsPerCall: OPS, run: loop(() => cache.get('user:42')) },
    { name: `${engine}: cached keyFn hit`, opsPerCall: OPS, run: loop(() => viaKeyFn('42')) },
    { name: `${engine}: cached keyFn hit, timeoutMs: Infinity`, opsPerCall: OPS, run: loop(() => viaKeyFnNoTimer('42')) },
    { name: `${engine}: cached default key hit (1 string arg)`, opsPerCall: OPS, run: loop(() => viaDefaultKey('42')) },
    { name: `${engine}: cached default key hit (object arg)`, opsPerCall: OPS, run: loop(() => viaObjectArg(query)) },
  ]
}

export async function runDecoratorBench(options = { time: 300, warmupTime: 100, rounds: 3 }): Promise<{ rows: DecoratorBenchRow[]; table: Table }> {
  const engines: ('js' | 'native')[] = loadNative() !== null ? ['js', 'native'] : ['js']
  const rows: DecoratorBenchRow[] = []
  for (const engine of engines) {
    const cases = casesFor(engine)
    // Fill the cache through each function once so every measured call is a hit.
    for (const c of cases) await c.run()
    const measured: Measured[] = await measure(cases, options)
    const direct = measured.find((m) => m.name.endsWith('await cache.get(key)'))!.ns
    for (const m of measured) rows.push({ engine, case: m.name.slice(engine.length + 2), ns: m.ns, overheadNs: m.ns - direct })
  }
  const table: Table = {
    title: 'cached() hit vs direct cache.get (median ns per call, same run)',
    note: `Each sample awaits ${OPS} sequential hits on an InMemoryLRUCache; overhead = case - direct await cache.get on the same cache.`,
    columns: ['engine', 'case', 'ns/call', 'overhead ns'],
    rows: rows.map((r) => [r.engine, r.case, Math.round(r.ns), Math.round(r.overheadNs)]),
  }
  return { rows, table }
}

if (require.main === module) {
  runDecoratorBench()
    .then(({ table }) => {
      process.stdout.write(`${renderText(table)}\n  machine: ${machineLine(machineInfo())}\n  (sink ${sinkValue()})\n`)
    })
    .catch((error: unknown) => {
      console.error(error)
      process.exitCode = 1
    })
}
