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
