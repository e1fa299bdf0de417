/** Robust summaries: benchmarks on a shared machine have outliers, so medians, not means. */

export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length
  if (n === 0) return NaN
  const pos = (n - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo)
}

export function sortedCopy(xs: ArrayLike<number>): Float64Array {
  return Float64Array.from(xs).sort()
}

export interface Summary {
  median: number
  p25: number
  p75: number
  p99: number
  max: number
  count: number
  total: number
}

export function summarize(xs: ArrayLike<number>): Summary {
  const s = sortedCopy(xs)
  let total = 0
  for (let i = 0; i < s.length; i++) total += s[i]
  return {
    median: quantile(s, 0.5),
    p25: quantile(s, 0.25),
    p75: quantile(s, 0.75),
    p99: quantile(s, 0.99),
    max: s.length ? s[s.length - 1] : NaN,
    count: s.length,
    total,
  }
}
