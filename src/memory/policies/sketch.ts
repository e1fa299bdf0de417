/**
 * 4-bit count-min sketch with periodic halving; mirrors crates/core/src/policy/sketch.rs
 * bit for bit (see there why the adaptive policy's table has ceil_pow2(2 × capacity)
 * words). A 64-bit word of sixteen counters there is two 32-bit words here: counter `pos`
 * of word `w` lives in u32 `2w + (pos >> 3)` at bit `(pos & 7) * 4`.
 */
const SEEDS = [0x97cb3127, 0xbe98f273, 0x2f90404f, 0x84222325]
export const MAX_WORDS = 1 << 22
/** Table words per entry of capacity for the adaptive W-TinyLFU; Caffeine's is 1. */
export const WIDE = 2

function index(item: number, i: number): number {
  const s = SEEDS[i]
  const h = Math.imul((item + s) | 0, s)
  return (h + (h >>> 16)) | 0
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24)
}

export class Sketch {
  private readonly table: Uint32Array
  private readonly mask: number
  private readonly period: number
  private additions = 0

  constructor(capacity: number, wordsPerEntry: number) {
    let words = 1
    while (words < capacity * wordsPerEntry && words < MAX_WORDS) words *= 2
    this.table = new Uint32Array(words * 2)
    this.mask = words - 1
    this.period = 10 * words
  }

  frequency(item: number): number {
    const start = (item & 3) << 2
    const t = this.table
    let f = 15
    for (let i = 0; i < 4; i++) {
      const pos = start + i
      const c = (t[((index(item, i) & this.mask) << 1) + (pos >> 3)] >>> ((pos & 7) << 2)) & 15
      if (c < f) f = c
    }
    return f
  }

  increment(item: number): void {
    const start = (item & 3) << 2
    const t = this.table
    let added = false
    for (let i = 0; i < 4; i++) {
      const pos = start + i
      const w = ((index(item, i) & this.mask) << 1) + (pos >> 3)
      const shift = (pos & 7) << 2
      if (((t[w] >>> shift) & 15) !== 15) {
        t[w] += 1 << shift
        added = true
      }
    }
    if (added && ++this.additions === this.period) this.halve()
  }

  private halve(): void {
    const t = this.table
    let odd = 0
    for (let i = 0; i < t.length; i++) {
      const w = t[i]
      odd += popcount(w & 0x11111111)
      t[i] = (w >>> 1) & 0x77777777
    }
    this.additions = (this.additions - (odd >>> 2)) >>> 1
  }
}
