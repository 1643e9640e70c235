import type { Candle } from '../domain/candle.js';
import type { Timeframe } from '../domain/timeframe.js';

/** Candles of one symbol and timeframe as columns (close times in epoch ms), `length` rows. */
export interface CandleColumns {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly length: number;
  readonly closeTimeMs: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/** The columns of CandleColumns, in a file's order. */
export const CANDLE_FIELDS = ['closeTimeMs', 'open', 'high', 'low', 'close', 'volume'] as const;

/** The six columns' arrays, in CANDLE_FIELDS order. */
export type SixColumns = [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];

/** Columns of `length` rows from six arrays in CANDLE_FIELDS order (used as they are, not copied). */
export function columnsOf(
  symbol: string,
  timeframe: Timeframe,
  length: number,
  arrays: readonly Float64Array[],
): CandleColumns {
  const [closeTimeMs, open, high, low, close, volume] = arrays as SixColumns;
  return { symbol, timeframe, length, closeTimeMs, open, high, low, close, volume };
}

/** The rows of `c` as Candle objects (closed, revision 0, tradesCount 0). */
export function candlesOfColumns(c: CandleColumns, from = 0, to = c.length): Candle[] {
  const out = new Array<Candle>(Math.max(0, to - from));
  for (let i = from; i < to; i++) out[i - from] = candleOfRow(c, i);
  return out;
}

/** Row `i` of `c` as a Candle (closed, revision 0, tradesCount 0). */
export function candleOfRow(c: CandleColumns, i: number): Candle {
  return {
    symbol: c.symbol,
    timeframe: c.timeframe,
    closeTimeMs: c.closeTimeMs[i] as number,
    open: c.open[i] as number,
    high: c.high[i] as number,
    low: c.low[i] as number,
    close: c.close[i] as number,
    volume: c.volume[i] as number,
    tradesCount: 0,
    closed: true,
    revision: 0,
  };
}

/** A Candle whose fields can be rewritten (scratchCandle, toRow). */
export type MutableCandle = { -readonly [K in keyof Candle]: Candle[K] };

/** A Candle to be rewritten with rows of `c` (toRow): candleOfRow's fields, in its order. */
export function scratchCandle(c: CandleColumns): MutableCandle {
  return {
    symbol: c.symbol,
    timeframe: c.timeframe,
    closeTimeMs: Number.NaN,
    open: Number.NaN,
    high: Number.NaN,
    low: Number.NaN,
    close: Number.NaN,
    volume: Number.NaN,
    tradesCount: 0,
    closed: true,
    revision: 0,
  };
}

/** `candle` rewritten as row `i` of `c` (what candleOfRow would make). */
export function toRow(candle: MutableCandle, c: CandleColumns, i: number): Candle {
  candle.closeTimeMs = c.closeTimeMs[i] as number;
  candle.open = c.open[i] as number;
  candle.high = c.high[i] as number;
  candle.low = c.low[i] as number;
  candle.close = c.close[i] as number;
  candle.volume = c.volume[i] as number;
  return candle;
}
