/**
 * What the public API costs on top of the engine: sync engine get vs `await cache.get`, and
 * the batch calls getMany/setMany(100) against 100 single calls, and what a dispose option costs
 * on a set that evicts, and what the synchronous face costs over the engine's get. ns are per key throughout.
 */
import type { Cache } from '../../src/contract/cache'
import type { BenchConfig } from '../config'
import { type Lineup, put, type SyncInstance } from '../competitors'
import { type Case, measure } from '../harness'
import { compileAsyncGetLoop, compileBatchGetLoop, compileBatchOfGetsLoop, compileGetLoop, type Cursor } from '../loops'
import { makeKeys } from '../prng'
import { measureSyncFace } from './sync-face'
import type { Cell, Section, Table } from '../table'

const VALUE = { id: 1, name: 'value' }
const STRING_VALUE = JSON.stringify(VALUE)

export interface ApiRow {
  scenario: string
  competitor: string
  ns: number
  p25: number
  p75: number
  opsPerSec: number
}

function table(title: string, note: string, rows: ApiRow[]): Table {
  const ref = rows.find((r) => r.competitor.startsWith('lru-cache'))
  return {
    title,
    note,
    columns: ['what', 'ns/key (median)', 'p25–p75', 'keys/s', 'vs lru-cache'],
    rows: rows
      .slice()
      .sort((a, b) => a.ns - b.ns)
      .map((r) => [r.competitor, r.ns, `${r.p25.toFixed(1)}–${r.p75.toFixed(1)}`, r.opsPerSec, ref ? `${(r.ns / ref.ns).toFixed(2)}×` : null]),
  }
}

