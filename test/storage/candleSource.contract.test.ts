import type { Candle } from '../../src/domain/candle.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import { migrate } from '../../src/storage/migrate.js';
import { MIGRATIONS } from '../../src/storage/migrations/index.js';
import { freshPglite, freshPostgres, type TestDatabase } from './support/databases.js';

/**
 * `market_data.source` (migration 4): where a candle came from. Rows that migration 4 finds marked the old
 * way (OKX's gap candles at revision 1000) are converted; afterwards a candle from OKX's candles wins over
 * one built from trades for the same minute, whatever their revisions and whichever is written first.
 */

const MIN = 60_000;
const T = Date.UTC(2024, 4, 1, 0, 0);

function candle(minute: number, price: number, extra: Partial<Candle> = {}): Candle {
  return {
    symbol: 'BTC-USDT',
    timeframe: '1m',
    closeTimeMs: T + minute * MIN,
    open: price,
    high: price,
    low: price,
    close: price,
    volume: 1,
    tradesCount: 3,
    closed: true,
    revision: 0,
    ...extra,
  };
}

describe.each([
  ['Postgres', freshPostgres],
  ['PGlite', freshPglite],
])('market_data.source on %s', (_name, fresh) => {
  let t: TestDatabase;
  afterEach(async () => t.dispose());

  it('migration 4 converts the gap candles marked with revision 1000 and leaves the other rows as trades', async () => {
    t = await fresh();
    await migrate(
      t.db,
      MIGRATIONS.filter((m) => m.id < 4),
    );
    const row = `INSERT INTO market_data (symbol, timeframe, "timestamp", open, high, low, close, volume, trades_count, revision)
                 VALUES ('BTC-USDT', $1, $2, 1, 1, 1, 1, 2, $3, $4)`;
    await t.db.query(row, ['1m', '2024-05-01T00:01:00Z', 0, 1000]); // an OKX gap candle
    await t.db.query(row, ['1m', '2024-05-01T00:02:00Z', 7, 1000]); // a late-trade revision that reached 1000
    await t.db.query(row, ['1m', '2024-05-01T00:03:00Z', 5, 2]);
    await t.db.query(row, ['5m', '2024-05-01T00:05:00Z', 0, 0]);
    await migrate(t.db);
    const rows = await t.db.query<{ ts: string; timeframe: string; source: string; revision: number }>(
      `SELECT to_char("timestamp" AT TIME ZONE 'UTC', 'HH24:MI') AS ts, timeframe, source, revision
         FROM market_data ORDER BY "timestamp"`,
    );
    expect(rows).toEqual([
      { ts: '00:01', timeframe: '1m', source: 'okx_candles', revision: 0 },
      { ts: '00:02', timeframe: '1m', source: 'trades', revision: 1000 },
      { ts: '00:03', timeframe: '1m', source: 'trades', revision: 2 },
      { ts: '00:05', timeframe: '5m', source: 'trades', revision: 0 },
    ]);
  });

  it('stores the source, and a candle from OKX candles wins over one from trades in either order', async () => {
    t = await fresh();
    await migrate(t.db);
    const store = new CandleStore(t.db, 'okx');
    const okx = (minute: number, price: number) =>
      candle(minute, price, { source: 'okx_candles', tradesCount: 0 });
    // Minute 1: ours first (a quiet minute the clock closed, revised by late trades), then OKX's.
    await store.upsert([candle(1, 10, { volume: 0, tradesCount: 0 }), candle(1, 10, { revision: 5 })]);
    expect(await store.upsert([okx(1, 11)])).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
    // Minute 2: OKX's first; ours (even a high revision) does not replace it.
    await store.upsert([okx(2, 12)]);
    expect(await store.upsert([candle(2, 99, { revision: 1500 })])).toEqual({
      inserted: 0,
      updated: 0,
      unchanged: 1,
    });
    // Minute 3: both in one batch.
    await store.upsert([okx(3, 13), candle(3, 98, { revision: 3 })]);
    // Minute 4: built from trades only.
    await store.upsert([candle(4, 14)]);

    const got = await store.range('BTC-USDT', '1m', 0, Number.MAX_SAFE_INTEGER);
    expect(got.map((c) => [c.close, c.source])).toEqual([
      [11, 'okx_candles'],
      [12, 'okx_candles'],
      [13, 'okx_candles'],
      [14, undefined],
    ]);
    const sources = await t.db.query<{ source: string }>(
      `SELECT source FROM market_data ORDER BY "timestamp"`,
    );
    expect(sources.map((r) => r.source)).toEqual(['okx_candles', 'okx_candles', 'okx_candles', 'trades']);
    expect(await store.newestCloseTimeMs('BTC-USDT', '1m')).toBe(T + 4 * MIN);
    expect(await store.newestCloseTimeMs('BTC-USDT', '5m')).toBeUndefined();
  });
});
