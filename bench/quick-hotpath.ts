/**
 * The native hot path against the per-call design and the JS peers, all in one run:
 * ns per get hit, per set with eviction, and per key of getMany(100); 10k keys of 16 chars.
 *   npx tsx bench/quick-hotpath.ts
 * (Not a test; the full benchmark is `npm run bench`. docs/native-hotpath.md has the results.)
 */
import { LRUCache } from 'lru-cache'
import { coarseClock } from '../src/memory/clock'
import type { Engine } from '../src/memory/engine'
import { JsEngine } from '../src/memory/js-engine'
import { NativeCallEngine, NativeEngine } from '../src/memory/native-engine'
import { loadNative } from '../src/native'

const N = 10_000
const B = 100
const TTL_MS = 60_000
const ROUNDS = Number(process.env.ROUNDS ?? 15)
const keys = Array.from({ length: N }, (_, i) => `key:${String(i).padStart(12, '0')}`) // 16 chars
const missKeys = Array.from({ length: N }, (_, i) => `new:${String(i).padStart(12, '0')}`)
const batches: string[][] = []
for (let i = 0; i < N; i += B) batches.push(keys.slice(i, i + B))

interface Subject {
  name: string
  get(k: string): unknown
  set(k: string, v: number): void
  getMany?(ks: readonly string[]): unknown[]
}

/** Best-of-ROUNDS ns per op of fn doing `ops` ops (best filters out GC and noise). */
function measure(ops: number, fn: () => void): number {
  let best = Infinity
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint()
    fn()
    const ns = Number(process.hrtime.bigint() - t0) / ops
    if (ns < best) best = ns
  }
  return best
}

function run(s: Subject): Record<string, string> {
  for (let i = 0; i < N; i++) s.set(keys[i], i)
  let sink = 0
  const getHit = measure(N * 10, () => {
    for (let j = 0; j < 10; j++) for (let i = 0; i < N; i++) sink += s.get(keys[i]) as number
  })
  const gets100 = measure(N * 10, () => {
    for (let j = 0; j < 10; j++)
      for (const b of batches) {
        const out = new Array(b.length)
        for (let i = 0; i < b.length; i++) out[i] = s.get(b[i])
        sink += out.length
      }
  })
  const many = s.getMany
    ? measure(N * 10, () => {
        for (let j = 0; j < 10; j++) for (const b of batches) sink += (s.getMany!(b)[0] as number) ?? 0
      })
    : NaN
  let flip = false
  const setEvict = measure(N, () => {
    const ks = flip ? keys : missKeys
    flip = !flip
    for (let i = 0; i < N; i++) s.set(ks[i], i)
  })
  if (sink === -1) console.log(sink)
  return {
    subject: s.name,
    'get hit': getHit.toFixed(1),
    '100 gets, per key': gets100.toFixed(1),
    'getMany(100), per key': Number.isNaN(many) ? '' : many.toFixed(1),
    'set+evict': setEvict.toFixed(1),
  }
}

function engineSubject(name: string, e: Engine<number>, ttlMs: number): Subject {
  return { name, get: (k) => e.get(k), set: (k, v) => e.set(k, v, ttlMs), getMany: (ks) => e.getMany(ks) }
}

const makers: (() => Subject)[] = []
for (const ttl of [0, TTL_MS]) {
  const label = ttl === 0 ? 'no ttl' : 'ttl 60s'
  makers.push(() => {
    const c = new LRUCache<string, number>(ttl === 0 ? { max: N } : { max: N, ttl })
    return { name: `lru-cache (${label})`, get: (k) => c.get(k), set: (k, v) => void c.set(k, v) }
  })
  makers.push(() => engineSubject(`js engine (${label})`, new JsEngine<number>({ capacity: N, clock: coarseClock }), ttl))
  if (loadNative()) {
    makers.push(() => engineSubject(`native hot path (${label})`, new NativeEngine<number>({ capacity: N, clock: coarseClock }), ttl))
    makers.push(() => engineSubject(`native per-call (${label})`, new NativeCallEngine<number>({ capacity: N, clock: coarseClock }), ttl))
  }
}
makers.push(() => {
  const m = new Map<string, number>()
  return { name: 'JS Map (floor, no LRU)', get: (k) => m.get(k), set: (k, v) => void m.set(k, v) }
})

const only = process.argv[2]
const rows = makers.map((make) => make()).filter((s) => !only || s.name.includes(only)).map(run)
console.log(`node ${process.version}, ${N} keys of 16 chars, ns per op (per key for batches), best of ${ROUNDS} rounds`)
console.table(rows)
