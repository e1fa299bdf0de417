/**
 * Single-operation speed of every sync cache on identical inputs: get hit (16- and
 * 128-char keys), get miss, set with eviction, Zipf(0.99) 90/10 read/write, and get hit
 * with a TTL for the caches that have one. Each run checks its hit count: a cache that
 * stops hitting fails the bench instead of looking fast.
 */
import type { BenchConfig } from '../config'
import { type Lineup, put, type SyncCompetitor, type SyncInstance } from '../competitors'
import { type Case, measure } from '../harness'
import { compileGetLoop, compileMixedLoop, compileSetLoop, type Cursor } from '../loops'
import { makeKeys, opStream, shuffled, zipfStream } from '../prng'
import type { Section, Table } from '../table'

const VALUE = { id: 1, name: 'value' }
const TTL_MS = 3_600_000

function fill(inst: SyncInstance, keys: readonly string[]): void {
  for (const k of keys) put(inst, k, VALUE)
}

export interface ScenarioRow {
  scenario: string
  competitor: string
  ns: number
  p25: number
  p75: number
  opsPerSec: number
  samples: number
  hitPct?: number
}

function nsTable(title: string, note: string, rows: ScenarioRow[], withHit = false): Table {
  const ref = rows.find((r) => r.competitor === 'lru-cache')
  const sorted = rows.slice().sort((a, b) => a.ns - b.ns)
  return {
    title,
    note,
    columns: ['cache', 'ns/op (median)', 'p25–p75', 'ops/s', 'vs lru-cache', ...(withHit ? ['hit %'] : []), 'samples'],
    rows: sorted.map((r) => [
      r.competitor,
      r.ns,
      `${r.p25.toFixed(1)}–${r.p75.toFixed(1)}`,
      r.opsPerSec,
      ref ? `${(r.ns / ref.ns).toFixed(2)}×` : null,
      ...(withHit ? [r.hitPct === undefined ? null : r.hitPct.toFixed(2)] : []),
      r.samples,
    ]),
  }
}

