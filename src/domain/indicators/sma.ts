import {
  checkPeriod,
  keyOf,
  sourceColumn,
  sourceReader,
  warmingSeries,
  type BatchSeries,
  type SeriesAlloc,
  type Indicator,
  type IndicatorInput,
  type PriceColumns,
  type PriceSource,
} from './indicator.js';

/** Updates between exact re-summations of the window (amortised cost: period / RESUM_EVERY per update). */
const RESUM_EVERY = 128;

/**
 * A sliding window of the last `period` values with a running sum. The sum is kept the way TA-Lib keeps
 * it (the n−1 newest values, plus the new one at output time), and re-summed exactly from the window every
 * 1024 updates so rounding cannot drift over millions of candles (it would otherwise: volumes jump by
 * orders of magnitude and leave `ulp(spike)` behind in the sum).
 */
export class RollingWindow {
  readonly values: Float64Array;
  /** Values seen, capped at `period`. */
  count = 0;
  /** Slot of the oldest value once full (the next one to be replaced). */
  oldest = 0;
  /** Sum of the newest period − 1 values (TA-Lib's periodTotal between outputs). */
  private partial = 0;
  private sinceResum = 0;

  constructor(readonly period: number) {
    this.values = new Float64Array(period);
  }

  get full(): boolean {
    return this.count === this.period;
  }

  /** Adds `x`; returns the sum of the window once full, NaN before. */
  push(x: number): number {
    const n = this.period;
    if (this.count < n) {
      this.values[this.count] = x;
      this.count += 1;
      if (this.count < n) {
        this.partial += x;
        return Number.NaN;
      }
      const total = this.partial + x;
      this.partial = total - (this.values[0] as number);
      return total;
    }
    const i = this.oldest;
    this.values[i] = x;
    this.oldest = i + 1 === n ? 0 : i + 1;
    const total = this.partial + x;
    if (++this.sinceResum >= RESUM_EVERY) {
      this.sinceResum = 0;
      this.partial = this.sumNewest(n - 1);
    } else {
      this.partial = total - (this.values[this.oldest] as number);
    }
    return total;
  }

  /** Value `k` steps back (0 = newest); the window must be full. */
  back(k: number): number {
    const n = this.period;
    const i = this.oldest - 1 - k;
    return this.values[i < 0 ? i + n : i] as number;
  }

  /** Exact sum of the `m` newest values, oldest first (the order TA-Lib adds them in). */
  private sumNewest(m: number): number {
    let s = 0;
    for (let k = m - 1; k >= 0; k--) s += this.back(k);
    return s;
  }

  reset(): void {
    this.count = 0;
    this.oldest = 0;
    this.partial = 0;
    this.sinceResum = 0;
  }
}

/**
 * Simple moving average of the last `period` values (TA-Lib SMA): first value on the `period`-th candle.
 * O(1) per candle. `source` picks the series (closes by default; `volume` gives the volume SMA).
 */
export class Sma implements Indicator<number>, BatchSeries {
  readonly key: string;
  readonly lookback: number;
  private readonly window: RollingWindow;
  private readonly read: (c: IndicatorInput) => number;

  constructor(
    readonly period: number,
    readonly source: PriceSource = 'close',
  ) {
    checkPeriod('SMA', 'period', period);
    this.key = keyOf('sma', source, period);
    this.lookback = period - 1;
    this.window = new RollingWindow(period);
    this.read = sourceReader(source);
  }

  update(candle: IndicatorInput): number | undefined {
    return this.next(this.read(candle));
  }

  /** BatchSeries: RollingWindow's sums, in its order, over the rows at once. */
  seriesOver(c: PriceColumns, from: number, to: number, alloc?: SeriesAlloc): Float64Array {
    const x = sourceColumn(c, this.source, from, to);
    const n = this.period;
    const count = x.length;
    const out = warmingSeries(count, n - 1, alloc);
    if (count < n) return out;
    const window = new Float64Array(n);
    let partial = 0;
    for (let k = 0; k < n - 1; k++) {
      const v = x[k] as number;
      window[k] = v;
      partial += v;
    }
    const last = x[n - 1] as number;
    window[n - 1] = last;
    let total = partial + last;
    partial = total - (window[0] as number);
    out[n - 1] = total / n;
    let oldest = 0;
    let sinceResum = 0;
    for (let k = n; k < count; k++) {
      const v = x[k] as number;
      window[oldest] = v;
      oldest = oldest + 1 === n ? 0 : oldest + 1;
      total = partial + v;
      if (++sinceResum >= RESUM_EVERY) {
        sinceResum = 0;
        // RollingWindow.sumNewest(n − 1): the newest n − 1 values, oldest first.
        let sum = 0;
        for (let b = n - 2; b >= 0; b--) {
          const j = oldest - 1 - b;
          sum += window[j < 0 ? j + n : j] as number;
        }
        partial = sum;
      } else {
        partial = total - (window[oldest] as number);
      }
      out[k] = total / n;
    }
    return out;
  }

  /** Feeds a raw value (for indicators built on this one). */
  next(x: number): number | undefined {
    const total = this.window.push(x);
    return this.window.full ? total / this.period : undefined;
  }

  reset(): void {
    this.window.reset();
  }
}
