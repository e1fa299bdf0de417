/** Command line of `npm run bench -- [options]`. */
import * as path from 'node:path'

/** One trace at one capacity, as `trace@capacity` on the command line. */
export interface TraceCell {
  trace: string
  capacity: number
}

export interface BenchArgs {
  quick: boolean
  tracesDir?: string
  lruNative2: boolean
  only?: Set<string>
  outDir: string
  help: boolean
  /** trace@capacity cells whose W-TinyLFU window climber is printed sample by sample */
  climber?: TraceCell[]
}

export const USAGE = `npm run bench -- [options]
  --quick             small sizes, a few seconds per suite (what CI runs)
  --traces DIR        directory with the *.keys.gz traces (also ASTRA_TRACES_DIR);
                      default ../shared/traces, then __test__/fixtures/traces
  --only LIST         comma-separated suites or scenarios: throughput, api, memory, scale,
                      hit-ratio, policies, redis, extras, get-hit-k16, get-hit-k128, get-hit-ttl,
                      get-miss, set-evict, zipf
  --no-lru-native2    do not install/build lru-native2 (installed outside the repo otherwise)
  --out DIR           where results go (default bench/results)
  --climber LIST      comma-separated trace@capacity cells (e.g. gli@253,synth-recency@1857):
                      with the hit-ratio section, print W-TinyLFU's window size after every
                      sample of its climber on those cells
  --help`

function parseCell(text: string): TraceCell {
  const m = /^\s*([^@\s]+)@(\d+)\s*$/.exec(text)
  if (m === null || Number(m[2]) < 1) throw new Error(`bench: --climber takes trace@capacity cells, got ${JSON.stringify(text)}\n${USAGE}`)
  return { trace: m[1], capacity: Number(m[2]) }
}

export function parseArgs(argv: string[]): BenchArgs {
  const a: BenchArgs = {
    quick: false,
    lruNative2: true,
    outDir: path.join(__dirname, 'results'),
    help: false,
    tracesDir: process.env.ASTRA_TRACES_DIR || undefined,
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = () => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`bench: ${arg} needs a value\n${USAGE}`)
      return v
    }
    if (arg === '--quick') a.quick = true
    else if (arg === '--traces') a.tracesDir = path.resolve(value())
    else if (arg === '--only') a.only = new Set(value().split(',').map((s) => s.trim()).filter(Boolean))
    else if (arg === '--no-lru-native2') a.lruNative2 = false
    else if (arg === '--out') a.outDir = path.resolve(value())
    else if (arg === '--climber') a.climber = value().split(',').map(parseCell)
    else if (arg === '--help' || arg === '-h') a.help = true
    else throw new Error(`bench: unknown argument ${JSON.stringify(arg)}\n${USAGE}`)
  }
  return a
}
