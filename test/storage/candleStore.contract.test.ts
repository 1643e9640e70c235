import type { Candle } from '../../src/domain/candle.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import { migrate } from '../../src/storage/migrate.js';
import { freshPglite, freshPostgres, type TestDatabase } from './support/databases.js';

const T0 = Date.UTC(2024, 7, 8, 23, 55);
const MIN = 60_000;

function candle(i: number, over: Partial<Candle> = {}): Candle {
  return {
    symbol: 'BTC-USDT',
    timeframe: '1m',
    closeTimeMs: T0 + i * MIN,
    open: 61837.63 + i,
    high: 61855.37 + i,
    low: 61824.00000001 + i,
    close: 61828.12345678 + i,
    volume: 12.43238 + i / 3,
    tradesCount: 875 + i,
    closed: true,
    revision: 0,
    ...over,
  };
}

describe.each([
  ['pglite', freshPglite],
  ['postgres', freshPostgres],
] as const)('CandleStore on %s', (_kind, open) => {
  let handle: TestDatabase;
  let store: CandleStore;

  beforeAll(async () => {
    handle = await open();
    await migrate(handle.db);
    store = new CandleStore(handle.db);
  }, 60_000);
  afterAll(() => handle?.dispose());

  const all = () => store.range('BTC-USDT', '1m', 0, Number.MAX_SAFE_INTEGER);

  it('inserts new candles and reads them back exactly, oldest first', async () => {
    const batch = [candle(2), candle(0), candle(1)];
    expect(await store.upsert(batch)).toEqual({ inserted: 3, updated: 0, unchanged: 0 });
    expect(await all()).toEqual([candle(0), candle(1), candle(2)]);
  });

  it('changes nothing when the same candles are replayed', async () => {
    expect(await store.upsert([candle(0), candle(1), candle(2)])).toEqual({
      inserted: 0,
      updated: 0,
      unchanged: 3,
    });
    expect(await all()).toHaveLength(3);
  });

  it('updates a row for a revised candle, and ignores an older revision arriving after it', async () => {
    const revised = candle(1, { high: 70_000, volume: 20, tradesCount: 900, revision: 1 });
    expect(await store.upsert([revised])).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
    expect(await store.upsert([candle(1)])).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
    expect((await all())[1]).toEqual(revised);
  });

  it('keeps the newest revision when one batch holds several versions of a candle', async () => {
    const batch = [candle(3), candle(3, { close: 1, revision: 2 }), candle(3, { close: 2, revision: 1 })];
    expect(await store.upsert(batch)).toEqual({ inserted: 1, updated: 0, unchanged: 2 });
    expect((await all())[3]).toMatchObject({ close: 1, revision: 2 });
  });

  it('reads a time range [from, to) for one symbol and timeframe only, and skips forming candles', async () => {
    await store.upsert([
      candle(1, { symbol: 'ETH-USDT' }),
      candle(5, { timeframe: '5m' }),
      candle(9, { closed: false }),
    ]);
    const range = await store.range('BTC-USDT', '1m', T0 + MIN, T0 + 3 * MIN);
    expect(range.map((c) => c.closeTimeMs)).toEqual([T0 + MIN, T0 + 2 * MIN]);
    expect(await store.range('ETH-USDT', '1m', 0, Number.MAX_SAFE_INTEGER)).toHaveLength(1);
    expect(await store.range('BTC-USDT', '5m', 0, Number.MAX_SAFE_INTEGER)).toHaveLength(1);
    expect((await all()).some((c) => c.closeTimeMs === T0 + 9 * MIN)).toBe(false);
  });

  it('writes a large batch in one go and is idempotent for it too', async () => {
    const many = Array.from({ length: 20_000 }, (_, i) => candle(100 + i, { symbol: 'SOL-USDT' }));
    expect(await store.upsert(many)).toEqual({ inserted: 20_000, updated: 0, unchanged: 0 });
    expect(await store.upsert(many)).toEqual({ inserted: 0, updated: 0, unchanged: 20_000 });
    expect(await store.range('SOL-USDT', '1m', 0, Number.MAX_SAFE_INTEGER)).toHaveLength(20_000);
  }, 60_000);

  it('does nothing for an empty batch', async () => {
    expect(await store.upsert([])).toEqual({ inserted: 0, updated: 0, unchanged: 0 });
  });
});
