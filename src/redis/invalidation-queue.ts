/**
 * Invalidations that could not reach Redis, replayed when it is back. Bounded: beyond
 * `capacity` the oldest key is dropped and counted (that key may then be served stale for
 * up to its TTL). A pending `clear()` supersedes every queued key.
 *
 * Each key remembers the latest write (in issue order) that queued it, so a later SET that
 * Redis took can drop it: that SET replaced whatever Redis held, and replaying the removal
 * would undo it.
 */
interface Queued {
  /** Bumped each time the key is queued, so a key re-queued while its replay is in flight stays queued. */
  generation: number
  /** Issue stamp of the latest write that queued it. */
  issued: number
}

export class InvalidationQueue {
  private readonly keys = new Map<string, Queued>()
  private generation = 0
  /** 0, or the generation of the pending clear(). */
  private clearPending = 0
  dropped = 0

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.keys.size + (this.clearPending !== 0 ? 1 : 0)
  }

  get isEmpty(): boolean {
    return this.keys.size === 0 && this.clearPending === 0
  }

  /** The pending clear()'s generation (pass it to clearDone), or 0 when none is pending. */
  get pendingClear(): number {
    return this.clearPending
  }

  /** True when `fullKey` must not be read from Redis until the queue is replayed. */
  blocks(fullKey: string): boolean {
    return this.clearPending !== 0 || this.keys.has(fullKey)
  }

  /** Queues a key for a write issued with stamp `issued`; returns the key dropped to make room, if any. */
  add(fullKey: string, issued: number): string | undefined {
    if (this.clearPending !== 0) return undefined
    let droppedKey: string | undefined
    const queued = this.keys.get(fullKey)
    if (queued !== undefined) {
      this.keys.delete(fullKey) // re-insert: it becomes the newest
    } else if (this.keys.size >= this.capacity) {
      droppedKey = this.keys.keys().next().value as string
      this.keys.delete(droppedKey)
      this.dropped++
    }
    this.keys.set(fullKey, { generation: ++this.generation, issued: Math.max(issued, queued?.issued ?? 0) })
    return droppedKey
  }

  /**
   * A SET issued with stamp `issued` replaces what Redis holds for `fullKey`: the key's removal
   * is dropped when every write that queued it was issued before (a pending clear() stays).
   */
  supersede(fullKey: string, issued: number): void {
    const queued = this.keys.get(fullKey)
    if (queued !== undefined && queued.issued < issued) this.keys.delete(fullKey)
  }

  addClear(): void {
    this.clearPending = ++this.generation
    this.keys.clear()
  }

  /** Up to `max` queued keys (oldest first), left queued; pass the batch to `done` once Redis has them. */
  peek(max: number): { keys: string[]; generations: number[] } {
    const keys: string[] = []
    const generations: number[] = []
    for (const [key, queued] of this.keys) {
      if (keys.length >= max) break
      keys.push(key)
      generations.push(queued.generation)
    }
    return { keys, generations }
  }

  done(batch: { keys: readonly string[]; generations: readonly number[] }): void {
    batch.keys.forEach((key, i) => {
      if (this.keys.get(key)?.generation === batch.generations[i]) this.keys.delete(key)
    })
  }

  clearDone(generation: number): void {
    if (this.clearPending === generation) this.clearPending = 0
  }
}
