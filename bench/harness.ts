/**
 * Timing on tinybench. One tinybench sample = one call of a case's `run`, which performs
 * `opsPerCall` operations (a timer read costs ~50 ns here, as much as the operation we
 * measure, so single-op samples would measure the clock). ns/op = sample / opsPerCall.
 * Every run returns a number (hits seen) that goes into a sink, so nothing is dead code.
 */
import { Bench } from 'tinybench'
import { quantile } from './stats'

export interface Case {
  name: string
  opsPerCall: number
  run: () => number | Promise<number>
}

export interface Measured {
  name: string
  /** median ns per operation */
  ns: number
  p25: number
  p75: number
  opsPerSec: number
  samples: number
}

export interface HarnessOptions {
  /** ms of samples per case per round */
  time: number
  warmupTime: number
  /** rounds over all cases, order rotated each round, samples pooled: evens out drift on a busy machine */
  rounds: number
}

let sink = 0
/** Read by index.ts at the end so the results are observably used. */
export function sinkValue(): number {
  return sink
}

export async function measure(cases: Case[], o: HarnessOptions): Promise<Measured[]> {
  const pooled = new Map<string, number[]>()
  for (const c of cases) pooled.set(c.name, [])
  for (let round = 0; round < o.rounds; round++) {
    const order = cases.map((_, i) => cases[(i + round) % cases.length])
    const bench = new Bench({
      time: o.time,
      warmupTime: o.warmupTime,
      iterations: 8,
      warmupIterations: 4,
      retainSamples: true,
      throws: true,
    })
    for (const c of order) {
      // first call tells sync from async (and primes the code)
      const r = c.run()
      const isAsync = r instanceof Promise
      if (isAsync) sink += await r
      else sink += r
      bench.add(
        c.name,
        isAsync
          ? async () => {
              sink += await (c.run() as Promise<number>)
            }
          : () => {
              sink += c.run() as number
            },
        { async: isAsync },
      )
    }
    await bench.run()
    for (const t of bench.tasks) {
      const res = t.result
      if (res.state !== 'completed') throw new Error(`bench case ${t.name} did not complete: ${res.state}`)
      const c = cases.find((x) => x.name === t.name)!
      const samples = res.latency.samples ?? []
      const out = pooled.get(t.name)!
      // ms per call -> ns per op
      for (const s of samples) out.push((s * 1e6) / c.opsPerCall)
    }
  }
  return cases.map((c) => {
    const xs = Float64Array.from(pooled.get(c.name)!).sort()
    const ns = quantile(xs, 0.5)
    return { name: c.name, ns, p25: quantile(xs, 0.25), p75: quantile(xs, 0.75), opsPerSec: 1e9 / ns, samples: xs.length }
  })
}
