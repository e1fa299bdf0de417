/** Command line of `npm run bench -- [options]`. */
import * as path from 'node:path'

export interface BenchArgs {
  quick: boolean
  tracesDir?: string
  lruNative2: boolean
  only?: Set<string>
  outDir: string
  help: boolean
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
  --help`

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
    else if (arg === '--help' || arg === '-h') a.help = true
    else throw new Error(`bench: unknown argument ${JSON.stringify(arg)}\n${USAGE}`)
  }
  return a
}
