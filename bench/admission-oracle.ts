/**
 * How far a better admission filter could take the adaptive W-TinyLFU (issue 18, docs/policies.md
 * "Why the mean stays near +3"): the 12 real cells replayed as the hit-ratio section does (JS
 * engine, get then set on a miss, seed 4), once as shipped and once with admission replaced by
 * an oracle that reads the future: the candidate enters exactly when it is requested again
 * before the victim. Window, segments and climber are unchanged.
 *   npx tsx bench/admission-oracle.ts [--traces DIR]
 */
import { createEngine } from '../src/memory/engine-choice'
import { keyHash } from '../src/memory/policies/hash'
import type { EnginePolicy } from '../src/memory/policies/policy'
import { TinyLfuPolicy } from '../src/memory/policies/tinylfu'
import { POLICY_SEED } from './suites/policy-hit-ratio'
import { findTrace, loadReference, readTrace, traceDirs } from './traces'

/** Request index of each key's next use, by key hash, as of the request being replayed. */
const nextUse = new Map<number, number>()

type Admit = (this: { hashes: Uint32Array }, candidate: number, victim: number) => boolean
const proto = TinyLfuPolicy.prototype as unknown as { admit: Admit }
const sketchAdmit = proto.admit
const oracleAdmit: Admit = function (candidate, victim) {
  const next = (slot: number) => nextUse.get(this.hashes[slot]) ?? Infinity
  return next(candidate) < next(victim)
}

function replay(keys: string[], next: Int32Array, capacity: number, policy: EnginePolicy): number {
  const engine = createEngine<number>('js', { capacity, clock: () => 0, policy, policySeed: POLICY_SEED })
  let hits = 0
  for (let i = 0; i < keys.length; i++) {
    nextUse.set(keyHash(keys[i], POLICY_SEED), next[i])
    if (engine.get(keys[i]) !== undefined) hits++
    else engine.set(keys[i], 1, 0)
  }
  engine.close()
  nextUse.clear()
  return (100 * hits) / keys.length
}

function nextIndexes(keys: string[]): Int32Array {
  const next = new Int32Array(keys.length)
  const seen = new Map<string, number>()
  for (let i = keys.length - 1; i >= 0; i--) {
    next[i] = seen.get(keys[i]) ?? 0x7fffffff
    seen.set(keys[i], i)
  }
  return next
}

/** One cell: hit ratios in percent of LRU, the shipped W-TinyLFU and W-TinyLFU with the oracle's admission. */
export function admissionOracle(keys: string[], capacity: number): { lru: number; sketch: number; oracle: number } {
  const next = nextIndexes(keys)
  const lru = replay(keys, next, capacity, 'lru')
  const sketch = replay(keys, next, capacity, 'tinylfu')
  proto.admit = oracleAdmit
  try {
    return { lru, sketch, oracle: replay(keys, next, capacity, 'tinylfu') }
  } finally {
    proto.admit = sketchAdmit
  }
}

function main(): void {
  const dirArg = process.argv.indexOf('--traces')
  const dirs = traceDirs(dirArg > 0 ? process.argv[dirArg + 1] : undefined)
  const sums = { sketch: 0, oracle: 0 }
  let cells = 0
  console.log('| trace @ capacity | LRU % | W-TinyLFU − LRU | with the oracle − LRU |\n|---|---:|---:|---:|')
  // the real traces at the hit-ratio section's percentage capacities (bench/trace-reference.json)
  for (const [name, ref] of Object.entries(loadReference())) {
    if (ref.generator !== undefined) continue
    const file = findTrace(name, dirs)
    if (file === undefined) throw new Error(`trace ${name}.keys.gz not found in ${dirs.join(', ')} (give --traces DIR)`)
    const keys = readTrace(file)
    for (const { capacity } of ref.percentCapacities) {
      const { lru, sketch, oracle } = admissionOracle(keys, capacity)
      sums.sketch += sketch - lru
      sums.oracle += oracle - lru
      cells++
      console.log(`| ${name} @ ${capacity.toLocaleString('en-US')} | ${lru.toFixed(2)} | ${(sketch - lru).toFixed(2)} | ${(oracle - lru).toFixed(2)} |`)
    }
  }
  console.log(`| **mean, ${cells} cells** | | **${(sums.sketch / cells).toFixed(2)}** | **${(sums.oracle / cells).toFixed(2)}** |`)
}

if (require.main === module) main()
