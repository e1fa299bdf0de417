/**
 * The machine-wide cache (InMemoryLRUCache.shared(name, { scope: 'machine' })), in one run:
 * - get hit of a 100-byte string: machine-wide vs in-process serialized storage vs RedisCache
 *   on loopback (a redis-server started here), one caller, rounds interleaved;
 * - aggregate get throughput of 1, 2 and 4 processes on one segment (common start signal);
 * - memory of 1, 2 and 4 attached processes: Rss and Pss (/proc/<pid>/smaps_rollup; Pss
 *   splits a shared page between the processes mapping it, so the segment counts once);
 * - hit ratio of 4 cluster workers on one Zipf workload: one shared cache vs 4 private
 *   caches of a quarter of the size each.
 * Run alone: npx tsx bench/shared-memory.ts [--quick]   (Linux only)
 */
import cluster from 'node:cluster'
import { fork, type ChildProcess } from 'node:child_process'
import { availableParallelism, loadavg } from 'node:os'
import * as path from 'node:path'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { RedisCache } from '../src/redis/redis-cache'
import { redisServerAvailable, startRedis } from '../__test__/helpers/redis-server'
import { renderText, type Section, type Table } from './table'

const CHILD = path.join(__dirname, 'shared-memory-child.ts')
const DIR = '/dev/shm'
const keyOf = (i: number) => `key:${String(i).padStart(12, '0')}`
const value100 = (i: number) => Buffer.from(`${i}:`.padEnd(100, 'x'), 'latin1').toString('latin1')

interface Cacheish {
  get(key: string): Promise<unknown>
  set(key: string, value: string): Promise<void>
  close(): Promise<void>
}

async function fill(c: Cacheish, keys: number): Promise<void> {
  for (let i = 0; i < keys; i++) await c.set(keyOf(i), value100(i))
}

/** ns per awaited get hit, best of `rounds` runs of `n` gets. */
async function nsPerGet(c: Cacheish, keys: number, n: number): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await c.get(keyOf((i * 7919) % keys))
  return ((performance.now() - t0) * 1e6) / n
}

