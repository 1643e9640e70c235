import type { Candle } from '../../src/domain/candle.js';
import {
  drawdownRows,
  type CandleRow,
  type DrawdownRow,
  type EquityRow,
  type MarkerRow,
} from '../../src/http/dashboard/specs.js';
import type { BacktestResult } from '../runBacktest.js';

/** An equity curve as columns (a backtest's, or walk-forward's stitched one). */
export interface EquityCurve {
  readonly equityTimesMs: ArrayLike<number>;
  readonly equity: ArrayLike<number>;
}

/** Points a curve keeps in a report: more than a screen is wide, few enough to keep the file small. */
export const MAX_POINTS = 2000;

/**
 * A run's equity and drawdown rows for a chart, at most MAX_POINTS each: the curve is cut into equal runs
 * of points; equity keeps each run's last point, drawdown its deepest (computed on every point first, so
 * the deepest drawdown is never thinned away).
 */
export function curveRows(label: string, r: EquityCurve): { equity: EquityRow[]; drawdown: DrawdownRow[] } {
  const n = r.equity.length;
  const all: EquityRow[] = new Array<EquityRow>(n);
  for (let i = 0; i < n; i++)
    all[i] = { run: label, tMs: r.equityTimesMs[i] as number, value: r.equity[i] as number };
  const dd = drawdownRows(all);
  const step = Math.max(1, Math.ceil(n / MAX_POINTS));
  const equity: EquityRow[] = [];
  const drawdown: DrawdownRow[] = [];
  for (let i = 0; i < n; i += step) {
    const end = Math.min(n, i + step);
    equity.push(all[end - 1] as EquityRow);
    let deepest = dd[i] as DrawdownRow;
    for (let k = i + 1; k < end; k++)
      if ((dd[k] as DrawdownRow).drawdown < deepest.drawdown) deepest = dd[k] as DrawdownRow;
    drawdown.push(deepest);
  }
  return { equity, drawdown };
}

/**
 * Candles for the price chart, at most `max`: consecutive candles merged into one (first open, highest
 * high, lowest low, last close), so the range drawn is the range traded.
 */
export function priceRows(candles: readonly Candle[], max = MAX_POINTS): CandleRow[] {
  const step = Math.max(1, Math.ceil(candles.length / max));
  const out: CandleRow[] = [];
  for (let i = 0; i < candles.length; i += step) {
    const first = candles[i] as Candle;
    let high = first.high;
    let low = first.low;
    const end = Math.min(candles.length, i + step);
    for (let k = i + 1; k < end; k++) {
      const c = candles[k] as Candle;
      if (c.high > high) high = c.high;
      if (c.low < low) low = c.low;
    }
    const last = candles[end - 1] as Candle;
    out.push({ tMs: last.closeTimeMs, open: first.open, high, low, close: last.close });
  }
  return out;
}

/** Each closed trade as a buy marker at its entry and a sell marker at its exit. */
export function tradeMarkers(r: BacktestResult): MarkerRow[] {
  return r.trades.flatMap((t) => [
    { tMs: t.entry_time_ms, side: 'buy' as const, price: t.entry_price, qty: t.qty },
    { tMs: t.exit_time_ms, side: 'sell' as const, price: t.exit_price, qty: t.qty },
  ]);
}
