import type { Trade } from '../../src/domain/trade.js';
import { migrate } from '../../src/storage/migrate.js';
import { RawTradeStore } from '../../src/storage/rawTradeStore.js';
import { freshPglite, freshPostgres, type TestDatabase } from './support/databases.js';

const trade = (id: number, tsMs: number, extra: Partial<Trade> = {}): Trade => ({
  symbol: 'BTC-USDT',
  tradeId: String(id),
  tsMs,
  price: 60_000 + id / 100,
  size: 0.001 * id,
  side: id % 2 === 0 ? 'buy' : 'sell',
  ...extra,
});

describe.each([
  ['postgres', freshPostgres],
  ['pglite', freshPglite],
] as const)('RawTradeStore: %s', (_kind, fresh) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await fresh();
    await migrate(t.db);
  }, 60_000);
  afterAll(async () => t?.dispose());

  it('stores trades across months (partitions created on demand) and stores each trade once', async () => {
    const store = new RawTradeStore(t.db);
    const jan = Date.UTC(2024, 0, 31, 23, 59, 59, 500);
    const feb = Date.UTC(2024, 1, 1, 0, 0, 0, 250);
    const trades = [trade(8, jan), trade(9, feb, { count: 3 }), trade(10, feb)];
    expect(await store.insert(trades)).toBe(3);
    // A replay (after an outage, or from a spill file) adds nothing.
    expect(await store.insert(trades)).toBe(0);
    expect(await store.insert([...trades, trade(11, feb + 1)])).toBe(1);
    expect(await store.range('BTC-USDT', jan, feb + 2)).toEqual([...trades, trade(11, feb + 1)]);
    const parts = await t.db.query<{ relname: string }>(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'raw_trades' ORDER BY 1`,
    );
    expect(parts.map((p) => p.relname)).toEqual(['raw_trades_2024_01', 'raw_trades_2024_02']);
  });
});