function start(input: object): ChildProcess {
  return fork(CHILD, [JSON.stringify(input)], { execArgv: ['--import=tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
}

const next = <T>(c: ChildProcess) => new Promise<T>((resolve, reject) => (c.once('message', (m) => resolve(m as T)), c.once('error', reject)))

/** Aggregate gets/s by wall time, and the sum of each process's gets per CPU-second (what the processes reach with a core each). */
async function throughput(name: string, params: object, keys: number, gets: number, processes: number, priv = false): Promise<{ wall: number; cpu: number }> {
  const children = Array.from({ length: processes }, () => start({ mode: 'gets', name, dir: DIR, params, keys, gets, private: priv }))
  await Promise.all(children.map((c) => next(c)))
  const done = children.map((c) => next<{ ms: number; cpuMs: number }>(c))
  children.forEach((c) => c.send({ go: true }))
  const results = await Promise.all(done)
  return { wall: (processes * gets) / (Math.max(...results.map((r) => r.ms)) / 1000), cpu: results.reduce((a, r) => a + gets / (r.cpuMs / 1000), 0) }
}

async function memory(name: string, params: object, keys: number, processes: number): Promise<{ rss: number; pss: number }> {
  const children = Array.from({ length: processes }, () => start({ mode: 'rss', name, dir: DIR, params, keys }))
  const r = await Promise.all(children.map((c) => next<{ rss: number; pss: number }>(c)))
  children.forEach((c) => c.send({ exit: true }))
  return { rss: r.reduce((a, x) => a + x.rss, 0), pss: r.reduce((a, x) => a + x.pss, 0) }
}

async function clusterHitRatio(input: object, workers: number): Promise<number> {
  cluster.setupPrimary({ exec: CHILD, execArgv: ['--import=tsx'], args: [] })
  const reports = await Promise.all(
    Array.from({ length: workers }, (_, i) => {
      const w = cluster.fork({ MACHINE_BENCH: JSON.stringify({ ...input, seed: i + 1 }) })
      return new Promise<{ hits: number; gets: number }>((resolve) => w.once('message', resolve))
    }),
  )
  return reports.reduce((a, r) => a + r.hits, 0) / reports.reduce((a, r) => a + r.gets, 0)
}

export async function sharedMemorySection(opts: { quick?: boolean } = {}): Promise<Section> {
  const quick = opts.quick ?? process.argv.includes('--quick')
  const notes: string[] = []
  const tables: Table[] = []
  if (process.platform !== 'linux') return { id: 'shared-memory', title: 'Machine-wide cache', tables, notes: ['skipped: Linux only'] }
  const keys = quick ? 10_000 : 100_000
  const params = { maxsize: keys, maxBytes: keys * 256, shards: 16 }
  const name = `bench-machine-${process.pid}`
  const machine = InMemoryLRUCache.shared<string>(name, { scope: 'machine', dir: DIR, ...params, defaultTtl: 0 })
  try {
    await fill(machine, keys)

    // 1. get hit latency, one process
    const local = new InMemoryLRUCache<string>({ maxsize: keys, storage: 'serialized', defaultTtl: 0 })
    await fill(local, keys)
    const contenders: [string, Cacheish][] = [['machine-wide (scope: machine)', machine], ['in-process serialized storage', local]]
    const redisOk = redisServerAvailable()
    const server = redisOk.available ? await startRedis() : undefined
    let redis: RedisCache<string> | undefined
    if (server) {
      redis = new RedisCache<string>({ redisUrl: server.url, defaultTtl: 0 })
      await fill(redis, Math.min(keys, 10_000))
    } else notes.push(`RedisCache row skipped: ${redisOk.reason}`)
    const n = quick ? 100_000 : 500_000
    const best = new Map<string, number>()
    for (let round = 0; round < 3; round++) {
      for (const [label, c] of contenders) best.set(label, Math.min(best.get(label) ?? Infinity, await nsPerGet(c, keys, n)))
      if (redis) best.set('RedisCache (loopback)', Math.min(best.get('RedisCache (loopback)') ?? Infinity, await nsPerGet(redis, Math.min(keys, 10_000), quick ? 5_000 : 20_000)))
    }
    await redis?.close()
    await server?.stop()
    await local.close()
    const machineNs = best.get('machine-wide (scope: machine)')!
    tables.push({
      title: `get hit, 100-byte string, 16-char keys, ${keys.toLocaleString('en-US')} entries, one caller`,
      note: 'await cache.get(key) in a loop; best of 3 interleaved rounds. "vs machine-wide" = that row\'s ns / the machine-wide ns.',
      columns: ['cache', 'ns per get', 'vs machine-wide'],
      rows: [...best].map(([label, ns]) => [label, ns, `${(ns / machineNs).toFixed(2)}×`]),
    })

    // 2. aggregate throughput, 1 / 2 / 4 processes
    const counts = [1, 2, 4]
    const gets = quick ? 300_000 : 2_000_000
    const tput = counts.map(() => ({ wall: 0, cpu: 0 }))
    // The same loop in 1 and 2 processes with private in-process caches: nothing shared, so
    // their ratio is what this machine (cores, load) allows; the shared rows compare with it.
    const ref = [1, 2].map(() => ({ wall: 0, cpu: 0 }))
    const better = (a: { wall: number; cpu: number }, b: { wall: number; cpu: number }) => ({ wall: Math.max(a.wall, b.wall), cpu: Math.max(a.cpu, b.cpu) })
    for (let round = 0; round < (quick ? 2 : 3); round++) {
      for (let i = 0; i < counts.length; i++) tput[i] = better(tput[i], await throughput(name, params, keys, gets, counts[i]))
      for (let i = 0; i < ref.length; i++) ref[i] = better(ref[i], await throughput(name, params, keys, gets, i + 1, true))
    }
    const load = loadavg()[0]
    const cores = availableParallelism()
    notes.push(`load average ${load.toFixed(1)} on ${cores} cores during this run: wall-clock scaling needs idle cores; the CPU-time column is what the processes reach with a core each.`)
    tables.push({
      title: `aggregate get throughput, ${gets.toLocaleString('en-US')} get hits per process on one segment (${cores} cores)`,
      note: 'Each process times its own loop from a common start message; wall = all gets / the slowest process\'s time; CPU = Σ each process\'s gets per CPU-second (contention shows as more CPU per get); best of rounds, interleaved. "private" rows: each process its own in-process serialized cache, nothing shared: how far this machine lets 2 processes scale at the time.',
      columns: ['processes', 'M gets/s wall', 'wall vs 1', 'M gets/s by CPU time', 'CPU vs 1'],
      rows: [
        ...counts.map((c, i) => [String(c), tput[i].wall / 1e6, `${(tput[i].wall / tput[0].wall).toFixed(2)}×`, tput[i].cpu / 1e6, `${(tput[i].cpu / tput[0].cpu).toFixed(2)}×`]),
        ...ref.map((r, i) => [`${i + 1}, private caches`, r.wall / 1e6, `${(r.wall / ref[0].wall).toFixed(2)}×`, r.cpu / 1e6, `${(r.cpu / ref[0].cpu).toFixed(2)}×`]),
      ],
    })

    // 3. memory
    const segmentMiB = (machine.segmentStats()?.segmentBytes ?? 0) / 2 ** 20
    const mem: (string | number)[][] = []
    for (const c of counts) {
      const m = await memory(name, params, keys, c)
      mem.push([String(c), m.rss / 1024, m.pss / 1024, (m.pss / 1024 - segmentMiB) / c])
    }
    tables.push({
      title: `memory of attached processes (segment ${segmentMiB.toFixed(1)} MiB, every key read by every process)`,
      note: 'Sums over the processes of /proc/<pid>/smaps_rollup. Rss counts the segment in every process; Pss splits it between them, so the sum counts it once.',
      columns: ['processes', 'Σ Rss MiB', 'Σ Pss MiB', 'Pss MiB per process without the segment'],
      rows: mem,
    })

    // 4. hit ratio, 4 cluster workers on Zipf
    const universe = quick ? 50_000 : 200_000
    const cap = Math.floor(universe / 20)
    const zipfGets = quick ? 50_000 : 200_000
    const sharedParams = { maxsize: cap, maxBytes: cap * 256, shards: 4 }
    const sharedName = `${name}-zipf`
    const shared = await clusterHitRatio({ mode: 'zipf', name: sharedName, dir: DIR, params: sharedParams, universe, gets: zipfGets }, 4)
    InMemoryLRUCache.removeShared(sharedName, { dir: DIR })
    const priv = await clusterHitRatio({ mode: 'zipf', name: 'unused', dir: DIR, params: { ...sharedParams, maxsize: cap / 4 }, private: true, universe, gets: zipfGets }, 4)
    tables.push({
      title: `hit ratio, 4 cluster workers, Zipf(0.9) over ${universe.toLocaleString('en-US')} keys, ${zipfGets.toLocaleString('en-US')} gets each (set on miss)`,
      note: `one machine-wide cache of ${cap.toLocaleString('en-US')} entries vs 4 private caches of ${(cap / 4).toLocaleString('en-US')} (same total size)`,
      columns: ['caches', 'hit %'],
      rows: [
        ['1 machine-wide, shared by the 4 workers', 100 * shared],
        ['4 private (one per worker)', 100 * priv],
      ],
    })
  } finally {
    await machine.close()
    InMemoryLRUCache.removeShared(name, { dir: DIR })
  }
  return { id: 'shared-memory', title: 'Machine-wide cache (shared memory, several processes)', tables, notes }
}

if (require.main === module) {
  void sharedMemorySection().then((s) => {
    for (const n of s.notes) process.stdout.write(`note: ${n}\n`)
    for (const t of s.tables) process.stdout.write(`${renderText(t)}\n\n`)
    process.exit(0)
  })
}
