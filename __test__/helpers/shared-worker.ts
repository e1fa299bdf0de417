/**
 * A worker_threads body for the shared-cache tests and bench: opens
 * InMemoryLRUCache.shared(name, options), runs an op list (or a seeded random mix) against
 * it, and posts back what it issued, so the parent can check the shared counters add up.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { InMemoryLRUCache } from '../../src/memory/memory-cache'

export type SharedOp = [kind: 'get' | 'set' | 'invalidate' | 'has', key: number]

export interface SharedWorkerInput {
  name: string
  options: Record<string, unknown>
  /** explicit ops, or `random` for a seeded mix */
  ops?: SharedOp[]
  random?: { seed: number; count: number; keys: number; setShare: number; invalidateShare: number }
  /** wait for this many workers to be ready before starting (an Int32Array over a SharedArrayBuffer) */
  barrier?: Int32Array
  /** close the cache at the end (default true) */
  close?: boolean
}

export interface SharedWorkerResult {
  gets: number
  hits: number
  sets: number
  invalidates: number
  /** values read that were not written for their key: must stay 0 */
  foreign: number
  ms: number
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

async function main(): Promise<void> {
  const input = workerData as SharedWorkerInput
  const cache = InMemoryLRUCache.shared<unknown>(input.name, input.options as never)
  const r: SharedWorkerResult = { gets: 0, hits: 0, sets: 0, invalidates: 0, foreign: 0, ms: 0 }
  const check = (key: number, v: unknown) => {
    if (v === undefined) return
    r.hits++
    const owner = typeof v === 'string' ? Number(v.slice(0, v.indexOf(':'))) : (v as { key: number }).key
    if (owner !== key) r.foreign++
  }
  if (input.barrier) {
    Atomics.add(input.barrier, 0, 1)
    Atomics.notify(input.barrier, 0)
    while (Atomics.load(input.barrier, 0) < Atomics.load(input.barrier, 1)) Atomics.wait(input.barrier, 0, Atomics.load(input.barrier, 0), 50)
  }
  const t0 = performance.now()
  const run = async (kind: SharedOp[0], key: number, n: number) => {
    const k = `key:${key}`
    switch (kind) {
      case 'get':
        r.gets++
        check(key, await cache.get(k))
        break
      case 'has':
        await cache.has(k)
        break
      case 'set':
        r.sets++
        await cache.set(k, n % 2 === 0 ? `${key}:${n}:${'x'.repeat(n % 50)}` : { key, n })
        break
      case 'invalidate':
        r.invalidates++
        await cache.invalidate(k)
    }
  }
  if (input.ops) {
    let n = 0
    for (const [kind, key] of input.ops) await run(kind, key, n++)
  } else if (input.random) {
    const { seed, count, keys, setShare, invalidateShare } = input.random
    const rand = mulberry32(seed)
    for (let i = 0; i < count; i++) {
      const x = rand()
      const key = Math.floor(rand() * keys)
      await run(x < setShare ? 'set' : x < setShare + invalidateShare ? 'invalidate' : 'get', key, i)
    }
  }
  r.ms = performance.now() - t0
  if (input.close !== false) await cache.close()
  parentPort!.postMessage(r)
}

main().catch((e) => {
  parentPort!.postMessage({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) })
})
