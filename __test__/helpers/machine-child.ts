/**
 * One process on a machine-wide cache, for the multi-process tests:
 *
 *   node --import=tsx __test__/helpers/machine-child.ts '<json config>'
 *   config: { name, dir, maxsize, maxBytes, shards, mode: 'mix' | 'torture', id, keys, writes, reads }
 *
 * 'mix': `writes` sets on k0..k<keys-1> (value "<id>:<i>"), then `reads` gets of the same keys;
 *        reports {hits, misses, wrong} on IPC (process.send) or stdout, then exits.
 * 'torture': sets w<id>-<k> forever with self-checking values, printing "ACK <k> <version>"
 *        after each set returned; the parent SIGKILLs it at a random moment. Its output is
 *        bounded: it waits while the pipe is full and exits when the reader is gone.
 * Under the cluster module a worker runs 'mix' with its cluster id.
 */
import cluster from 'node:cluster'
import { writeSync } from 'node:fs'
import { InMemoryLRUCache } from '../../src/memory/memory-cache'
import { tortureValue } from './machine-values'

interface Config {
  name: string
  dir: string
  maxsize: number
  maxBytes: number
  shards: number
  mode: 'mix' | 'torture'
  id: string
  keys: number
  writes: number
  reads: number
}

const config = JSON.parse(process.argv[2] ?? process.env.MACHINE_CHILD_CONFIG ?? '{}') as Config
if (cluster.isWorker) config.id = `w${cluster.worker!.id}`
const cache = InMemoryLRUCache.shared<string>(config.name, { scope: 'machine', dir: config.dir, maxsize: config.maxsize, maxBytes: config.maxBytes, shards: config.shards, defaultTtl: 0 })

const report = (message: object) => (process.send ? process.send(message) : writeSync(1, JSON.stringify(message) + '\n'))

async function mix(): Promise<void> {
  for (let i = 0; i < config.writes; i++) await cache.set(`k${i % config.keys}`, `${config.id}:${i}`)
  let hits = 0
  let misses = 0
  const wrong: string[] = []
  for (let i = 0; i < config.reads; i++) {
    const v = await cache.get(`k${i % config.keys}`)
    if (v === undefined) misses++
    else {
      hits++
      if (!/^[\w-]+:\d+$/.test(v)) wrong.push(v)
    }
  }
  cache.close()
  report({ hits, misses, wrong })
}

async function torture(): Promise<void> {
  // The loop's awaits settle at once, so it never yields to the event loop: a write the pipe
  // cannot take would wait in this process's heap, and with a slow or vanished reader (the
  // parent timed out) the heap grew until it ran out. So: wait for 'drain' when the pipe is
  // full, and stop when the pipe breaks.
  let broken = false
  const out = process.stdout
  out.on('error', () => (broken = true))
  out.on('close', () => (broken = true))
  const drained = () =>
    new Promise<void>((resolve) => {
      const done = () => (out.off('drain', done), out.off('close', done), out.off('error', done), resolve())
      out.on('drain', done).on('close', done).on('error', done)
    })
  for (let ver = 1; !broken; ver++) {
    const k = ver % 40
    const key = `w${config.id}-${k}`
    await cache.set(key, tortureValue(key, ver))
    // Printed only after set() returned: an acknowledged write (a kill may drop the line, never fake one).
    if (!out.write(`ACK ${k} ${ver}\n`)) await drained()
    await cache.get(`w${config.id}-${(ver * 7) % 40}`)
  }
  process.exit(0)
}

void (config.mode === 'torture' ? torture() : mix()).then(() => process.disconnect?.())
