import type { Candle } from '../../domain/candle.js';
import { MINUTE_MS } from '../../domain/timeframe.js';
import type { GapCandle } from './okxFeedTypes.js';

/**
 * One of OKX's own 1m candles (REST `candles`/`history-candles`, a gap report) as our candle: right-aligned,
 * `source: 'okx_candles'`, no trade count (OKX does not give one), closed unless OKX says it is still open.
 */
export function okxCandle(symbol: string, row: GapCandle, closed = true): Candle {
  return {
    symbol,
    timeframe: '1m',
    closeTimeMs: row.openTimeMs + MINUTE_MS,
    open: row.open,
    high: row.high,
    low: row.low,
    close: row.close,
    volume: row.volume,
    tradesCount: 0,
    closed,
    revision: 0,
    source: 'okx_candles',
  };
}
