import { UsageError } from '../../src/domain/errors.js';
import { Mulberry32 } from '../../src/domain/trading/random.js';
import { quantileSorted, sharpeOf } from './stats.js';

export interface BootstrapOptions {
  /** Resamples drawn (default 2,000). */
  readonly samples?: number;
  /** Mean block length of the stationary bootstrap, in periods (default ⌈n^(1/3)⌉; 1 = plain i.i.d.). */
  readonly blockLength?: number;
  readonly seed: number;
  /** Periods per year, to annualize the Sharpe ratio as the metrics do. */
  readonly periodsPerYear: number;
  /** Two-sided confidence level of the interval (default 0.95). */
  readonly confidence?: number;
}

/** A difference `other − base` of one statistic: its value on the data, a bootstrap interval and p-value. */
export interface DifferenceEstimate {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
  /** Two-sided p-value of "no difference" (NaN when the statistic is undefined on the data). */
  readonly pValue: number;
}

export interface PairedBootstrapResult {
  readonly periods: number;
  readonly samples: number;
  readonly blockLength: number;
  readonly confidence: number;
  /** Annualized Sharpe ratio of `other` minus that of `base`. */
  readonly sharpe: DifferenceEstimate;
  /** Compounded return over the period of `other` minus that of `base`. */
  readonly totalReturn: DifferenceEstimate;
}

export const DEFAULT_SAMPLES = 2000;

/** The default mean block length for n periods: ⌈n^(1/3)⌉ (the rate-optimal order for the stationary bootstrap). */
export function defaultBlockLength(n: number): number {
  return Math.max(1, Math.ceil(Math.cbrt(n)));
}

/**
 * Paired stationary bootstrap (Politis & Romano, 1994) of the difference between two strategies' per-period
 * returns over the same periods.
 *
 * Each resample is a sequence of n period indices built from blocks: the first index is uniform, and each
 * next one is the following period (wrapping around) with probability 1 − 1/L, or a fresh uniform index
 * with probability 1/L — blocks of geometric length with mean L, which keeps the serial dependence of
 * returns (volatility clusters, positions held for many periods) that an i.i.d. resample would destroy.
 * The SAME indices are applied to both series ("paired"), so their correlation (same market) is kept and
 * only the difference is tested. On every resample the annualized Sharpe ratio and the compounded return
 * of both are computed and differenced.
 *
 * Interval: the percentile interval of the resampled differences. p-value: the resampled differences,
 * centred on the observed one, stand for the distribution under "no difference"; p is the share of them at
 * least as far from zero as the observed difference, `(1 + #{|d* − d̂| ≥ |d̂|}) / (B + 1)`. Identical series
 * give p = 1; a difference far outside the resampling noise gives p = 1/(B + 1).
 *
 * Deterministic: the indices come from one mulberry32 stream seeded with `seed`.
 */
export function pairedBootstrap(
  base: ArrayLike<number>,
  other: ArrayLike<number>,
  options: BootstrapOptions,
): PairedBootstrapResult {
  const n = base.length;
  if (other.length !== n) {
    throw new UsageError(`paired bootstrap: the series differ in length (${n} and ${other.length} periods)`);
  }
  if (n < 2) throw new UsageError(`paired bootstrap: needs at least 2 periods, got ${n}`);
  const samples = options.samples ?? DEFAULT_SAMPLES;
  const L = options.blockLength ?? defaultBlockLength(n);
  if (!(Number.isSafeInteger(samples) && samples >= 1)) {
    throw new UsageError(`bootstrap samples must be a whole number ≥ 1, got ${samples}`);
  }
  if (!(L >= 1 && Number.isFinite(L))) throw new UsageError(`bootstrap block length must be ≥ 1, got ${L}`);
  const confidence = options.confidence ?? 0.95;
  const P = options.periodsPerYear;

  // Log growth per period: a compounded return is exp(Σ log(1 + r)) − 1, without overflow.
  const la = logGrowth(base);
  const lb = logGrowth(other);
  const observed = stats(base, other, la, lb, identity(n), P);

  // Each resample is a chain of blocks: a uniform start and a geometric length (mean L), cut at n periods.
  // That is the stationary bootstrap's "continue with probability 1 − 1/L, else jump", drawn a block at a
  // time; sums over a block come from prefix sums, so a resample costs its number of blocks, not n.
  const pa = prefixSums(base, la);
  const pb = prefixSums(other, lb);
  const rng = new Mulberry32(options.seed);
  const logStay = Math.log(1 - 1 / L);
  const dSharpe = new Float64Array(samples);
  const dReturn = new Float64Array(samples);
  const sums = new Float64Array(6);
  const idx = L === 1 ? new Int32Array(n) : undefined;
  for (let s = 0; s < samples; s++) {
    let r: { sharpe: number; totalReturn: number };
    if (idx !== undefined) {
      // L = 1, the i.i.d. bootstrap: single periods, summed directly.
      for (let t = 0; t < n; t++) idx[t] = Math.floor(rng.next() * n);
      r = stats(base, other, la, lb, idx, P);
    } else {
      sums.fill(0);
      for (let filled = 0; filled < n;) {
        const start = Math.floor(rng.next() * n);
        // P(length ≥ k) = (1 − 1/L)^(k−1).
        const length = 1 + Math.floor(Math.log(1 - rng.next()) / logStay);
        const take = Math.min(length, n - filled);
        addRange(sums, pa, pb, start, take, n);
        filled += take;
      }
      r = fromSums(sums, n, P);
    }
    dSharpe[s] = r.sharpe;
    dReturn[s] = r.totalReturn;
  }
  return {
    periods: n,
    samples,
    blockLength: L,
    confidence,
    sharpe: summarize(observed.sharpe, dSharpe, confidence),
    totalReturn: summarize(observed.totalReturn, dReturn, confidence),
  };
}

