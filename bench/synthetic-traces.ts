/**
 * Synthetic access traces with the shapes that hurt frequency-based eviction: recency that
 * frequency does not predict, loops a little larger than the cache, a hot set that moves.
 * Deterministic: integer PRNG (mulberry32) and + − × ÷ only (no Math.pow / log, whose last
 * bit may differ between platforms), so every machine generates the same keys; the
 * reference hit ratios in bench/trace-reference.json were computed from these sequences by
 * the reference simulator, and `traceChecksum` pins them.
 *
 * `npx tsx bench/synthetic-traces.ts --out DIR` writes them as DIR/<name>.keys.gz (the
 * format of the real traces: one decimal key per line) for an outside simulator.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { gzipSync } from 'node:zlib'
import { mulberry32 } from './prng'

export interface SyntheticTrace {
  name: string
  /** What the trace models and which policy it is hard on. */
  shape: string
  generate(): string[]
}

/**
 * The LRU stack model: each request re-uses the key at recency rank `d` of a stack of the
 * last `depth` distinct keys (moving it to the top), or, with probability 1/`newEvery`, a
 * key never seen before. `d = floor(depth × u²)` concentrates re-use on recent keys, so
 * what matters is how recently a key was used, not how often: LRU is the right policy and
 * a frequency filter keeps stale keys that were popular once.
 */
function stackPhase(out: string[], requests: number, depth: number, newEvery: number, rand: () => number, fresh: () => number): void {
  const stack = new Int32Array(depth)
  let len = 0
  for (let i = 0; i < requests; i++) {
    let key: number
    let d: number
    if (len === 0 || rand() * newEvery < 1) {
      key = fresh()
      d = Math.min(len, depth - 1)
      if (len < depth) len++
    } else {
      const u = rand()
      d = Math.floor(len * u * u)
      key = stack[d]
    }
    stack.copyWithin(1, 0, d)
    stack[0] = key
    out.push(String(key))
  }
}

/** `passes` sequential passes over `length` new keys. */
function loopPhase(out: string[], length: number, passes: number, fresh: () => number): void {
  const first = fresh()
  for (let k = 1; k < length; k++) fresh()
  for (let p = 0; p < passes; p++) for (let k = 0; k < length; k++) out.push(String(first + k))
}

/** Cumulative weights 1/1, 1/2, ... 1/n (Zipf with exponent 1), normalised to 1. */
function harmonicCdf(n: number): Float64Array {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let r = 0; r < n; r++) {
    sum += 1 / (r + 1)
    cdf[r] = sum
  }
  for (let r = 0; r < n; r++) cdf[r] /= sum
  return cdf
}

function rankOf(cdf: Float64Array, u: number): number {
  let lo = 0
  let hi = cdf.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (cdf[mid] < u) lo = mid + 1
    else hi = mid
  }
  return lo
}

function counter(start: number): () => number {
  let next = start
  return () => next++
}

export const SYNTHETIC_TRACES: SyntheticTrace[] = [
  {
    name: 'synth-mixture',
    shape: 'half the requests to a steady hot set of 500 keys (a tenth of the 10 % capacity), half to keys used 4 times, 200 new keys apart (about 1,200 distinct keys between two uses: a quarter of the 10 % capacity; the trap of Caffeine\'s "mixture" family): the hot set makes the main space look dense while LRU catches every re-use',
    generate() {
      const out: string[] = []
      const rand = mulberry32(0x5e4)
      const hot = 500
      const gap = 200
      const uses = 4
      let step = 0
      let use = 0
      for (let i = 0; i < 400_000; i++) {
        if (rand() < 0.5) {
          out.push(String(1 + Math.floor(rand() * hot)))
          continue
        }
        // Each step of the stream is a new key, then the next use of the keys 1, 2, ...
        // `uses - 1` gaps before it.
        const key = step - use * gap
        if (key >= 0) out.push(String(hot + 1 + key))
        use++
        if (use === uses || key < 0) {
          use = 0
          step++
        }
      }
      return out
    },
  },
  {
    name: 'synth-recency',
    shape: 'LRU stack model: re-use of the last 2,400 distinct keys (a working set a little above the 10 % capacity), biased to the most recent; 1 request in 16 is a new key',
    generate() {
      const out: string[] = []
      stackPhase(out, 300_000, 2_400, 16, mulberry32(0x5e1), counter(1))
      return out
    },
  },
  {
    name: 'synth-loop-recency',
    shape: 'alternating phases: 6 passes of a loop 11 % longer than the 10 % capacity (LRU misses every request), then 60,000 requests of the recency model (depth 1,400, 1 request in 40 new) over new keys',
    generate() {
      const out: string[] = []
      const rand = mulberry32(0x5e2)
      const fresh = counter(1)
      for (let phase = 0; phase < 4; phase++) {
        loopPhase(out, 1_200, 6, fresh)
        stackPhase(out, 60_000, 1_400, 40, rand, fresh)
      }
      return out
    },
  },
  {
    name: 'synth-hot-shift',
    shape: 'a Zipf(1) hot set of 2,500 keys takes 85 % of requests, the rest is uniform over 20,000 cold keys; every 40,000 requests the hot set is replaced by new keys',
    generate() {
      const out: string[] = []
      const rand = mulberry32(0x5e3)
      const cdf = harmonicCdf(2_500)
      const cold = 20_000
      for (let phase = 0; phase < 8; phase++) {
        const hotBase = cold + 1 + phase * 2_500
        for (let i = 0; i < 40_000; i++) {
          if (rand() < 0.85) out.push(String(hotBase + rankOf(cdf, rand())))
          else out.push(String(1 + Math.floor(rand() * cold)))
        }
      }
      return out
    },
  },
]

/** FNV-1a over the keys joined by newlines (the .keys format): pins a generator's output. */
export function traceChecksum(keys: readonly string[]): string {
  let h = 0x811c9dc5
  for (const k of keys) {
    for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193)
    h = Math.imul(h ^ 10, 0x01000193)
  }
  return (h >>> 0).toString(16).padStart(8, '0')
}

export function findSynthetic(name: string): SyntheticTrace | undefined {
  return SYNTHETIC_TRACES.find((t) => t.name === name)
}

function main(argv: string[]): void {
  const i = argv.indexOf('--out')
  if (i < 0 || argv[i + 1] === undefined) {
    process.stderr.write('usage: npx tsx bench/synthetic-traces.ts --out DIR\n')
    process.exit(2)
  }
  const dir = path.resolve(argv[i + 1])
  mkdirSync(dir, { recursive: true })
  for (const t of SYNTHETIC_TRACES) {
    const keys = t.generate()
    const file = path.join(dir, `${t.name}.keys.gz`)
    writeFileSync(file, gzipSync(`${keys.join('\n')}\n`))
    process.stdout.write(`${file}: ${keys.length} requests, ${new Set(keys).size} unique keys, checksum ${traceChecksum(keys)}\n`)
  }
}

if (require.main === module) main(process.argv.slice(2))
