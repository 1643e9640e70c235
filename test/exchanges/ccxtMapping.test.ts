import { candleFromOhlcv, tradeFromCcxt } from '../../src/exchanges/ccxtMapping.js';
import { fromUnified, toUnified } from '../../src/exchanges/exchangeAdapter.js';

describe('ccxt mapping', () => {
  it('maps symbols both ways (spot; a settle suffix is dropped)', () => {
    expect(toUnified('BTC-USDT')).toBe('BTC/USDT');
    expect(fromUnified('BTC/USDT')).toBe('BTC-USDT');
    expect(fromUnified('BTC/USDT:USDT')).toBe('BTC-USDT');
  });

  it('maps a trade, with an unknown side as unknown, and skips one without an id', () => {
    const t = tradeFromCcxt('BTC-USDT', {
      id: '42',
      timestamp: 1723161240123,
      price: 61000.5,
      amount: 0.01,
      side: 'sell',
    });
    expect(t).toEqual({
      symbol: 'BTC-USDT',
      tradeId: '42',
      tsMs: 1723161240123,
      price: 61000.5,
      size: 0.01,
      side: 'sell',
    });
    expect(tradeFromCcxt('BTC-USDT', { id: '1', timestamp: 5, price: 1, amount: 1, side: 'x' })?.side).toBe(
      'unknown',
    );
    expect(tradeFromCcxt('BTC-USDT', { timestamp: 5, price: 1, amount: 1 })).toBeUndefined();
  });

  it('maps an OHLCV row to a 1m candle, closed once its minute has passed', () => {
    const row = [120_000, 1, 3, 0.5, 2, 10];
    expect(candleFromOhlcv('ETH-USDT', row, 180_000)).toMatchObject({
      symbol: 'ETH-USDT',
      timeframe: '1m',
      closeTimeMs: 180_000,
      open: 1,
      high: 3,
      low: 0.5,
      close: 2,
      volume: 10,
      closed: true,
    });
    expect(candleFromOhlcv('ETH-USDT', row, 179_999)?.closed).toBe(false);
    expect(candleFromOhlcv('ETH-USDT', [120_000, 1, 3], 180_000)).toBeUndefined();
  });
});
