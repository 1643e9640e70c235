import type { Candle } from '../../src/domain/candle.js';
import { CandleStore, winnersByKey } from '../../src/storage/candleStore.js';
import { migrate } from '../../src/storage/migrate.js';
import { freshPglite, type TestDatabase } from './support/databases.js';

const T = Date.UTC(2026, 0, 1, 0, 1);

function c(timeframe: '1m' | '5m', revision: number, close: number, source?: 'okx_candles'): Candle {
  return {
    symbol: 'BTC-USDT',
    timeframe,
    closeTimeMs: T,
    open: 1,
    high: 9,
    low: 1,
    close,
    volume: 1,
    tradesCount: 1,
    closed: true,
    revision,
    ...(source !== undefined ? { source } : {}),
  };
}

describe('winnersByKey', () => {
  it('keeps per candle the newest revision, an OKX candle over any built from trades, the later on a tie', () => {
    const out = winnersByKey([c('1m', 0, 1), c('1m', 2, 3), c('1m', 1, 2), c('5m', 0, 4), c('5m', 0, 5)]);
    expect(out.map((x) => [x.timeframe, x.revision, x.close])).toEqual([
      ['1m', 2, 3],
      ['5m', 0, 5],
    ]);
    const okx = winnersByKey([c('1m', 1, 7, 'okx_candles'), c('1m', 3, 8)]);
    expect(okx.map((x) => [x.revision, x.close, x.source])).toEqual([[1, 7, 'okx_candles']]);
  });
});

describe('CandleStore.upsert of a burst of revisions', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshPglite();
    await migrate(t.db);
  });
  afterAll(() => t.dispose());

  it('stores what the upsert of every revision would: the winner of each candle', async () => {
    const store = new CandleStore(t.db, 'x');
    const burst = Array.from({ length: 500 }, (_, i) => c('1m', i, 100 + i));
    const result = await store.upsert(burst);
    expect(result).toEqual({ inserted: 1, updated: 0, unchanged: 499 });
    const [row] = await store.range('BTC-USDT', '1m', T, T + 1);
    expect(row).toMatchObject({ revision: 499, close: 599 });
  });
});
