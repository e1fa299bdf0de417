import { Ghost } from './ghost'
import { keyHash } from './hash'
import type { EvictionPolicy } from './policy'
import { NONE, Queue, type Links } from './queue'

const IN_MAIN = 0x80
const FREQ = 0x03

/**
 * S3-FIFO (SOSP'23, libCacheSim defaults); the pure-TS twin of
 * crates/core/src/policy/s3fifo.rs (see there for the algorithm and its work bound).
 */
export class S3FifoPolicy implements EvictionPolicy {
  private small: Queue
  private main: Queue
  private readonly mainCap: number
  private readonly ghost: Ghost
  private meta = new Uint8Array(16)
  private hashes = new Uint32Array(16)
  private pendingHash = 0
  private pendingToMain = false

  constructor(
    capacity: number,
    private readonly seed: number,
    private links: Links,
  ) {
    const smallCap = Math.max(1, Math.floor(capacity * 0.1))
    this.mainCap = Math.max(0, capacity - smallCap)
    this.ghost = new Ghost(Math.floor(capacity * 0.9))
    this.small = new Queue(links)
    this.main = new Queue(links)
  }

  relink(links: Links): void {
    this.links = links
    const rebuild = (q: Queue) => Object.assign(new Queue(links), { head: q.head, tail: q.tail, len: q.len })
    this.small = rebuild(this.small)
    this.main = rebuild(this.main)
  }

  touch(slot: number): void {
    const m = this.meta[slot]
    if ((m & FREQ) < 3) this.meta[slot] = m + 1
  }

  miss(_key: string): void {}

  place(key: string): void {
    this.pendingHash = keyHash(key, this.seed)
    this.pendingToMain = this.ghost.take(this.pendingHash)
  }

  prepare(full: boolean): number {
    if (!full) return NONE
    for (;;) {
      if (this.main.len > this.mainCap || this.small.len === 0) {
        const v = this.victimFromMain()
        if (v !== NONE) return v
      } else {
        const v = this.victimFromSmall()
        if (v !== NONE) return v
      }
    }
  }

  private victimFromMain(): number {
    while (this.main.len > 0) {
      const t = this.main.tail
      const m = this.meta[t]
      if ((m & FREQ) === 0) return t
      this.meta[t] = m - 1
      this.main.moveToHead(t)
    }
    return NONE
  }

  private victimFromSmall(): number {
    while (this.small.len > 0) {
      const t = this.small.tail
      if ((this.meta[t] & FREQ) >= 2) {
        this.small.unlink(t)
        this.meta[t] = IN_MAIN
        this.main.pushHead(t)
      } else {
        this.ghost.push(this.hashes[t])
        return t
      }
    }
    return NONE
  }

  linkNew(slot: number): void {
    if (slot >= this.meta.length) this.grow(slot)
    this.hashes[slot] = this.pendingHash
    if (this.pendingToMain) {
      this.meta[slot] = IN_MAIN
      this.main.pushHead(slot)
    } else {
      this.meta[slot] = 0
      this.small.pushHead(slot)
    }
  }

  unlink(slot: number): void {
    if (this.meta[slot] & IN_MAIN) this.main.unlink(slot)
    else this.small.unlink(slot)
  }

  order(): number[] {
    return this.main.slots(this.small.slots())
  }

  clear(): void {
    this.small.clear()
    this.main.clear()
    this.ghost.clear()
  }

  private grow(slot: number): void {
    let n = this.meta.length * 2
    while (n <= slot) n *= 2
    const meta = new Uint8Array(n)
    meta.set(this.meta)
    this.meta = meta
    const hashes = new Uint32Array(n)
    hashes.set(this.hashes)
    this.hashes = hashes
  }
}
