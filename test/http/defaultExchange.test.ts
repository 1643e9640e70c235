import type { Candle } from '../../src/domain/candle.js';
import { DefaultExchange } from '../../src/http/market/defaultExchange.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import type { Database } from '../../src/storage/database.js';
import { migrate } from '../../src/storage/migrate.js';
import { freshPglite, type TestDatabase } from '../storage/support/databases.js';

/** The history route's default exchange, on a real (PGlite) market_data, with a clock of the test's. */

const candle = (symbol: string): Candle => ({
  symbol,
  timeframe: '1m',
  closeTimeMs: Date.UTC(2025, 0, 1, 0, 1),
  open: 1,
  high: 2,
  low: 0.5,
  close: 1.5,
  volume: 1,
  tradesCount: 1,
  closed: true,
  revision: 0,
});

/** Counts the queries that reach the database. */
function counting(db: Database): { db: Database; queries: () => number } {
  let n = 0;
  const wrapped = Object.create(db) as Database;
  wrapped.query = ((...args: Parameters<Database['query']>) => {
    n += 1;
    return db.query(...args);
  }) as Database['query'];
  return { db: wrapped, queries: () => n };
}

let test: TestDatabase;

beforeAll(async () => {
  test = await freshPglite();
  await migrate(test.db);
  await new CandleStore(test.db, 'okx-sim').upsert([candle('BTC-USDT')]);
}, 60_000);

afterAll(async () => {
  await test?.dispose();
});

describe('DefaultExchange', () => {
  it('prefers okx, else the first exchange that has the symbol, and remembers it for a while', async () => {
    let now = 1_000_000;
    const { db, queries } = counting(test.db);
    const choose = new DefaultExchange(db, 10_000, () => now);
    await expect(choose.of('BTC-USDT')).resolves.toBe('okx-sim');
    const probes = queries();
    expect(probes).toBeGreaterThan(0);
    // Within the time: no probe, the same answer even though okx now has the symbol too.
    await new CandleStore(test.db, 'okx').upsert([candle('BTC-USDT')]);
    now += 9_999;
    await expect(choose.of('BTC-USDT')).resolves.toBe('okx-sim');
    expect(queries()).toBe(probes);
    // After it: probed again, okx wins.
    now += 2;
    await expect(choose.of('BTC-USDT')).resolves.toBe('okx');
    expect(queries()).toBeGreaterThan(probes);
  });

  it('does not remember a symbol without candles: its first candles are seen at once', async () => {
    const choose = new DefaultExchange(test.db, 10_000, () => 0);
    await expect(choose.of('ETH-USDT')).resolves.toBe('okx');
    await new CandleStore(test.db, 'okx-sim').upsert([candle('ETH-USDT')]);
    await expect(choose.of('ETH-USDT')).resolves.toBe('okx-sim');
  });
});
