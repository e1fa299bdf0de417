/** An intrusive queue threaded through the engine's prev/next slot links (head = newest). */
export const NONE = -1

export interface Links {
  prev: Int32Array
  next: Int32Array
}

export class Queue {
  head = NONE
  tail = NONE
  len = 0

  constructor(private readonly links: Links) {}

  pushHead(slot: number): void {
    const { prev, next } = this.links
    prev[slot] = NONE
    next[slot] = this.head
    if (this.head !== NONE) prev[this.head] = slot
    else this.tail = slot
    this.head = slot
    this.len++
  }

  unlink(slot: number): void {
    const { prev, next } = this.links
    const p = prev[slot]
    const n = next[slot]
    if (p === NONE) this.head = n
    else next[p] = n
    if (n === NONE) this.tail = p
    else prev[n] = p
    this.len--
  }

  moveToHead(slot: number): void {
    if (this.head !== slot) {
      this.unlink(slot)
      this.pushHead(slot)
    }
  }

  /** Slots newest to oldest (tests; O(n)). */
  slots(out: number[] = []): number[] {
    const { next } = this.links
    for (let s = this.head; s !== NONE; s = next[s]) out.push(s)
    return out
  }

  clear(): void {
    this.head = NONE
    this.tail = NONE
    this.len = 0
  }
}
