import { CandleStore } from '../../src/storage/candleStore.js';
import type { Database } from '../../src/storage/database.js';
import { migrate } from '../../src/storage/migrate.js';
import { MIGRATIONS } from '../../src/storage/migrations/index.js';
import { freshPglite, freshPostgres, type TestDatabase } from './support/databases.js';
import { preciseCandles } from './support/preciseCandles.js';

/**
 * Migration 3 turns the fixed-scale price, size and money columns into unconstrained numeric: a database
 * at version 2 holding rows (at the bounds of the old types) is migrated, every value is kept, and the
 * columns then hold what the old types refused or rounded.
 */

/** Every fixed-scale column the schema had at version 2, with a value at the edge of its type. */
const OLD_COLUMNS: Record<string, Record<string, string>> = {
  market_data: {
    open: '0.00001235',
    high: '9999999999.99999999',
    low: '0.00000001',
    close: '61828.12345678',
    volume: '9999999999.99999999',
  },
  bots: { virtual_balance: '10000.00000000', current_balance: '9999999999999999.99999999' },
  signals: { price: '0.00000001' },
  trades: {
    price: '61828.12345678',
    quantity: '0.00012345',
    fees: '0.00000001',
    pnl: '-9999999999999999.99999999',
    balance_after: '10000.12345678',
  },
  bot_performance: {
    total_value: '10000.00000001',
    cash_balance: '9999999999999999.99999999',
    crypto_balance: '0.00000001',
    total_fees: '12.34567890',
  },
  positions: { quantity: '123456.78900000', avg_entry: '0.00001235', stop_loss: '0.00001000' },
};

async function insertVersion2Rows(db: Database): Promise<void> {
  const md = OLD_COLUMNS.market_data as Record<string, string>;
  await db.query(
    `INSERT INTO market_data (symbol, timeframe, "timestamp", open, high, low, close, volume)
     VALUES ('PEPE-USDT', '1m', '2024-05-01T00:00:00Z', $1, $2, $3, $4, $5)`,
    [md.open, md.high, md.low, md.close, md.volume],
  );
  const b = OLD_COLUMNS.bots as Record<string, string>;
  await db.query(
    `INSERT INTO bots (id, name, strategy_name, symbol, timeframe, virtual_balance, current_balance)
     VALUES (1, 'pepe', 'ema_crossover', 'PEPE-USDT', '1m', $1, $2)`,
    [b.virtual_balance, b.current_balance],
  );
  await db.query(
    `INSERT INTO signals (id, bot_id, "timestamp", signal_type, price) VALUES (1, 1, now(), 'buy', $1)`,
    [OLD_COLUMNS.signals?.price],
  );
  const t = OLD_COLUMNS.trades as Record<string, string>;
  await db.query(
    `INSERT INTO trades (bot_id, signal_id, "timestamp", side, price, quantity, fees, pnl, balance_after)
     VALUES (1, 1, now(), 'buy', $1, $2, $3, $4, $5)`,
    [t.price, t.quantity, t.fees, t.pnl, t.balance_after],
  );
  const p = OLD_COLUMNS.bot_performance as Record<string, string>;
  await db.query(
    `INSERT INTO bot_performance (bot_id, "timestamp", total_value, cash_balance, crypto_balance, total_fees)
     VALUES (1, now(), $1, $2, $3, $4)`,
    [p.total_value, p.cash_balance, p.crypto_balance, p.total_fees],
  );
  const q = OLD_COLUMNS.positions as Record<string, string>;
  await db.query(
    `INSERT INTO positions (bot_id, symbol, quantity, avg_entry, stop_loss, opened_at)
     VALUES (1, 'PEPE-USDT', $1, $2, $3, now())`,
    [q.quantity, q.avg_entry, q.stop_loss],
  );
}

/** The old columns' values as the database prints them (numeric → exact text), per table. */
async function readOldColumns(db: Database): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [table, columns] of Object.entries(OLD_COLUMNS)) {
    const list = Object.keys(columns).join(', ');
    const [row] = await db.query<Record<string, string>>(`SELECT ${list} FROM ${table}`);
    out[table] = row ?? {};
  }
  return out;
}

describe.each([
  ['pglite', freshPglite],
  ['postgres', freshPostgres],
] as const)('migration 3 (unconstrained numeric) on %s', (_kind, open) => {
  let handle: TestDatabase;

  beforeAll(async () => {
    handle = await open();
  }, 60_000);
  afterAll(() => handle?.dispose());

  it('keeps every value of a version-2 database and then stores what version 2 refused or rounded', async () => {
    const db = handle.db;
    const toVersion2 = MIGRATIONS.filter((m) => m.id <= 2);
    expect((await migrate(db, toVersion2)).map((m) => m.id)).toEqual([1, 2]);
    await insertVersion2Rows(db);
    expect(await readOldColumns(db)).toEqual(OLD_COLUMNS);
    // Version 2 is what issue 9 found: a meme coin's minute volume overflows.
    // (Written as version 2's writer did: today's CandleStore also writes columns of later migrations.)
    const [pepe] = preciseCandles('PEPE-USDT');
    await expect(
      db.query(
        `INSERT INTO market_data (symbol, timeframe, "timestamp", open, high, low, close, volume)
         VALUES ('PEPE-USDT', '1m', to_timestamp($1::double precision / 1000), $2, $3, $4, $5, $6)`,
        [pepe!.closeTimeMs, pepe!.open, pepe!.high, pepe!.low, pepe!.close, pepe!.volume],
      ),
    ).rejects.toMatchObject({ code: '22003' });
    const fileNode = async () =>
      (
        await db.query<{ node: number }>(
          `SELECT relfilenode AS node FROM pg_class WHERE relname = 'market_data'`,
        )
      )[0]?.node;
    const before = await fileNode();

    expect(await migrate(db)).toContainEqual({ id: 3, name: 'unconstrained_numeric' });

    expect(await readOldColumns(db)).toEqual(OLD_COLUMNS);
    // Binary-compatible: the table was not rewritten, so a large market_data migrates in no time.
    expect(await fileNode()).toBe(before);
    const fixed = await db.query(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND data_type = 'numeric' AND numeric_scale IS NOT NULL`,
    );
    expect(fixed).toEqual([]);
    const candles = preciseCandles('PEPE-USDT');
    await new CandleStore(db).upsert(candles);
    expect(await new CandleStore(db).range('PEPE-USDT', '1m', 0, Number.MAX_SAFE_INTEGER)).toEqual(
      expect.arrayContaining(candles),
    );
  });
});
