/** Deterministic inputs: every competitor sees the same keys in the same order. */

/** mulberry32: small, fast, good enough for benchmark inputs; seeded so runs repeat. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A copy of `xs` in a seeded random order (Fisher-Yates): lookups unrelated to insertion order. */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = xs.slice()
  const rand = mulberry32(seed)
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

/**
 * `count` key indices in [0, n) drawn from Zipf(s): rank r has weight 1 / (r+1)^s.
 * Ranks are shuffled onto key indices so the popular keys are not simply keys 0, 1, 2...
 */
export function zipfStream(n: number, s: number, count: number, seed: number): Int32Array {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let r = 0; r < n; r++) {
    sum += 1 / Math.pow(r + 1, s)
    cdf[r] = sum
  }
  for (let r = 0; r < n; r++) cdf[r] /= sum
  const rand = mulberry32(seed)
  const rankToKey = new Int32Array(n)
  for (let i = 0; i < n; i++) rankToKey[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    const t = rankToKey[i]
    rankToKey[i] = rankToKey[j]
    rankToKey[j] = t
  }
  const out = new Int32Array(count)
  for (let i = 0; i < count; i++) {
    const u = rand()
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cdf[mid] < u) lo = mid + 1
      else hi = mid
    }
    out[i] = rankToKey[lo]
  }
  return out
}

/** 1 = write, 0 = read; `writeShare` of the ops are writes. */
export function opStream(count: number, writeShare: number, seed: number): Uint8Array {
  const rand = mulberry32(seed)
  const out = new Uint8Array(count)
  for (let i = 0; i < count; i++) out[i] = rand() < writeShare ? 1 : 0
  return out
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/**
 * `n` distinct keys of exactly `length` characters: a random-looking prefix from the seed
 * and the index at the end, so they differ everywhere a hash function looks.
 * Flattened (sequential strings), as keys read from a request would be.
 */
export function makeKeys(n: number, length: number, seed: number, tag = 'k'): string[] {
  const rand = mulberry32(seed)
  const keys = new Array<string>(n)
  for (let i = 0; i < n; i++) {
    const suffix = `${tag}${i.toString(36)}`
    let prefix = ''
    while (prefix.length < length - suffix.length) prefix += ALPHABET[Math.floor(rand() * ALPHABET.length)]
    const key = (prefix + suffix).slice(-length)
    keys[i] = flatten(key)
  }
  return keys
}

/** A concatenated string is a rope in V8 until first hashed; make every key flat up front. */
function flatten(s: string): string {
  // Number() on a string forces V8 to flatten it; cheap, and keeps the result string.
  void Number(s)
  return s
}

/**
 * Zipf(s) ranks in [0, n) in O(1) memory and time per draw (rejection-inversion, Hörmann
 * and Derflinger 1996, as Apache Commons' RejectionInversionZipfSampler): for key spaces
 * too big for a CDF table (the scale scenario draws from tens of millions of keys). Map a
 * rank onto a key index with `scatter`, so the popular keys are not neighbours.
 */
export class ZipfSampler {
  private readonly hX1: number
  private readonly hN: number
  private readonly sBound: number

  constructor(
    private readonly n: number,
    private readonly exponent: number,
    private readonly rand: () => number,
  ) {
    this.hX1 = this.hIntegral(1.5) - 1
    this.hN = this.hIntegral(n + 0.5)
    this.sBound = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2))
  }

  /** A rank in [0, n): 0 is the most popular. */
  next(): number {
    for (;;) {
      const u = this.hN + this.rand() * (this.hX1 - this.hN)
      const x = this.hIntegralInverse(u)
      let k = Math.floor(x + 0.5)
      if (k < 1) k = 1
      else if (k > this.n) k = this.n
      if (k - x <= this.sBound || u >= this.hIntegral(k + 0.5) - this.h(k)) return k - 1
    }
  }

  private h(x: number): number {
    return Math.exp(-this.exponent * Math.log(x))
  }

  private hIntegral(x: number): number {
    const logX = Math.log(x)
    return helper2((1 - this.exponent) * logX) * logX
  }

  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.exponent)
    if (t < -1) t = -1
    return Math.exp(helper1(t) * x)
  }
}

/** log1p(x) / x, accurate near 0. */
function helper1(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - x * 0.25))
}

/** expm1(x) / x, accurate near 0. */
function helper2(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x / 3) * (1 + x * 0.25))
}

/**
 * A bijection of [0, n) that spreads neighbouring ranks across the key space, for n whose
 * only prime factors are 2 and 5 (round sizes): an affine map modulo n with a multiplier
 * coprime to n, small enough that the product stays exact in a double.
 */
export function scatter(rank: number, n: number): number {
  return (rank * 40503 + 12345) % n
}
