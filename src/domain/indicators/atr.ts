import { checkPeriod, type Indicator, type IndicatorInput } from './indicator.js';

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
export class Atr implements Indicator<number> {
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

  reset(): void {
    this.prevClose = Number.NaN;
    this.seen = 0;
    this.atr = 0;
  }
}
