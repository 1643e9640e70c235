import {
  checkPeriod,
  warmingSeries,
  type BatchSeries,
  type SeriesAlloc,
  type Indicator,
  type IndicatorInput,
  type PriceColumns,
} from './indicator.js';

/** True range of a candle given the previous close (TA-Lib TRANGE). */
export function trueRange(high: number, low: number, previousClose: number): number {
  let tr = high - low;
  const up = Math.abs(previousClose - high);
  if (up > tr) tr = up;
  const down = Math.abs(previousClose - low);
  if (down > tr) tr = down;
  return tr;
}

/**
 * Average True Range with Wilder's smoothing (TA-Lib ATR, unstable period 0): true ranges start on the
 * second candle; the first ATR, on candle period + 1, is their plain average; then
 * atr = (atr · (period − 1) + tr) / period. O(1).
 */
export class Atr implements Indicator<number>, BatchSeries {
  readonly key: string;
  readonly lookback: number;
  private prevClose = Number.NaN;
  private seen = 0;
  private atr = 0;

  constructor(readonly period = 14) {
    checkPeriod('ATR', 'period', period);
    this.key = `atr_${period}`;
    this.lookback = period;
  }

  update(c: IndicatorInput): number | undefined {
    const seen = this.seen;
    const prevClose = this.prevClose;
    this.prevClose = c.close;
    if (seen === 0) {
      this.seen = 1;
      return undefined;
    }
    const tr = trueRange(c.high, c.low, prevClose);
    const n = this.period;
    if (seen < n) {
      this.atr += tr;
      this.seen = seen + 1;
      return undefined;
    }
    if (seen === n) {
      this.atr = (this.atr + tr) / n;
      this.seen = seen + 1;
      return this.atr;
    }
    this.atr *= n - 1;
    this.atr += tr;
    this.atr /= n;
    return this.atr;
  }

  /** BatchSeries: update's steps over the rows at once. */
  seriesOver(c: PriceColumns, from: number, to: number, alloc?: SeriesAlloc): Float64Array {
    const n = this.period;
    const count = Math.max(0, to - from);
    const out = warmingSeries(count, n, alloc);
    if (count <= n) return out;
    const { high, low, close } = c;
    let prevClose = close[from] as number;
    let atr = 0;
    for (let seen = 1; seen < n; seen++) {
      const i = from + seen;
      atr += trueRange(high[i] as number, low[i] as number, prevClose);
      prevClose = close[i] as number;
    }
    const i = from + n;
    atr = (atr + trueRange(high[i] as number, low[i] as number, prevClose)) / n;
    prevClose = close[i] as number;
    out[n] = atr;
    // trueRange written out: the call, which V8 does not inline here (bin/rxtrade.js compiles backtests
    // without inlining), boxed its result every row (~1.2 MB of a backtest's ~38 MB of garbage).
    for (let k = n + 1; k < count; k++) {
      const r = from + k;
      const h = high[r] as number;
      const l = low[r] as number;
      let tr = h - l;
      const up = Math.abs(prevClose - h);
      if (up > tr) tr = up;
      const down = Math.abs(prevClose - l);
      if (down > tr) tr = down;
      atr *= n - 1;
      atr += tr;
      atr /= n;
      prevClose = close[r] as number;
      out[k] = atr;
    }
    return out;
  }

  reset(): void {
    this.prevClose = Number.NaN;
    this.seen = 0;
    this.atr = 0;
  }
}
