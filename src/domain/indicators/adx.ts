import { trueRange } from './atr.js';
import { checkPeriod, isTaZero, type Indicator, type IndicatorInput } from './indicator.js';

/**
 * Wilder's directional movement as TA-Lib keeps it (ta_ADX.c, ta_PLUS_DI.c): +DM/−DM and TR summed over the
 * first period − 1 moves, then smoothed with x − x/period + today's value (so the first smoothed value,
 * on candle period + 1, is one Wilder step past the sum of period − 1 moves, not StockCharts' plain sum of
 * period moves).
 */
class DirectionalMovement {
  private prevHigh = Number.NaN;
  private prevLow = Number.NaN;
  private prevClose = Number.NaN;
  /** Moves seen (candles − 1), or −1 before the first candle. */
  moves = -1;
  plusDm = 0;
  minusDm = 0;
  tr = 0;

  constructor(readonly period: number) {}

  /** Adds a candle; true once the smoothed values exist (from candle period + 1 on). */
  next(c: IndicatorInput): boolean {
    const high = c.high;
    const low = c.low;
    if (this.moves < 0) {
      this.prevHigh = high;
      this.prevLow = low;
      this.prevClose = c.close;
      this.moves = 0;
      return false;
    }
    const diffP = high - this.prevHigh;
    const diffM = this.prevLow - low;
    const tr = trueRange(high, low, this.prevClose);
    this.prevHigh = high;
    this.prevLow = low;
    this.prevClose = c.close;
    const n = this.period;
    const moves = ++this.moves;
    if (moves >= n) {
      this.minusDm -= this.minusDm / n;
      this.plusDm -= this.plusDm / n;
    }
    if (diffM > 0 && diffP < diffM) this.minusDm += diffM;
    else if (diffP > 0 && diffP > diffM) this.plusDm += diffP;
    this.tr = moves >= n ? this.tr - this.tr / n + tr : this.tr + tr;
    return moves >= n;
  }

  reset(): void {
    this.moves = -1;
    this.plusDm = 0;
    this.minusDm = 0;
    this.tr = 0;
  }
}

export interface DmiValue {
  readonly plusDi: number;
  readonly minusDi: number;
}

export interface AdxValue extends DmiValue {
  readonly adx: number;
}

/**
 * +DI and −DI (TA-Lib PLUS_DI / MINUS_DI, unstable period 0): 100 · smoothed ±DM / smoothed TR, from
 * candle period + 1 on; 0 when the smoothed true range is 0. O(1).
 */
export class Dmi implements Indicator<DmiValue> {
  readonly key: string;
  readonly lookback: number;
  private readonly dm: DirectionalMovement;

  constructor(readonly period = 14) {
    checkPeriod('DMI', 'period', period, 2);
    this.key = `dmi_${period}`;
    this.lookback = period;
    this.dm = new DirectionalMovement(period);
  }

  update(c: IndicatorInput): DmiValue | undefined {
    const dm = this.dm;
    if (!dm.next(c)) return undefined;
    if (isTaZero(dm.tr)) return { plusDi: 0, minusDi: 0 };
    return { plusDi: 100 * (dm.plusDm / dm.tr), minusDi: 100 * (dm.minusDm / dm.tr) };
  }

  reset(): void {
    this.dm.reset();
  }
}

/**
 * Average Directional Index (TA-Lib ADX, unstable period 0): DX = 100 · |+DI − −DI| / (+DI + −DI) from
 * candle period + 1; the first ADX, on candle 2·period, is the average of the first `period` DX; then
 * adx = (adx · (period − 1) + dx) / period. A candle whose TR or DI sum is 0 leaves the ADX unchanged
 * (and adds nothing to the first average), as in TA-Lib. Also returns that candle's +DI and −DI. O(1).
 */
export class Adx implements Indicator<AdxValue> {
  readonly key: string;
  readonly lookback: number;
  private readonly dm: DirectionalMovement;
  private sumDx = 0;
  private adx = Number.NaN;

  constructor(readonly period = 14) {
    checkPeriod('ADX', 'period', period, 2);
    this.key = `adx_${period}`;
    this.lookback = 2 * period - 1;
    this.dm = new DirectionalMovement(period);
  }

  update(c: IndicatorInput): AdxValue | undefined {
    const dm = this.dm;
    if (!dm.next(c)) return undefined;
    const n = this.period;
    let plusDi = 0;
    let minusDi = 0;
    let dx = Number.NaN;
    if (!isTaZero(dm.tr)) {
      minusDi = 100 * (dm.minusDm / dm.tr);
      plusDi = 100 * (dm.plusDm / dm.tr);
      const sum = minusDi + plusDi;
      if (!isTaZero(sum)) dx = 100 * (Math.abs(minusDi - plusDi) / sum);
    }
    const k = dm.moves - n; // 0 on the first DX
    if (k < n) {
      if (!Number.isNaN(dx)) this.sumDx += dx;
      if (k < n - 1) return undefined;
      this.adx = this.sumDx / n;
    } else if (!Number.isNaN(dx)) {
      this.adx = (this.adx * (n - 1) + dx) / n;
    }
    return { adx: this.adx, plusDi, minusDi };
  }

  reset(): void {
    this.dm.reset();
    this.sumDx = 0;
    this.adx = Number.NaN;
  }
}
