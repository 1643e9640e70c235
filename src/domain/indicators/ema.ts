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

/**
 * The EMA recurrence as TA-Lib computes it: seeded with the plain average of the first `period` values,
 * then `ema = (x − ema) · k + ema` with k = 2 / (period + 1). Used by Ema and Macd.
 */
export class EmaCore {
  readonly k: number;
  private seedSum = 0;
  private seen = 0;
  value = Number.NaN;

  constructor(readonly period: number) {
    this.k = 2 / (period + 1);
  }

  get ready(): boolean {
    return this.seen >= this.period;
  }

  /** Adds `x`; returns the EMA once seeded, NaN before. */
  next(x: number): number {
    if (this.seen >= this.period) {
      this.value = (x - this.value) * this.k + this.value;
      return this.value;
    }
    this.seedSum += x;
    this.seen += 1;
    if (this.seen === this.period) this.value = this.seedSum / this.period;
    return this.value;
  }

  /** Starts the recurrence from `seed` (as if `period` values averaging `seed` had been seen). */
  seed(seed: number): void {
    this.seen = this.period;
    this.value = seed;
  }

  reset(): void {
    this.seedSum = 0;
    this.seen = 0;
    this.value = Number.NaN;
  }
}

/** Exponential moving average, SMA-seeded (TA-Lib EMA): first value on the `period`-th candle. O(1). */
export class Ema implements Indicator<number>, BatchSeries {
  readonly key: string;
  readonly lookback: number;
  private readonly core: EmaCore;
  private readonly read: (c: IndicatorInput) => number;

  constructor(
    readonly period: number,
    readonly source: PriceSource = 'close',
  ) {
    checkPeriod('EMA', 'period', period);
    this.key = keyOf('ema', source, period);
    this.lookback = period - 1;
    this.core = new EmaCore(period);
    this.read = sourceReader(source);
  }

  update(candle: IndicatorInput): number | undefined {
    const v = this.core.next(this.read(candle));
    return this.core.ready ? v : undefined;
  }

  /** BatchSeries: EmaCore's seed and recurrence over the rows at once. */
  seriesOver(c: PriceColumns, from: number, to: number, alloc?: SeriesAlloc): Float64Array {
    const x = sourceColumn(c, this.source, from, to);
    const n = this.period;
    const k = this.core.k;
    const out = warmingSeries(x.length, n - 1, alloc);
    if (x.length < n) return out;
    let seedSum = 0;
    for (let i = 0; i < n; i++) seedSum += x[i] as number;
    let value = seedSum / n;
    out[n - 1] = value;
    for (let i = n; i < x.length; i++) {
      value = ((x[i] as number) - value) * k + value;
      out[i] = value;
    }
    return out;
  }

  reset(): void {
    this.core.reset();
  }
}