export async function runApi(cfg: BenchConfig, lineup: Lineup, log: (s: string) => void): Promise<{ section: Section; rows: ApiRow[] }> {
  const C = cfg.capacity
  const N = cfg.opsPerCall
  const B = cfg.batch
  const h = { time: cfg.time, warmupTime: cfg.warmupTime, rounds: cfg.rounds }
  const keys = makeKeys(C, 16, cfg.seed, 'h')
  const batches: string[][] = []
  for (let i = 0; i + B <= keys.length; i += B) batches.push(keys.slice(i, i + B))
  const entryBatches = batches.map((b) => b.map((k) => [k, VALUE] as [string, unknown]))
  const notes: string[] = []
  const rows: ApiRow[] = []
  const tables: Table[] = []
  const closers: (() => unknown)[] = []
  const toRows = (scenario: string, res: Awaited<ReturnType<typeof measure>>) =>
    res.map((m) => ({ scenario, competitor: m.name, ns: m.ns, p25: m.p25, p75: m.p75, opsPerSec: m.opsPerSec }))
  const check = (name: string, got: number, want: number) => {
    if (got !== want) throw new Error(`${name}: expected ${want} hits, saw ${got}`)
  }

  const lru = lineup.sync.find((c) => c.name === 'lru-cache')!
  const engines = lineup.sync.filter((c) => c.group === 'astra')
  const syncInst = new Map<string, SyncInstance>()
  for (const c of [lru, ...engines]) {
    const inst = c.create(C, 0)
    for (const k of keys) put(inst, k, VALUE)
    syncInst.set(c.name, inst)
    closers.push(() => inst.close())
  }
  const asyncInst = new Map<string, Cache<unknown>>()
  for (const a of lineup.async) {
    const cache = a.create(C, 0)
    for (const b of entryBatches) await cache.setMany(b)
    asyncInst.set(a.name, cache)
    closers.push(() => cache.close())
  }
  if (lineup.async.length === 0) notes.push('the async Cache API (InMemoryLRUCache) is not available yet: only sync rows are shown.')

  // 1. get hit: sync engine vs awaited Cache API
  log('  get hit: sync vs await')
  {
    const cases: Case[] = []
    for (const [name, inst] of syncInst) {
      const loop = compileGetLoop()
      const cur: Cursor = { pos: 0 }
      cases.push({ name: `${name} get (sync)`, opsPerCall: N, run: () => { const x = loop(inst.target, keys, N, cur); check(name, x, N); return x } })
    }
    for (const [name, cache] of asyncInst) {
      const loop = compileAsyncGetLoop()
      const cur: Cursor = { pos: 0 }
      cases.push({ name: `${name} await get`, opsPerCall: N, run: async () => { const x = await loop(cache, keys, N, cur); check(name, x, N); return x } })
    }
    if (lineup.serialized) {
      // Serialized storage with string values: stored as they are, one copy out per hit.
      const cache = lineup.serialized.create(C, 0)
      for (const b of batches) await cache.setMany(b.map((k) => [k, STRING_VALUE] as [string, unknown]))
      closers.push(() => cache.close())
      const loop = compileAsyncGetLoop()
      const cur: Cursor = { pos: 0 }
      const name = lineup.serialized.name
      cases.push({ name: `${name} await get (string values)`, opsPerCall: N, run: async () => { const x = await loop(cache, keys, N, cur); check(name, x, N); return x } })
    }
    {
      // The peer awaited too: the public-API ratio compares like with like.
      const loop = compileAsyncGetLoop()
      const cur: Cursor = { pos: 0 }
      const target = syncInst.get(lru.name)!.target
      cases.push({ name: `${lru.name} await get`, opsPerCall: N, run: async () => { const x = await loop(target, keys, N, cur); check(lru.name, x, N); return x } })
    }
    const res = await measure(cases, h)
    rows.push(...toRows('get-hit-sync-vs-async', res))
    tables.push(table('get hit: sync engine vs `await cache.get()`', `the difference is the async API (validation, promise, await); ${C.toLocaleString('en-US')} entries, 16-char keys.`, toRows('', res)))
  }

  // 2. getMany(100) per key vs 100 gets
  log(`  getMany(${B}) vs ${B} gets`)
  {
    const cases: Case[] = []
    const nb = Math.max(1, Math.round(N / B))
    for (const [name, inst] of syncInst) {
      const loop = compileBatchOfGetsLoop()
      const cur: Cursor = { pos: 0 }
      cases.push({ name: `${name} ${B}× get (sync)`, opsPerCall: nb * B, run: () => loop(inst.target, batches, nb, cur) as number })
      if (inst.getMany) {
        const t = { getMany: inst.getMany }
        const bl = compileBatchGetLoop(false)
        const cur2: Cursor = { pos: 0 }
        cases.push({ name: `${name} getMany(${B}) (sync)`, opsPerCall: nb * B, run: () => { const x = bl(t, batches, nb, cur2) as number; check(name, x, nb * B); return x } })
      }
    }
    for (const [name, cache] of asyncInst) {
      const bl = compileBatchGetLoop(true)
      const cur: Cursor = { pos: 0 }
      cases.push({ name: `${name} await getMany(${B})`, opsPerCall: nb * B, run: async () => { const x = await (bl(cache, batches, nb, cur) as Promise<number>); check(name, x, nb * B); return x } })
    }
    const res = await measure(cases, h)
    rows.push(...toRows('getMany', res))
    tables.push(table(`getMany(${B}) per key vs ${B} single gets`, 'ns per key; all keys hit (checked each run).', toRows('', res)))
  }

  // 3. setMany(100) per key vs 100 sets (keys present: update path, no eviction)
  log(`  setMany(${B}) vs ${B} sets`)
  {
    const cases: Case[] = []
    const nb = Math.max(1, Math.round(N / B))
    for (const [name, inst] of syncInst) {
      let pos = 0
      const t = inst.target
      const a = inst.setArg
      cases.push({
        name: `${name} ${B}× set (sync)`,
        opsPerCall: nb * B,
        run: () => {
          for (let i = 0; i < nb; i++) {
            const b = batches[pos]
            for (let j = 0; j < b.length; j++) t.set(b[j], VALUE, a)
            if (++pos === batches.length) pos = 0
          }
          return nb
        },
      })
    }
    for (const [name, cache] of asyncInst) {
      let pos = 0
      cases.push({
        name: `${name} await setMany(${B})`,
        opsPerCall: nb * B,
        run: async () => {
          for (let i = 0; i < nb; i++) {
            await cache.setMany(entryBatches[pos])
            if (++pos === entryBatches.length) pos = 0
          }
          return nb
        },
      })
      let pos2 = 0
      cases.push({
        name: `${name} ${B}× await set`,
        opsPerCall: nb * B,
        run: async () => {
          for (let i = 0; i < nb; i++) {
            const b = batches[pos2]
            for (let j = 0; j < b.length; j++) await cache.set(b[j], VALUE)
            if (++pos2 === batches.length) pos2 = 0
          }
          return nb
        },
      })
    }
    const res = await measure(cases, h)
    rows.push(...toRows('setMany', res))
    tables.push(table(`setMany(${B}) per key vs ${B} single sets`, 'ns per key; keys already present (update path, no eviction).', toRows('', res)))
  }
  // 4. dispose: what the option costs where removals happen (every set evicts), unused and used
  log('  dispose: unused vs used')
  {
    const cases: Case[] = []
    const fresh = makeKeys(4 * C, 16, cfg.seed + 1, 'd')
    let disposed = 0
    const dispose = () => {
      disposed++
    }
    const subjects = [...lineup.async, ...(lineup.serialized ? [lineup.serialized] : [])]
    for (const a of subjects) {
      for (const [label, extra] of [['no dispose', {}], ['with dispose', { dispose }]] as const) {
        const cache = a.create(C, 0, extra)
        for (const b of entryBatches) await cache.setMany(b)
        closers.push(() => cache.close())
        let pos = 0
        cases.push({
          name: `${a.name} await set, evicting, ${label}`,
          opsPerCall: N,
          run: async () => {
            for (let i = 0; i < N; i++) {
              await cache.set(fresh[pos], VALUE)
              if (++pos === fresh.length) pos = 0
            }
            return N
          },
        })
      }
    }
    const res = await measure(cases, h)
    if (disposed === 0 && subjects.length > 0) throw new Error('dispose: no entry was disposed')
    rows.push(...toRows('dispose', res))
    tables.push(table('dispose: set with eviction, without and with a dispose option', `ns per set; every set evicts (${C.toLocaleString('en-US')} entries, new keys); "with dispose" calls a function that counts.`, toRows('', res)))
  }
  // 5. the synchronous face: cache.sync.get vs the engine's own get and lru-cache's get
  {
    const sizes = cfg.quick ? [C] : [10_000, 1_000_000]
    const fmt = (x: number) => `${x.toFixed(2)}×`
    const out: Cell[][] = []
    for (const engine of ['native', 'js'] as const) {
      for (const size of sizes) {
        log(`  sync face: ${engine}, ${size.toLocaleString('en-US')} entries`)
        const r = await measureSyncFace(engine, size, h)
        const sync = r.ns('cache.sync.get')
        for (const m of r.results) rows.push({ scenario: `sync-face-${engine}-${size}`, competitor: m.name, ns: m.ns, p25: m.p25, p75: m.p75, opsPerSec: m.opsPerSec })
        out.push([`astra ${r.engine}`, size, r.ns('engine get'), sync, r.ns('lru-cache get'), fmt(sync / r.ns('engine get')), fmt(sync / r.ns('lru-cache get')), r.ns('await cache.get')])
      }
    }
    tables.push({
      title: 'get hit: `cache.sync.get` vs the engine\'s own get and lru-cache\'s get',
      note: 'ns per get (median); 16-char keys looked up in an order unrelated to insertion; every case of one size in one process, interleaved. Target: `cache.sync.get` ≤ 1.1× the engine\'s get.',
      columns: ['engine', 'entries', 'engine get', 'cache.sync.get', 'lru-cache get', 'sync / engine', 'sync / lru-cache', 'await cache.get'],
      rows: out,
    })
  }
  for (const close of closers) await close()
  return { section: { id: 'api', title: 'Async API overhead and batches', tables, notes }, rows }
}
