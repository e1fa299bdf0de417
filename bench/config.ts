import type { TraceCell } from './args'

/** Sizes and time budgets: full mode for the README, --quick for CI (seconds, not minutes). */
export interface BenchConfig {
  quick: boolean
  /** tinybench time per case per round, ms */
  time: number
  warmupTime: number
  rounds: number
  /** operations per tinybench sample */
  opsPerCall: number
  /** capacity for get/set scenarios */
  capacity: number
  zipf: { capacity: number; universe: number; stream: number; s: number; writeShare: number }
  batch: number
  memory: { entries: number; churnOps: number }
  /** scale scenario: sizes (with the value kinds tried at each), request-loop seconds, child timeout */
  scale: { sizes: { entries: number; values: ('string100' | 'object')[] }[]; seconds: number; timeoutSeconds: number }
  /** trace names replayed in this mode */
  traces: string[]
  tracesDir?: string
  lruNative2: boolean
  only?: Set<string>
  outDir: string
  seed: number
  /** cells whose W-TinyLFU climber the hit-ratio section prints sample by sample */
  climber?: TraceCell[]
}

export function makeConfig(o: {
  quick: boolean
  tracesDir?: string
  lruNative2: boolean
  only?: Set<string>
  outDir: string
  climber?: TraceCell[]
}): BenchConfig {
  const common = { tracesDir: o.tracesDir, lruNative2: o.lruNative2, only: o.only, outDir: o.outDir, climber: o.climber, seed: 0x5eed, batch: 100, opsPerCall: 1000 }
  if (o.quick) {
    return {
      ...common,
      quick: true,
      time: 120,
      warmupTime: 40,
      rounds: 1,
      capacity: 10_000,
      zipf: { capacity: 10_000, universe: 100_000, stream: 200_000, s: 0.99, writeShare: 0.1 },
      memory: { entries: 100_000, churnOps: 200_000 },
      scale: { sizes: [{ entries: 100_000, values: ['string100', 'object'] }], seconds: 1, timeoutSeconds: 120 },
      traces: ['gli', 'web12'],
    }
  }
  return {
    ...common,
    quick: false,
    time: 700,
    warmupTime: 200,
    rounds: 3,
    capacity: 100_000,
    zipf: { capacity: 100_000, universe: 1_000_000, stream: 2_000_000, s: 0.99, writeShare: 0.1 },
    memory: { entries: 1_000_000, churnOps: 2_000_000 },
    scale: {
      sizes: [
        { entries: 1_000_000, values: ['string100', 'object'] },
        { entries: 10_000_000, values: ['string100', 'object'] },
        { entries: 20_000_000, values: ['string100'] },
      ],
      seconds: 8,
      // lru-cache fills 10M entries in ~33 s here: 300 s is 9x that (mnemonist never finished 10M in 900 s either).
      timeoutSeconds: 300,
    },
    traces: ['gli', 'web12', 'oltp', 'orm-busy'],
  }
}
