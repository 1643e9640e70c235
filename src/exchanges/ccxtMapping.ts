import type { Candle } from '../domain/candle.js';
import { MINUTE_MS } from '../domain/timeframe.js';
import type { Trade, TradeSide } from '../domain/trade.js';

/** The fields of a ccxt trade we read (ccxt's `Trade`, loosely typed across versions). */
export interface CcxtTradeLike {
  readonly id?: string | undefined;
  /** ccxt's unified symbol, `BTC/USDT`. */
  readonly symbol?: string | undefined;
  readonly timestamp?: number | undefined;
  readonly price?: number | undefined;
  readonly amount?: number | undefined;
  readonly side?: string | undefined;
  readonly info?: unknown;
}

/** ccxt's trade as ours (undefined when it lacks an id, time, price or amount). */
export function tradeFromCcxt(symbol: string, t: CcxtTradeLike): Trade | undefined {
  if (t.id === undefined || t.timestamp === undefined || t.price === undefined || t.amount === undefined) {
    return undefined;
  }
  const side: TradeSide = t.side === 'buy' || t.side === 'sell' ? t.side : 'unknown';
  return { symbol, tradeId: String(t.id), tsMs: t.timestamp, price: t.price, size: t.amount, side };
}

/** A ccxt OHLCV row `[openMs, o, h, l, c, v]` as our 1m candle (closed unless it is the newest, still open). */
export function candleFromOhlcv(
  symbol: string,
  row: readonly (number | undefined)[],
  nowMs: number,
): Candle | undefined {
  const [openMs, open, high, low, close, volume] = row;
  if (
    openMs === undefined ||
    open === undefined ||
    high === undefined ||
    low === undefined ||
    close === undefined ||
    volume === undefined
  ) {
    return undefined;
  }
  return {
    symbol,
    timeframe: '1m',
    closeTimeMs: openMs + MINUTE_MS,
    open,
    high,
    low,
    close,
    volume,
    tradesCount: 0,
    closed: openMs + MINUTE_MS <= nowMs,
    revision: 0,
    source: 'okx_candles',
  };
}
