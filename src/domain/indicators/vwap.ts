import { timeframeMs } from '../timeframe.js';
import type { Indicator, IndicatorInput } from './indicator.js';

const DAY_MS = 86_400_000;

/**
 * Volume-weighted average price since the start of the candle's UTC day: Σ typical price · volume / Σ volume,
 * typical price = (high + low + close) / 3. A candle belongs to the day its interval starts in (the 1m
 * candle stamped 00:00 closes the previous day), and the sums restart with the first candle of a new day.
 * Undefined until the day has traded (all volumes so far 0). Not a TA-Lib function. O(1).
 */
export class Vwap implements Indicator<number> {
  readonly key = 'vwap';
  readonly lookback = 0;
  private day = Number.NaN;
  private pv = 0;
  private v = 0;

  update(c: IndicatorInput): number | undefined {
    const day = Math.floor((c.closeTimeMs - timeframeMs(c.timeframe)) / DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.pv = 0;
      this.v = 0;
    }
    this.pv += ((c.high + c.low + c.close) / 3) * c.volume;
    this.v += c.volume;
    return this.v > 0 ? this.pv / this.v : undefined;
  }

  reset(): void {
    this.day = Number.NaN;
    this.pv = 0;
    this.v = 0;
  }
}
