import { UsageError } from '../../src/domain/errors.js';
import {
  bucketCloseOf,
  closeTimeOf,
  parseTimeframe,
  parseTimeframeList,
  timeframeMs,
} from '../../src/domain/timeframe.js';
import { compareTradeIds, compareTrades, validateTrade, type Trade } from '../../src/domain/trade.js';

describe('timeframes', () => {
  it('knows the lengths and parses names', () => {
    expect(timeframeMs('1m')).toBe(60_000);
    expect(timeframeMs('4h')).toBe(14_400_000);
    expect(timeframeMs('1d')).toBe(86_400_000);
    expect(parseTimeframe('1H')).toBe('1h');
    expect(parseTimeframeList(' 1d,1m, 5m,1m ')).toEqual(['1m', '5m', '1d']);
    expect(() => parseTimeframe('1M')).toThrow(UsageError);
    expect(() => parseTimeframe('2m')).toThrow(/unknown timeframe "2m": use one of 1m, 5m, 15m, 1h, 4h, 1d/);
    expect(() => parseTimeframeList(',')).toThrow(/no timeframe given/);
  });

  it('stamps intervals with their close: a time exactly on a boundary opens the next interval', () => {
    const nine = Date.UTC(2024, 7, 9, 9, 0, 0);
    expect(closeTimeOf(nine - 1, 300_000)).toBe(nine);
    expect(closeTimeOf(nine, 300_000)).toBe(nine + 300_000);
    expect(closeTimeOf(Date.UTC(2024, 7, 9, 23, 59, 59, 999), 86_400_000)).toBe(Date.UTC(2024, 7, 10));
    expect(closeTimeOf(Date.UTC(2024, 7, 9, 5, 0), 14_400_000)).toBe(Date.UTC(2024, 7, 9, 8, 0));
  });

  it('finds the higher bucket of a lower candle by its close', () => {
    const nine = Date.UTC(2024, 7, 9, 9, 0, 0);
    expect(bucketCloseOf(nine, 300_000)).toBe(nine); // the 08:59–09:00 minute completes the 09:00 5m
    expect(bucketCloseOf(nine + 60_000, 300_000)).toBe(nine + 300_000);
  });
});

describe('trades', () => {
  const t = (over: Partial<Trade>): Trade => ({
    symbol: 'BTC-USDT',
    tradeId: '1',
    tsMs: 1723161255342,
    price: 1,
    size: 1,
    side: 'buy',
    ...over,
  });

  it('orders ids numerically without parsing them', () => {
    expect(compareTradeIds('9', '10')).toBeLessThan(0);
    expect(compareTradeIds('3735683260', '3735683259')).toBeGreaterThan(0);
    expect(compareTradeIds('42', '42')).toBe(0);
    expect(compareTrades(t({ tsMs: 2, tradeId: '1' }), t({ tsMs: 1, tradeId: '9' }))).toBeGreaterThan(0);
    expect(compareTrades(t({ tsMs: 1, tradeId: '10' }), t({ tsMs: 1, tradeId: '9' }))).toBeGreaterThan(0);
  });

  it.each([
    [{ price: Number.NaN }, /price NaN is not a positive finite number/],
    [{ price: 0 }, /price 0/],
    [{ price: Number.POSITIVE_INFINITY }, /price Infinity/],
    [{ size: -1 }, /size -1 is not a finite number ≥ 0/],
    [{ size: Number.NaN }, /size NaN/],
    [{ tsMs: 1.5 }, /timestamp 1.5 is not an integer/],
    [{ symbol: '' }, /symbol is empty/],
  ])('refuses an impossible trade %j', (over, message) => {
    expect(() => validateTrade(t(over))).toThrow(message);
  });

  it('accepts a good trade', () => {
    expect(validateTrade(t({}))).toEqual(t({}));
  });
});
