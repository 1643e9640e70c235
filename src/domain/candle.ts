import { timeframeMs, type Timeframe } from './timeframe.js';

/**
 * An OHLCV candle, stamped with its CLOSE time: it holds the trades with
 * `closeTimeMs − timeframe ≤ tsMs < closeTimeMs`. A candle with no trades has volume 0 and OHLC equal to
 * the previous close. Strategies only ever see `closed` candles; `closed: false` is a snapshot of the
 * still-forming interval, for displays. `revision` is 0 for the first emission of an interval and counts up
 * when a late trade changes an interval that was already emitted.
 */
export interface Candle {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly closeTimeMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly tradesCount: number;
  readonly closed: boolean;
  readonly revision: number;
  /**
   * Where the candle came from: absent or `trades` when built from trades, `okx_candles` when taken from
   * OKX's candle endpoints (minutes whose trades REST could no longer serve) or derived from such candles.
   */
  readonly source?: CandleSource;
}

export type CandleSource = 'trades' | 'okx_candles';

export function openTimeMs(candle: Candle): number {
  return candle.closeTimeMs - timeframeMs(candle.timeframe);
}

/** True for a candle in which nothing traded (its OHLC just carry the previous close forward). */
export function isEmptyCandle(candle: Candle): boolean {
  return candle.volume === 0 && candle.tradesCount === 0;
}
