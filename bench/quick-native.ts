/**
 * Quick per-op numbers for the memory engines, all in the same run:
 * ns per get-hit and per set-with-eviction, 10k keys of 16 characters.
 *   npx tsx bench/quick-native.ts
 * (Not a test; the full benchmark is `npm run bench`.)
 */
import { LRUCache } from 'lru-cache'
import { coarseClock } from '../src/memory/clock'
import type { Engine } from '../src/memory/engine'
import { JsEngine } from '../src/memory/js-engine'
import { NativeEngine } from '../src/memory/native-engine'
import { loadNative, nativeArea } from '../src/native'

const N = 10_000
const TTL_MS = 60_000
const ROUNDS = 15
/** A flat (sequential) string, as one read from a socket would be: not a rope. */
const flat = (s: string) => Buffer.from(s, 'latin1').toString('latin1')
const keys = Array.from({ length: N }, (_, i) => flat(`key:${String(i).padStart(12, '0')}`)) // 16 chars
const missKeys = Array.from({ length: N }, (_, i) => flat(`new:${String(i).padStart(12, '0')}`))

interface Subject {
  name: string
  get(k: string): unknown
  set(k: string, v: number): void
}

/** Best-of-ROUNDS ns per call of fn over `ops` calls (best filters out GC and noise). */
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

function run(subject: Subject): { getHit: number; setEvict: number } {
  for (let i = 0; i < N; i++) subject.set(keys[i], i)
  let sink = 0
  const getHit = measure(N * 10, () => {
    for (let j = 0; j < 10; j++) for (let i = 0; i < N; i++) sink += subject.get(keys[i]) as number
  })
  // Alternating between two disjoint key sets: every set inserts a new key into a full cache.
  let flip = false
  const setEvict = measure(N, () => {
    const ks = flip ? keys : missKeys
    flip = !flip
    for (let i = 0; i < N; i++) subject.set(ks[i], i)
  })
  if (sink === -1) console.log(sink)
  return { getHit, setEvict }
}

function engineSubject(name: string, engine: Engine<number>, ttlMs: number): Subject {
  return { name, get: (k) => engine.get(k), set: (k, v) => engine.set(k, v, ttlMs) }
}

const subjects: (() => Subject)[] = []
for (const ttl of [0, TTL_MS]) {
  const label = ttl === 0 ? 'no ttl' : 'ttl 60s'
  subjects.push(() => {
    const c = new LRUCache<string, number>(ttl === 0 ? { max: N } : { max: N, ttl, ttlAutopurge: false })
    return { name: `lru-cache (${label})`, get: (k) => c.get(k), set: (k, v) => void c.set(k, v) }
  })
  subjects.push(() => engineSubject(`js engine (${label})`, new JsEngine<number>({ capacity: N, clock: coarseClock }), ttl))
  if (loadNative()) {
    subjects.push(() => engineSubject(`native engine (${label})`, new NativeEngine<number>({ capacity: N, clock: coarseClock }), ttl))
  }
}

const rows: Record<string, string>[] = subjects.map((make) => {
  const s = make()
  const r = run(s)
  return { subject: s.name, 'get hit ns': r.getHit.toFixed(1), 'set+evict ns': r.setEvict.toFixed(1) }
})

// The boundary's share: the raw binding without the adapter, and the bare call floor.
const b = loadNative()
if (b) {
  const h = b.create(N, 0, 0, 0)
  nativeArea(b).now[0] = 1
  for (const k of keys) b.set(h, k, 0)
  let sink = 0
  const rawGet = measure(N * 10, () => {
    for (let j = 0; j < 10; j++) for (let i = 0; i < N; i++) sink += b.get(h, keys[i])
  })
  const floor = measure(N * 10, () => {
    for (let j = 0; j < 10; j++) for (let i = 0; i < N; i++) sink += b.size(h)
  })
  const map = new Map(keys.map((k, i) => [k, i]))
  const mapGet = measure(N * 10, () => {
    for (let j = 0; j < 10; j++) for (let i = 0; i < N; i++) sink += map.get(keys[i]) as number
  })
  if (sink === -1) console.log(sink)
  b.close(h)
  rows.push({ subject: 'binding get (no adapter)', 'get hit ns': rawGet.toFixed(1), 'set+evict ns': '' })
  rows.push({ subject: 'binding size(h): call floor', 'get hit ns': floor.toFixed(1), 'set+evict ns': '' })
  rows.push({ subject: 'JS Map.get', 'get hit ns': mapGet.toFixed(1), 'set+evict ns': '' })
}
console.log(`node ${process.version}, ${N} keys of 16 chars, best of ${ROUNDS} rounds`)
console.table(rows)
