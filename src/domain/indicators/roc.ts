import {
  checkPeriod,
  keyOf,
  sourceReader,
  type Indicator,
  type IndicatorInput,
  type PriceSource,
} from './indicator.js';

/**
 * Rate of change in percent (TA-Lib ROC): (x / x[period candles ago] − 1) · 100, from candle period + 1;
 * 0 when the old value is 0. O(1).
 */
export class Roc implements Indicator<number> {
  readonly key: string;
  readonly lookback: number;
  private readonly read: (c: IndicatorInput) => number;
  private readonly ring: Float64Array;
  private seen = 0;
  private at = 0;

  constructor(
    readonly period = 10,
    readonly source: PriceSource = 'close',
  ) {
    checkPeriod('ROC', 'period', period);
    this.key = keyOf('roc', source, period);
    this.lookback = period;
    this.read = sourceReader(source);
    this.ring = new Float64Array(period);
  }

  update(c: IndicatorInput): number | undefined {
    const x = this.read(c);
    const i = this.at;
    const old = this.ring[i] as number;
    this.ring[i] = x;
    this.at = i + 1 === this.period ? 0 : i + 1;
    if (this.seen < this.period) {
      this.seen += 1;
      return undefined;
    }
    return old !== 0 ? (x / old - 1) * 100 : 0;
  }

  reset(): void {
    this.seen = 0;
    this.at = 0;
  }
}
