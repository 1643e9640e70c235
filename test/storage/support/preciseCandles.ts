import type { Candle } from '../../../src/domain/candle.js';

/**
 * Candles of a PEPE-like pair and of the extremes every OKX instrument stays within (issue 9, point 2):
 * prices around 10⁻⁵ with 12 decimals and 10⁻¹², minute volumes past 10¹¹ and up to 10¹⁸ and beyond,
 * numbers JS prints in exponent notation (1e-7, 1e+21) and numbers that need all 17 significant digits.
 * The DECIMAL(18,8) columns of schema version 2 rounded or refused every one of them. Values are parsed
 * from text as OKX's are (123456789012.345678 is the double nearest to it).
 */

const T0 = Date.UTC(2024, 4, 1, 0, 1);
const MIN = 60_000;

function candle(i: number, symbol: string, over: Partial<Candle>): Candle {
  return {
    symbol,
    timeframe: '1m',
    closeTimeMs: T0 + i * MIN,
    open: 1,
    high: 1,
    low: 1,
    close: 1,
    volume: 1,
    tradesCount: 7,
    closed: true,
    revision: 0,
    ...over,
  };
}

export function preciseCandles(symbol: string): Candle[] {
  const rows: Partial<Candle>[] = [
    {
      open: 0.000012345678,
      high: 0.000012345679,
      low: 0.000012345677,
      close: 0.000012345678,
      volume: Number('123456789012.345678'),
    },
    { open: 1e-12, high: 3e-12, low: 1e-12, close: 2.5e-12, volume: 1e18 },
    { open: 1e-7, high: 1.5e-7, low: 1e-7, close: 1.2345678901234e-7, volume: 1e21 },
    { open: 0.1 + 0.2, high: 0.30000000000000004, low: 0.1, close: 0.2, volume: 2 ** 53 + 2 },
    { open: 67012.5, high: 67250.1, low: 66990, close: 67001.3, volume: 0.00000001 },
    { open: 4.2e-5, high: 4.3e-5, low: 4.1e-5, close: 4.25e-5, volume: 987654321098765.4 },
  ];
  return rows.map((over, i) => candle(i, symbol, over));
}