export async function runThroughput(cfg: BenchConfig, lineup: Lineup, log: (s: string) => void): Promise<{ section: Section; rows: ScenarioRow[] }> {
  const C = cfg.capacity
  const N = cfg.opsPerCall
  const h = { time: cfg.time, warmupTime: cfg.warmupTime, rounds: cfg.rounds }
  const keys16 = makeKeys(C, 16, cfg.seed, 'h')
  const keys128 = makeKeys(C, 128, cfg.seed + 1, 'h')
  const missKeys = makeKeys(C, 16, cfg.seed + 2, 'm')
  const setKeys = makeKeys(4 * C, 16, cfg.seed + 3, 's') // 4C > quick-lru's 2C: every set is a new key
  const rows: ScenarioRow[] = []
  const tables: Table[] = []
  const notes: string[] = []

  async function scenario(
    id: string,
    title: string,
    note: string,
    comps: SyncCompetitor[],
    build: (c: SyncCompetitor) => { inst: SyncInstance; run: () => number; hitPct?: number },
  ): Promise<void> {
    if (cfg.only && !cfg.only.has('throughput') && !cfg.only.has(id) && !cfg.only.has(id.split('-')[0])) return
    log(`  ${title}`)
    const built = comps.map((c) => ({ c, ...build(c) }))
    const cases: Case[] = built.map((b) => ({ name: b.c.name, opsPerCall: N, run: b.run }))
    const res = await measure(cases, h)
    const these: ScenarioRow[] = res.map((m) => ({
      scenario: id,
      competitor: m.name,
      ns: m.ns,
      p25: m.p25,
      p75: m.p75,
      opsPerSec: m.opsPerSec,
      samples: m.samples,
      hitPct: built.find((b) => b.c.name === m.name)!.hitPct,
    }))
    for (const b of built) b.inst.close()
    rows.push(...these)
    tables.push(nsTable(title, note, these, these.some((r) => r.hitPct !== undefined)))
  }

  const expectHits = (name: string, got: number, want: number, what: string) => {
    if (got !== want) throw new Error(`${name}: ${what}: expected ${want} hits in a run of ${N}, saw ${got}`)
  }

  for (const [len, keys] of [
    [16, keys16],
    [128, keys128],
  ] as const) {
    const order = shuffled(keys, cfg.seed + len)
    await scenario(
      `get-hit-k${len}`,
      `get hit, ${len}-char keys, ${C.toLocaleString('en-US')} entries, no TTL`,
      `every get finds its key (checked each run); keys in random order; capacity ${C.toLocaleString('en-US')}.`,
      lineup.sync,
      (c) => {
        const inst = c.create(C, 0)
        fill(inst, keys)
        const loop = compileGetLoop()
        const cur: Cursor = { pos: 0 }
        return {
          inst,
          run: () => {
            const hits = loop(inst.target, order, N, cur)
            expectHits(c.name, hits, N, 'get hit')
            return hits
          },
        }
      },
    )
  }

  await scenario(
    'get-hit-ttl',
    `get hit with a TTL (1 h, never reached), 16-char keys, ${C.toLocaleString('en-US')} entries`,
    'only caches with per-entry TTL; each checks a deadline on every get (lru-cache: ttl option, astra: set ttlMs).',
    lineup.sync.filter((c) => c.supportsTtl),
    (c) => {
      const inst = c.create(C, TTL_MS)
      fill(inst, keys16)
      const loop = compileGetLoop()
      const order = shuffled(keys16, cfg.seed + 7)
      const cur: Cursor = { pos: 0 }
      return {
        inst,
        run: () => {
          const hits = loop(inst.target, order, N, cur)
          expectHits(c.name, hits, N, 'get hit (ttl)')
          return hits
        },
      }
    },
  )

  await scenario(
    'get-miss',
    `get miss, 16-char keys, full cache of ${C.toLocaleString('en-US')}`,
    'no get finds its key (checked each run).',
    lineup.sync,
    (c) => {
      const inst = c.create(C, 0)
      fill(inst, keys16)
      const loop = compileGetLoop()
      const cur: Cursor = { pos: 0 }
      return {
        inst,
        run: () => {
          const hits = loop(inst.target, missKeys, N, cur)
          expectHits(c.name, hits, 0, 'get miss')
          return hits
        },
      }
    },
  )

  await scenario(
    'set-evict',
    `set with eviction, 16-char keys, full cache of ${C.toLocaleString('en-US')}`,
    `every set inserts a key not in the cache (cycling over ${(4 * C).toLocaleString('en-US')} keys) and evicts one; size checked after.`,
    lineup.sync,
    (c) => {
      const inst = c.create(C, 0)
      fill(inst, keys16)
      const loop = compileSetLoop(inst.setArg !== undefined)
      const cur: Cursor = { pos: 0 }
      return {
        inst,
        run: () => {
          const n = loop(inst.target, setKeys, N, cur, VALUE, inst.setArg)
          if (c.exactLru && inst.size() !== C) throw new Error(`${c.name}: size ${inst.size()} after set-evict, capacity ${C}`)
          return n
        },
      }
    },
  )

  if (!cfg.only || cfg.only.has('throughput') || cfg.only.has('zipf')) {
    const z = cfg.zipf
    log(`  preparing Zipf(${z.s}) stream: ${z.stream.toLocaleString('en-US')} ops over ${z.universe.toLocaleString('en-US')} keys`)
    const zkeys = makeKeys(z.universe, 16, cfg.seed + 11, 'z')
    const idx = zipfStream(z.universe, z.s, z.stream, cfg.seed + 12)
    const ops = opStream(z.stream, z.writeShare, cfg.seed + 13)
    let reads = 0
    for (let i = 0; i < ops.length; i++) if (ops[i] === 0) reads++
    await scenario(
      'zipf-mixed',
      `mixed 90% read (get, set on miss) / 10% set, Zipf(${z.s}) keys, capacity ${z.capacity.toLocaleString('en-US')} over ${z.universe.toLocaleString('en-US')} keys`,
      'reads are cache-aside (get, then set on a miss), so the cache stays full and evicts; same seeded key and op stream for all; hit % = hits / reads over one full pass after a warm-up pass.',
      lineup.sync,
      (c) => {
        const inst = c.create(z.capacity, 0)
        const loop = compileMixedLoop(inst.setArg !== undefined)
        const cur: Cursor = { pos: 0 }
        loop(inst.target, zkeys, idx, ops, z.stream, cur, VALUE, inst.setArg) // warm-up pass fills the cache
        const hits = loop(inst.target, zkeys, idx, ops, z.stream, cur, VALUE, inst.setArg)
        return { inst, hitPct: (100 * hits) / reads, run: () => loop(inst.target, zkeys, idx, ops, N, cur, VALUE, inst.setArg) }
      },
    )
    const exact = rows.filter((r) => r.scenario === 'zipf-mixed' && lineup.sync.find((c) => c.name === r.competitor)?.exactLru)
    const distinct = new Set(exact.map((r) => r.hitPct?.toFixed(6)))
    notes.push(
      distinct.size <= 1
        ? `Zipf check: every exact LRU saw the same hit ratio (${exact[0]?.hitPct?.toFixed(2)} %).`
        : `Zipf check FAILED: exact LRUs disagree on hit ratio: ${exact.map((r) => `${r.competitor} ${r.hitPct?.toFixed(3)}`).join(', ')}`,
    )
  }
  for (const c of lineup.sync) if (c.note) notes.push(`${c.name}: ${c.note}.`)
  return { section: { id: 'throughput', title: 'Single-operation speed (sync caches)', tables, notes }, rows }
}
