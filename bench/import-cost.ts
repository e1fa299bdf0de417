/**
 * What importing the package costs, each sample in a fresh `node` process (no tsx, the built
 * dist/): the time `require('astra-cache')` / `import('astra-cache')` takes, the JS heap it
 * adds (after a full GC, against the same process before the import) and the heap in use then and whether ioredis
 * or prom-client were loaded. Build first (`npm run build:ts`).
 *
 *   npx tsx bench/import-cost.ts [samples=15] [entry...]   entries: '.', './redis', ... (default: '.')
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'

const ROOT = path.resolve(__dirname, '..')
const manifest = require('../package.json') as { exports: Record<string, Record<'import' | 'require', { default: string }>> }

interface Sample {
  ms: number
  heapMB: number
  /** heapUsed after the import and a full GC. */
  heapUsedMB: number
  heavy: string[]
}

/** One fresh process importing `file` by `how`; prints a Sample as JSON. */
function sample(file: string, how: 'require' | 'import'): Sample {
  const load = how === 'require' ? `require(${JSON.stringify(file)})` : `await import(${JSON.stringify(require('node:url').pathToFileURL(file).href)})`
  const code = `
    const { performance } = require('node:perf_hooks')
    ;(async () => {
      gc(); const before = process.memoryUsage().heapUsed
      const t0 = performance.now()
      ${load}
      const ms = performance.now() - t0
      gc(); const after = process.memoryUsage().heapUsed; const heapMB = (after - before) / 2 ** 20; const heapUsedMB = after / 2 ** 20
      const heavy = ['ioredis', 'prom-client'].filter((name) => Object.keys(require.cache).some((f) => f.includes('/node_modules/' + name + '/')))
      console.log(JSON.stringify({ ms, heapMB, heapUsedMB, heavy }))
    })()`
  const out = execFileSync(process.execPath, ['--expose-gc', '-e', code], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  return JSON.parse(out.trim().split('\n').pop()!) as Sample
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]

function main(): void {
  const args = process.argv.slice(2)
  const samples = /^\d+$/.test(args[0] ?? '') ? Number(args.shift()) : 15
  const entries = args.length > 0 ? args : ['.']
  console.log(`import cost, median of ${samples} fresh processes (node ${process.version})`)
  console.log('entry'.padEnd(16), 'how'.padEnd(8), 'ms'.padStart(8), '+heap MB'.padStart(9), 'heapUsed'.padStart(9), '  loaded')
  for (const entry of entries) {
    for (const how of ['require', 'import'] as const) {
      const file = path.join(ROOT, manifest.exports[entry][how].default)
      if (!existsSync(file)) throw new Error(`${file} is not built: npm run build:ts`)
      const runs = Array.from({ length: samples }, () => sample(file, how))
      const heavy = [...new Set(runs.flatMap((r) => r.heavy))].join(', ') || 'neither ioredis nor prom-client'
      console.log(entry.padEnd(16), how.padEnd(8), median(runs.map((r) => r.ms)).toFixed(1).padStart(8), median(runs.map((r) => r.heapMB)).toFixed(2).padStart(9), median(runs.map((r) => r.heapUsedMB)).toFixed(2).padStart(9), ' ', heavy)
    }
  }
}

main()
