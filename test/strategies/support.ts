import type { Candle } from '../../src/domain/candle.js';
import type { Signal } from '../../src/domain/signal.js';
import type { Timeframe } from '../../src/domain/timeframe.js';

const MIN = 60_000;

/** A closed candle of `timeframe` closing at `minute`; one price for OHLC unless given. */
export function bar(
  minute: number,
  close: number,
  extra: Partial<Candle> = {},
  timeframe: Timeframe = '1m',
): Candle {
  return {
    symbol: 'BTC-USDT',
    timeframe,
    closeTimeMs: minute * MIN,
    open: close,
    high: close,
    low: close,
    close,
    volume: 1,
    tradesCount: 1,
    closed: true,
    revision: 0,
    ...extra,
  };
}

/** 1m candles closing at minutes 1, 2, … with these closes. */
export function series(closes: readonly number[], from = 1): Candle[] {
  return closes.map((c, i) => bar(from + i, c));
}

/** The index (0-based candle number) and action of every buy or sell. */
export function trades(signals: readonly Signal[]): [number, 'buy' | 'sell'][] {
  const out: [number, 'buy' | 'sell'][] = [];
  signals.forEach((s, i) => {
    if (s.action !== 'hold') out.push([i, s.action]);
  });
  return out;
}
