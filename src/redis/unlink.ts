import type { Cluster, Redis } from 'ioredis'
import { escapeGlob } from './glob'
import { groupBySlot } from './key-slot'

/** Runs one command against a node within the cache's time budget. */
export type Runner = <T>(command: (client: Redis | Cluster) => Promise<T>) => Promise<T>

/**
 * UNLINKs `fullKeys`: one command on a single Redis; on a Cluster one UNLINK per hash slot
 * (a multi-key command must not span slots, even on one node), pipelined together.
 */
export async function unlinkKeys(fullKeys: readonly string[], isCluster: boolean, run: Runner): Promise<number> {
  if (fullKeys.length === 0) return 0
  if (!isCluster) return run((c) => c.unlink(...fullKeys))
  const counts = await Promise.all(
    groupBySlot(fullKeys as string[]).map((indexes) => run((c) => c.unlink(...indexes.map((i) => fullKeys[i])))),
  )
  return counts.reduce((a, b) => a + b, 0)
}

/**
 * Deletes every key starting with `prefix` on one node: SCAN MATCH <escaped prefix>* in
 * batches of `batchSize`, each batch UNLINKed before the next SCAN. Never KEYS or FLUSHDB.
 * `run` must send the command to `node` (bounded by the cache's timeout).
 */
export async function scanAndUnlink(node: Redis, prefix: string, batchSize: number, isCluster: boolean, run: Runner): Promise<number> {
  const pattern = `${escapeGlob(prefix)}*`
  let cursor = '0'
  let removed = 0
  do {
    const [next, keys] = await run((c) => (c as Redis).scan(cursor, 'MATCH', pattern, 'COUNT', batchSize))
    cursor = next
    // SCAN MATCH already filtered; the startsWith check is a second guard against a glob mistake.
    const mine = keys.filter((k) => k.startsWith(prefix))
    if (mine.length > 0) {
      removed += isCluster
        ? await unlinkKeys(mine, true, (command) => run(() => command(node)))
        : await run((c) => c.unlink(...mine))
    }
  } while (cursor !== '0')
  return removed
}
