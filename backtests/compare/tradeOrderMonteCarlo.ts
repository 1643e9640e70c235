import { UsageError } from '../../src/domain/errors.js';
import { Mulberry32 } from '../../src/domain/trading/random.js';
import { quantileSorted } from './stats.js';

export interface TradeOrderOptions {
  /** Shuffles drawn (default 2,000). */
  readonly samples?: number;
  readonly seed: number;
  /** Percentiles reported, 0–100 (default 5, 25, 50, 75, 95). */
  readonly percentiles?: readonly number[];
}

export interface DrawdownDistribution {
  readonly trades: number;
  readonly samples: number;
  /** Max drawdown of the trade-by-trade equity in the order the trades happened. */
  readonly actual: number;
  readonly mean: number;
  /** `[percentile, max drawdown]`, in the order asked. */
  readonly percentiles: readonly (readonly [number, number])[];
  /** Share of shuffles whose max drawdown is at least the actual one. */
  readonly atLeastActual: number;
}

export const DEFAULT_PERCENTILES = [5, 25, 50, 75, 95] as const;

/**
 * Monte Carlo of trade order: how deep the drawdown could have been with the same trades in another order.
 *
 * The equity after each closed trade is `initialEquity + Σ pnl` (net P&L, in quote currency) of the trades
 * so far; its max drawdown is the largest fall from a running peak (the initial equity included) as a
 * fraction of that peak. Each sample shuffles the trades (Fisher–Yates, mulberry32 seeded with `seed`)
 * and measures that max drawdown. The final equity is the same in every order; only the path changes.
 * This is trade-level: a drawdown inside a trade (marked to market per candle, as the backtest's
 * maxDrawdown is) is not seen, so the actual value here can be below the backtest's.
 */
export function tradeOrderMonteCarlo(
  pnls: readonly number[],
  initialEquity: number,
  options: TradeOrderOptions,
): DrawdownDistribution {
  const samples = options.samples ?? 2000;
  if (!(Number.isSafeInteger(samples) && samples >= 1)) {
    throw new UsageError(`Monte Carlo samples must be a whole number ≥ 1, got ${samples}`);
  }
  const ps = options.percentiles ?? DEFAULT_PERCENTILES;
  const n = pnls.length;
  const order = Float64Array.from(pnls);
  const actual = maxDrawdown(order, initialEquity);
  const draws = new Float64Array(samples);
  const rng = new Mulberry32(options.seed);
  let sum = 0;
  let atLeast = 0;
  for (let s = 0; s < samples; s++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      const t = order[i] as number;
      order[i] = order[j] as number;
      order[j] = t;
    }
    const dd = maxDrawdown(order, initialEquity);
    draws[s] = dd;
    sum += dd;
    if (dd >= actual) atLeast++;
  }
  draws.sort();
  return {
    trades: n,
    samples,
    actual,
    mean: sum / samples,
    percentiles: ps.map((p) => [p, quantileSorted(draws, p / 100)] as const),
    atLeastActual: atLeast / samples,
  };
}

/** Max drawdown (fraction of the running peak) of `start + cumulative pnl`. */
export function maxDrawdown(pnls: ArrayLike<number>, start: number): number {
  let equity = start;
  let peak = start;
  let worst = 0;
  for (let i = 0; i < pnls.length; i++) {
    equity += pnls[i] as number;
    if (equity > peak) peak = equity;
    else if (peak > 0) {
      const dd = (peak - equity) / peak;
      if (dd > worst) worst = dd;
    }
  }
  return worst;
}
