import { EmaCore } from './ema.js';
import {
  checkPeriod,
  keyOf,
  sourceReader,
  type Indicator,
  type IndicatorInput,
  type PriceSource,
} from './indicator.js';

export interface MacdValue {
  readonly macd: number;
  readonly signal: number;
  readonly hist: number;
}

/**
 * MACD with TA-Lib's conventions (TA_MACD): EMA(fast) − EMA(slow), its EMA(signal), and their difference.
 * Both EMAs start on the slow-th candle: the slow one seeded with the average of the first `slow` closes,
 * the fast one with the average of the `fast` closes ending there (not of the first `fast` closes, as
 * StockCharts and technicalindicators do; the two agree to ≤ 1e-9 relative once that seed has decayed,
 * after ~300 candles for 12/26).
 * The first value comes with candle slow + signal − 1 (34 for 12/26/9), all three outputs together. O(1).
 */
export class Macd implements Indicator<MacdValue> {
  readonly key: string;
  readonly lookback: number;
  private readonly read: (c: IndicatorInput) => number;
  private readonly fastEma: EmaCore;
  private readonly slowEma: EmaCore;
  private readonly signalEma: EmaCore;
  /** The first `slow` values, to seed both EMAs on the slow-th candle. */
  private readonly warm: number[] = [];

  constructor(
    readonly fast = 12,
    readonly slow = 26,
    readonly signal = 9,
    readonly source: PriceSource = 'close',
  ) {
    checkPeriod('MACD', 'fast period', fast);
    checkPeriod('MACD', 'slow period', slow);
    checkPeriod('MACD', 'signal period', signal);
    // TA-Lib swaps the periods when slow < fast.
    if (slow < fast) [this.fast, this.slow] = [slow, fast];
    this.key = keyOf('macd', source, fast, slow, signal);
    this.lookback = this.slow - 1 + (signal - 1);
    this.read = sourceReader(source);
    this.fastEma = new EmaCore(this.fast);
    this.slowEma = new EmaCore(this.slow);
    this.signalEma = new EmaCore(signal);
  }

  update(candle: IndicatorInput): MacdValue | undefined {
    const x = this.read(candle);
    let macd: number;
    if (this.slowEma.ready) {
      macd = this.fastEma.next(x) - this.slowEma.next(x);
    } else {
      this.warm.push(x);
      if (this.warm.length < this.slow) return undefined;
      // Sums in time order, as TA-Lib adds them.
      let slowSum = 0;
      for (const v of this.warm) slowSum += v;
      let fastSum = 0;
      for (let i = this.slow - this.fast; i < this.slow; i++) fastSum += this.warm[i] as number;
      this.slowEma.seed(slowSum / this.slow);
      this.fastEma.seed(fastSum / this.fast);
      this.warm.length = 0;
      macd = this.fastEma.value - this.slowEma.value;
    }
    const signal = this.signalEma.next(macd);
    if (!this.signalEma.ready) return undefined;
    return { macd, signal, hist: macd - signal };
  }

  reset(): void {
    this.fastEma.reset();
    this.slowEma.reset();
    this.signalEma.reset();
    this.warm.length = 0;
  }
}
