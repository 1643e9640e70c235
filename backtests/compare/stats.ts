/** Small numeric helpers the significance tests share. */

/** The q-quantile (0 ≤ q ≤ 1) of an ascending array, interpolated linearly between ranks (R type 7). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  const a = sorted[lo] as number;
  return a + (h - lo) * ((sorted[hi] as number) - a);
}

/**
 * Per-period returns of an equity curve, `E_i / E_{i−1} − 1` with `E_0` the initial equity: the returns
 * src/domain/metrics.ts computes its Sharpe ratio from.
 */
export function periodReturns(initialEquity: number, equity: ArrayLike<number>): Float64Array {
  const out = new Float64Array(equity.length);
  let prev = initialEquity;
  for (let i = 0; i < equity.length; i++) {
    const e = equity[i] as number;
    out[i] = e / prev - 1;
    prev = e;
  }
  return out;
}

/** Annualized Sharpe ratio of per-period returns (mean / sample std × √P), as src/domain/metrics.ts. */
export function sharpeOf(sum: number, sumSq: number, n: number, periodsPerYear: number): number {
  if (n < 2) return Number.NaN;
  const mean = sum / n;
  const variance = (sumSq - n * mean * mean) / (n - 1);
  // Rounding can leave a tiny non-zero variance for a constant series: treat it as zero.
  if (!(variance > 1e-24 * Math.max(1, mean * mean))) return Number.NaN;
  return (mean / Math.sqrt(variance)) * Math.sqrt(periodsPerYear);
}
