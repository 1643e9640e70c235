import { keyOf, sourceReader, type Indicator, type IndicatorInput, type PriceSource } from './indicator.js';

/**
 * On-Balance Volume (TA-Lib OBV): starts at the FIRST candle's volume (TA-Lib's seed; StockCharts and
 * technicalindicators start at 0, so their values differ by that constant), then adds the volume of a
 * candle that closes higher than the previous one and subtracts it when lower. Value from the first candle.
 */
export class Obv implements Indicator<number> {
  readonly key: string;
  readonly lookback = 0;
  private readonly read: (c: IndicatorInput) => number;
  private prev = Number.NaN;
  private obv = Number.NaN;

  constructor(readonly source: PriceSource = 'close') {
    this.key = keyOf('obv', source);
    this.read = sourceReader(source);
  }

  update(c: IndicatorInput): number {
    const x = this.read(c);
    if (Number.isNaN(this.obv)) this.obv = c.volume;
    else if (x > this.prev) this.obv += c.volume;
    else if (x < this.prev) this.obv -= c.volume;
    this.prev = x;
    return this.obv;
  }

  reset(): void {
    this.prev = Number.NaN;
    this.obv = Number.NaN;
  }
}
