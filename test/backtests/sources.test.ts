import { exchangesWithSymbol, storedCandleSets } from '../../backtests/sources.js';
import type { Candle } from '../../src/domain/candle.js';
import type { Timeframe } from '../../src/domain/timeframe.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import { migrate } from '../../src/storage/migrate.js';
import { freshPglite, freshPostgres, type TestDatabase } from '../storage/support/databases.js';

function candle(symbol: string, timeframe: Timeframe, closeTimeMs: number): Candle {
  return {
    symbol,
    timeframe,
    closeTimeMs,
    open: 1,
    high: 2,
    low: 1,
    close: 2,
    volume: 3,
    tradesCount: 1,
    closed: true,
    revision: 0,
  };
}

const T0 = Date.UTC(2024, 0, 1);

describe.each([
  ['PGlite', freshPglite],
  ['Postgres', freshPostgres],
] as const)('what market_data holds, on %s', (_kind, fresh) => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await fresh();
    await migrate(handle.db);
  }, 60_000);
  afterAll(() => handle?.dispose());

  it('lists nothing in an empty table', async () => {
    expect(await storedCandleSets(handle.db)).toEqual([]);
    expect(await exchangesWithSymbol(handle.db, 'BTC-USDT')).toEqual([]);
  });

  it('names the exchanges that have a symbol, and every exchange, symbol and timeframe with its range', async () => {
    await new CandleStore(handle.db, 'okx').upsert([
      candle('BTC-USDT', '1m', T0 + 60_000),
      candle('BTC-USDT', '1m', T0 + 120_000),
      candle('ETH-USDT', '1d', T0 + 86_400_000),
    ]);
    await new CandleStore(handle.db, 'okx-sim').upsert([candle('BTC-USDT', '1m', T0 + 180_000)]);
    await new CandleStore(handle.db, 'kraken').upsert([candle('SOL-USD', '1h', T0 + 3_600_000)]);

    expect(await exchangesWithSymbol(handle.db, 'BTC-USDT')).toEqual(['okx', 'okx-sim']);
    expect(await exchangesWithSymbol(handle.db, 'ETH-USDT')).toEqual(['okx']);
    expect(await exchangesWithSymbol(handle.db, 'DOGE-USDT')).toEqual([]);
    expect(await storedCandleSets(handle.db)).toEqual([
      {
        exchange: 'kraken',
        symbol: 'SOL-USD',
        timeframe: '1h',
        firstCloseTimeMs: T0 + 3_600_000,
        lastCloseTimeMs: T0 + 3_600_000,
        count: 1,
      },
      {
        exchange: 'okx',
        symbol: 'BTC-USDT',
        timeframe: '1m',
        firstCloseTimeMs: T0 + 60_000,
        lastCloseTimeMs: T0 + 120_000,
        count: 2,
      },
      {
        exchange: 'okx',
        symbol: 'ETH-USDT',
        timeframe: '1d',
        firstCloseTimeMs: T0 + 86_400_000,
        lastCloseTimeMs: T0 + 86_400_000,
        count: 1,
      },
      {
        exchange: 'okx-sim',
        symbol: 'BTC-USDT',
        timeframe: '1m',
        firstCloseTimeMs: T0 + 180_000,
        lastCloseTimeMs: T0 + 180_000,
        count: 1,
      },
    ]);
  });
});
