/**
 * One process of the machine-wide cache bench (bench/shared-memory.ts), forked directly or
 * as a cluster worker. Argument (or MACHINE_BENCH env for cluster workers): JSON
 *   { mode: 'gets', name, dir, params, keys, gets, private? } -> waits for {go}, runs `gets` get hits, reports {ms, cpuMs, hits}
 *   { mode: 'rss', name, dir, params, keys }              -> reads every key, reports {rss, pss} in kB, waits for {exit}
 *   { mode: 'zipf', name, dir, params, private, universe, gets, seed } -> get, set on miss; reports {hits, gets}
 */
import cluster from 'node:cluster'
import { readFileSync } from 'node:fs'
import { InMemoryLRUCache } from '../src/memory/memory-cache'
import { zipfStream } from './prng'

interface Input {
  mode: 'gets' | 'rss' | 'zipf'
  name: string
  dir: string
  params: { maxsize: number; maxBytes: number; shards: number }
  keys: number
  gets: number
  private?: boolean
  universe?: number
  seed?: number
}

const input = JSON.parse(process.argv[2] ?? process.env.MACHINE_BENCH ?? '{}') as Input
const send = (m: object) => process.send!(m)
const keyOf = (i: number) => `key:${String(i).padStart(12, '0')}`

function rollup(): { rss: number; pss: number } {
  const text = readFileSync('/proc/self/smaps_rollup', 'utf8')
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN)
  return { rss: kb('Rss'), pss: kb('Pss') }
}

async function main(): Promise<void> {
  const cache = input.private
    ? new InMemoryLRUCache<string>({ maxsize: input.params.maxsize, storage: 'serialized', defaultTtl: 0 })
    : InMemoryLRUCache.shared<string>(input.name, { scope: 'machine', dir: input.dir, ...input.params, defaultTtl: 0 })
  if (input.mode === 'gets') {
    const keys = Array.from({ length: input.keys }, (_, i) => keyOf(i))
    // A private cache (the bench's reference for how far this machine lets processes scale) starts empty.
    if (input.private) for (const k of keys) await cache.set(k, 'x'.repeat(100))
    for (let i = 0; i < 10_000; i++) await cache.get(keys[i % keys.length]) // warm up
    send({ ready: true })
    await new Promise<void>((r) => process.once('message', () => r()))
    let hits = 0
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    for (let i = 0; i < input.gets; i++) if ((await cache.get(keys[(i * 7919) % keys.length])) !== undefined) hits++
    const cpu = process.cpuUsage(cpu0)
    send({ ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, hits })
  } else if (input.mode === 'rss') {
    for (let i = 0; i < input.keys; i++) await cache.get(keyOf(i))
    send(rollup())
    await new Promise<void>((r) => process.once('message', () => r()))
  } else {
    const seed = input.seed ?? (cluster.isWorker ? cluster.worker!.id : 1)
    const stream = zipfStream(input.universe!, 0.9, input.gets, 4242) // one popularity for every worker
    const offset = Math.floor((seed * 0x9e3779b1) % input.gets)
    let hits = 0
    for (let i = 0; i < input.gets; i++) {
      const key = keyOf(stream[(i + offset) % input.gets])
      if ((await cache.get(key)) !== undefined) hits++
      else await cache.set(key, 'v'.repeat(100))
    }
    send({ hits, gets: input.gets })
  }
  await cache.close()
  process.disconnect?.()
}

void main()