/** Prefix sums of x, x² and log(1 + x): `[3 × (n + 1)]`, row k the sums over the first k periods. */
function prefixSums(x: ArrayLike<number>, lx: Float64Array): Float64Array {
  const n = x.length;
  const out = new Float64Array(3 * (n + 1));
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    out[3 * (i + 1)] = (out[3 * i] as number) + v;
    out[3 * (i + 1) + 1] = (out[3 * i + 1] as number) + v * v;
    out[3 * (i + 1) + 2] = (out[3 * i + 2] as number) + (lx[i] as number);
  }
  return out;
}

/** Adds the sums over periods start … start + take − 1 (wrapping past n) of both series to `sums`. */
function addRange(
  sums: Float64Array,
  pa: Float64Array,
  pb: Float64Array,
  start: number,
  take: number,
  n: number,
): void {
  const end = start + take;
  if (end <= n) {
    addSpan(sums, pa, pb, start, end);
  } else {
    addSpan(sums, pa, pb, start, n);
    addSpan(sums, pa, pb, 0, end - n);
  }
}

function addSpan(sums: Float64Array, pa: Float64Array, pb: Float64Array, from: number, to: number): void {
  for (let k = 0; k < 3; k++) {
    sums[k] = (sums[k] as number) + (pa[3 * to + k] as number) - (pa[3 * from + k] as number);
    sums[3 + k] = (sums[3 + k] as number) + (pb[3 * to + k] as number) - (pb[3 * from + k] as number);
  }
}

/** Differences (other − base) of the Sharpe ratio and compounded return from `[Σa, Σa², Σlog a, Σb, Σb², Σlog b]`. */
function fromSums(sums: Float64Array, n: number, P: number): { sharpe: number; totalReturn: number } {
  const [sa, qa, ga, sb, qb, gb] = sums as unknown as [number, number, number, number, number, number];
  // Equal series (the same strategy twice) differ by exactly zero, whatever the Sharpe ratio's rounding.
  const sharpe = sa === sb && qa === qb ? 0 : sharpeOf(sb, qb, n, P) - sharpeOf(sa, qa, n, P);
  return { sharpe, totalReturn: Math.expm1(gb) - Math.expm1(ga) };
}

function logGrowth(r: ArrayLike<number>): Float64Array {
  const out = new Float64Array(r.length);
  for (let i = 0; i < r.length; i++) out[i] = Math.log1p(r[i] as number);
  return out;
}

function identity(n: number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return idx;
}

/** Differences (other − base) of the Sharpe ratio and of the compounded return over the periods `idx`. */
function stats(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  la: Float64Array,
  lb: Float64Array,
  idx: Int32Array,
  P: number,
): { sharpe: number; totalReturn: number } {
  let sa = 0;
  let qa = 0;
  let sb = 0;
  let qb = 0;
  let ga = 0;
  let gb = 0;
  const n = idx.length;
  for (let t = 0; t < n; t++) {
    const i = idx[t] as number;
    const x = a[i] as number;
    const y = b[i] as number;
    sa += x;
    qa += x * x;
    sb += y;
    qb += y * y;
    ga += la[i] as number;
    gb += lb[i] as number;
  }
  // Equal series (the same strategy twice) differ by exactly zero, whatever the Sharpe ratio's rounding.
  const sharpe = sa === sb && qa === qb ? 0 : sharpeOf(sb, qb, n, P) - sharpeOf(sa, qa, n, P);
  return { sharpe, totalReturn: Math.expm1(gb) - Math.expm1(ga) };
}

function summarize(observed: number, draws: Float64Array, confidence: number): DifferenceEstimate {
  const finite = draws.filter((d) => Number.isFinite(d)).sort();
  if (!Number.isFinite(observed) || finite.length === 0) {
    return { estimate: observed, low: Number.NaN, high: Number.NaN, pValue: Number.NaN };
  }
  const alpha = (1 - confidence) / 2;
  let extreme = 0;
  const far = Math.abs(observed);
  for (let i = 0; i < finite.length; i++) {
    if (Math.abs((finite[i] as number) - observed) >= far) extreme++;
  }
  return {
    estimate: observed,
    low: quantileSorted(finite, alpha),
    high: quantileSorted(finite, 1 - alpha),
    pValue: (1 + extreme) / (1 + finite.length),
  };
}
