import type { Candle } from '../candle.js';
import { UsageError } from '../errors.js';

/** What an indicator reads from a candle. A Candle is one; tests and custom feeds may pass less. */
export type IndicatorInput = Pick<
  Candle,
  'closeTimeMs' | 'timeframe' | 'open' | 'high' | 'low' | 'close' | 'volume'
>;

/**
 * One incremental indicator: a small stateful object fed one CLOSED candle at a time, in time order.
 *
 * - `update` returns the value for that candle once the indicator is warmed up, and `undefined` before
 *   (warm-up is explicit: there is never a half-stable value). Values follow TA-Lib's conventions.
 * - `lookback` is how many candles come before the first value (TA-Lib's lookback): the first value is
 *   returned by the `lookback + 1`-th update.
 * - `key` names the indicator and its parameters (`sma_20`, `macd_12_26_9`): stable, usable as a column.
 *
 * Custom indicators implement this interface and plug into `withIndicators` like the built-in ones.
 */
export interface Indicator<V = number> {
  readonly key: string;
  readonly lookback: number;
  update(candle: IndicatorInput): V | undefined;
  /** Forgets everything seen: the next update is the first again. */
  reset(): void;
}

/** Makes a fresh indicator; `withIndicators` calls it once per symbol and timeframe. */
export type IndicatorFactory<V = unknown> = () => Indicator<V>;

/** The series an indicator reads; `typical` is (high + low + close) / 3. */
export type PriceSource = 'open' | 'high' | 'low' | 'close' | 'volume' | 'typical';

export function sourceReader(source: PriceSource): (c: IndicatorInput) => number {
  switch (source) {
    case 'open':
      return (c) => c.open;
    case 'high':
      return (c) => c.high;
    case 'low':
      return (c) => c.low;
    case 'close':
      return (c) => c.close;
    case 'volume':
      return (c) => c.volume;
    case 'typical':
      return (c) => (c.high + c.low + c.close) / 3;
  }
}

/** Candle prices as columns (CandleColumns has them): what `BatchSeries.seriesOver` reads. */
export interface PriceColumns {
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/**
 * An indicator that also computes its values over candle columns in one loop, for a backtest's series:
 * `seriesOver(c, from, to)` returns what a fresh indicator's `update` would return for rows from … to − 1,
 * element k for row from + k (NaN before element `lookback`: the warm-up). The same arithmetic in the same
 * order, so the same numbers to the bit (test/indicators/batchSeries.test.ts holds them equal); this
 * indicator's own state is not touched. Why: a small loop on arrays is compiled by V8 at once, where a
 * process's first series fed candle by candle runs mostly in the interpreter and boxes every number
 * (callgrind, `node --single-threaded`: a whole `rxtrade backtest` of sma_cross on 71 k 1m candles 2.31 →
 * 2.10 G instructions, a process's first search of the issue-12 grid 5.39 → 5.10 G).
 */
export interface BatchSeries {
  /** `alloc`: where the values go (an array of `count` zeros); a new Float64Array without it. */
  seriesOver(c: PriceColumns, from: number, to: number, alloc?: SeriesAlloc): Float64Array;
}

/**
 * Gives seriesOver the array of `count` elements its values go in, all 0 (as a new Float64Array is): a
 * parameter search reuses the arrays of series it no longer keeps (JobRunner).
 */
export type SeriesAlloc = (count: number) => Float64Array;

/** `source` over rows from … to − 1 as one array: the column's own (a view), or the typical prices. */
export function sourceColumn(c: PriceColumns, source: PriceSource, from: number, to: number): Float64Array {
  if (source !== 'typical') return c[source].subarray(from, to);
  const out = new Float64Array(Math.max(0, to - from));
  for (let k = 0; k < out.length; k++) {
    const i = from + k;
    out[k] = ((c.high[i] as number) + (c.low[i] as number) + (c.close[i] as number)) / 3;
  }
  return out;
}

/** An array for `seriesOver`'s values: NaN over the warm-up (its first `lookback` elements). */
export function warmingSeries(count: number, lookback: number, alloc?: SeriesAlloc): Float64Array {
  const out = alloc === undefined ? new Float64Array(Math.max(0, count)) : alloc(Math.max(0, count));
  out.fill(Number.NaN, 0, Math.min(lookback, out.length));
  return out;
}

/** `sma_20` for closes, `volume_sma_20` for another source. */
export function keyOf(name: string, source: PriceSource, ...params: number[]): string {
  const base = [name, ...params].join('_');
  return source === 'close' ? base : `${source}_${base}`;
}

/**
 * TA-Lib's TA_IS_ZERO (ta_utility.h, TA_EPSILON = 1e-14 in 0.6): where TA-Lib divides by a sum that may
 * vanish (RSI, DI, DX) it outputs 0 instead; we do the same to give the same numbers.
 */
export const TA_EPSILON = 1e-14;
export function isTaZero(v: number): boolean {
  return v > -TA_EPSILON && v < TA_EPSILON;
}

export function checkPeriod(indicator: string, name: string, value: number, min = 1): number {
  if (!Number.isSafeInteger(value) || value < min || value > 100_000) {
    throw new UsageError(`${indicator}: ${name} must be an integer from ${min} to 100000, got ${value}`);
  }
  return value;
}
