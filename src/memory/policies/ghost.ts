import { NONE } from './queue'

/**
 * S3-FIFO's ghost queue: a FIFO set of 32-bit key hashes (no values, not entries); the
 * twin of crates/core/src/policy/ghost.rs. Adding a hash already present leaves it in
 * place; a hit removes it from the middle; beyond capacity the oldest goes. A Map gives
 * O(1) membership and a small slab with links gives O(1) removal from anywhere (a Set's
 * own insertion order is no good here: finding its oldest live element skips deleted
 * ones, which makes eviction O(capacity)). `access` makes it an LRU set instead (W-TinyLFU's
 * miniature LRU).
 */
export class Ghost {
  private readonly index = new Map<number, number>()
  private fps = new Uint32Array(16)
  private newer = new Int32Array(16)
  private older = new Int32Array(16)
  private free: number[] = []
  private used = 0
  private newest = NONE
  private oldest = NONE

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.index.size
  }

  take(fp: number): boolean {
    const i = this.index.get(fp)
    if (i === undefined) return false
    this.index.delete(fp)
    this.unlink(i)
    return true
  }

  /** An LRU access: moves `fp` to the newest end if present (true), else adds it there. */
  access(fp: number): boolean {
    const i = this.index.get(fp)
    if (i === undefined) {
      this.insert(fp)
      return false
    }
    if (i !== this.newest) {
      this.detach(i)
      this.attachNewest(i)
    }
    return true
  }

  push(fp: number): void {
    if (!this.index.has(fp)) this.insert(fp)
  }

  /** Adds `fp`, known to be absent, at the newest end; drops the oldest beyond capacity. */
  private insert(fp: number): void {
    if (this.capacity === 0) return
    let i = this.free.pop()
    if (i === undefined) {
      i = this.used++
      if (i >= this.fps.length) this.grow()
    }
    this.fps[i] = fp
    this.attachNewest(i)
    this.index.set(fp, i)
    if (this.index.size > this.capacity) {
      const o = this.oldest
      this.index.delete(this.fps[o])
      this.unlink(o)
    }
  }

  clear(): void {
    this.index.clear()
    this.free = []
    this.used = 0
    this.newest = NONE
    this.oldest = NONE
  }

  private attachNewest(i: number): void {
    this.newer[i] = NONE
    this.older[i] = this.newest
    if (this.newest !== NONE) this.newer[this.newest] = i
    else this.oldest = i
    this.newest = i
  }

  private unlink(i: number): void {
    this.detach(i)
    this.free.push(i)
  }

  private detach(i: number): void {
    const n = this.newer[i]
    const o = this.older[i]
    if (n === NONE) this.newest = o
    else this.older[n] = o
    if (o === NONE) this.oldest = n
    else this.newer[o] = n
  }

  private grow(): void {
    const n = this.fps.length * 2
    const fps = new Uint32Array(n)
    fps.set(this.fps)
    this.fps = fps
    const newer = new Int32Array(n)
    newer.set(this.newer)
    this.newer = newer
    const older = new Int32Array(n)
    older.set(this.older)
    this.older = older
  }
}
