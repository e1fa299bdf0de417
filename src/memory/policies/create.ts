import type { EnginePolicy, EvictionPolicy } from './policy'
import type { Links } from './queue'
import { S3FifoPolicy } from './s3fifo'
import { TinyLfuPolicy } from './tinylfu'

/** The policy object for the pure-TS engine; null means the engine's built-in LRU list. */
export function createPolicy(name: EnginePolicy, capacity: number, seed: number, links: Links): EvictionPolicy | null {
  switch (name) {
    case 'lru':
      return null
    case 's3fifo':
      return new S3FifoPolicy(capacity, seed, links)
    case 'tinylfu':
      return new TinyLfuPolicy(capacity, seed, links, true)
    case 'tinylfu-fixed':
      return new TinyLfuPolicy(capacity, seed, links, false)
  }
}

/** A fresh per-cache seed for the policy's key hash (both engines of a cache get the same one). */
export function randomPolicySeed(): number {
  return (Math.random() * 0x100000000) >>> 0
}
