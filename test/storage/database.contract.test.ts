import type { Database } from '../../src/storage/database.js';
import { migrate, type AppliedMigration } from '../../src/storage/migrate.js';
import { MIGRATIONS } from '../../src/storage/migrations/index.js';
import { ensureRawTradesPartition, monthStartMs } from '../../src/storage/rawTradesPartitions.js';
import { freshPglite, freshPostgres, type TestDatabase } from './support/databases.js';

/** The same contract for every adapter: anything that passes for PGlite must pass for Postgres and back. */
describe.each([
  ['pglite', freshPglite],
  ['postgres', freshPostgres],
] as const)('Database contract: %s', (kind, open) => {
  let handle: TestDatabase;
  let db: Database;
  let concurrent: AppliedMigration[][];

  beforeAll(async () => {
    handle = await open();
    db = handle.db;
    // Two migrations racing on an empty database: one applies, the other waits and finds the work done.
    concurrent = await Promise.all([migrate(db), migrate(db)]);
  }, 60_000);

  afterAll(async () => {
    await handle?.dispose();
  });

  it('reports its kind', () => {
    expect(db.kind).toBe(kind);
  });

  describe('migrate', () => {
    it('applies every migration once when two calls race', () => {
      const all = MIGRATIONS.map((m) => ({ id: m.id, name: m.name }));
      // Each migration applied by exactly one of the two (which one may differ per migration).
      expect(concurrent.flat().sort((a, b) => a.id - b.id)).toEqual(all);
    });

    it('is idempotent and records what it applied', async () => {
      expect(await migrate(db)).toEqual([]);
      const rows = await db.query<{ id: number; name: string; applied_at: Date }>(
        'SELECT id, name, applied_at FROM schema_migrations ORDER BY id',
      );
      expect(rows.map((r) => [r.id, r.name])).toEqual(MIGRATIONS.map((m) => [m.id, m.name]));
      expect(rows[0]?.applied_at).toBeInstanceOf(Date);
    });

    it('creates every table', async () => {
      const rows = await db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name NOT LIKE 'raw_trades\\_%' ORDER BY table_name`,
      );
      expect(rows.map((r) => r.table_name)).toEqual([
        'backtest_runs',
        'bot_performance',
        'bots',
        'config_history',
        'market_data',
        'positions',
        'raw_trades',
        'scanner_config_history',
        'scanner_opportunities',
        'scanner_partial_exits',
        'scanner_positions',
        'scanner_run_metrics',
        'scanner_runs',
        'scanner_snapshots',
        'scanner_universe',
        'schema_migrations',
        'signals',
        'trades',
      ]);
    });

    it('makes raw_trades a table partitioned by range on timestamp', async () => {
      const rows = await db.query<{ strategy: string }>(
        `SELECT partstrat AS strategy FROM pg_partitioned_table WHERE partrelid = 'raw_trades'::regclass`,
      );
      expect(rows).toEqual([{ strategy: 'r' }]);
    });

    it('keeps one candle per (exchange, symbol, timeframe, timestamp)', async () => {
      const constraint = await db.query<{ def: string }>(
        `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
         WHERE conrelid = 'market_data'::regclass AND contype = 'u'`,
      );
      expect(constraint).toEqual([{ def: 'UNIQUE (exchange, symbol, timeframe, "timestamp")' }]);
      const insert = `INSERT INTO market_data (symbol, timeframe, "timestamp", open, high, low, close, volume)
                      VALUES ('DUP-USDT', '1m', '2024-01-01T00:01:00Z', 1, 1, 1, 1, 1)`;
      await db.query(insert);
      await expect(db.query(insert)).rejects.toMatchObject({ code: '23505' });
    });

    it('enforces the check constraints', async () => {
      await expect(
        db.query(
          `INSERT INTO bots (name, strategy_name, symbol, timeframe, status, virtual_balance, current_balance)
           VALUES ('b', 's', 'BTC-USDT', '1m', 'dreaming', 1000, 1000)`,
        ),
      ).rejects.toMatchObject({ code: '23514' });
    });
  });

  describe('copyRows', () => {
    const tricky = [
      'plain',
      'a,b,c',
      'say "hi", then "bye"',
      'line1\nline2\r\nline3',
      '',
      '\\.',
      'back\\slash \\N',
      'NULL',
      ' padded ',
      'ß€🚀',
    ];

    beforeAll(async () => {
      await db.exec(
        'CREATE TABLE copy_probe (id integer, t text, j jsonb, n numeric(18,8), ts timestamptz, b boolean, big bigint)',
      );
    });

    it('round-trips quotes, commas, newlines, empty strings and NULL', async () => {
      const rows = tricky.map((t, i) => [i, t, null, null, null, null, null] as const);
      const nullRow = [tricky.length, null, null, null, null, null, null] as const;
      expect(
        await db.copyRows('copy_probe', ['id', 't', 'j', 'n', 'ts', 'b', 'big'], [...rows, nullRow]),
      ).toBe(tricky.length + 1);
      const back = await db.query<{ t: string | null }>('SELECT t FROM copy_probe ORDER BY id');
      expect(back.map((r) => r.t)).toEqual([...tricky, null]);
    });

    it('round-trips JSON, numerics with 8 decimals, timestamps, booleans and bigints', async () => {
      const json = { text: 'quote " comma , newline \n', list: [1, 'two', null], nested: { ok: true } };
      const ts = new Date('2024-02-29T23:59:59.123Z');
      await db.copyRows(
        'copy_probe',
        ['id', 'j', 'n', 'ts', 'b', 'big'],
        [
          [100, json, '12345.12345678', ts, true, 9_007_199_254_740_993n],
          [101, [], -0.00000001, ts.toISOString(), false, 1_700_000_000_000],
          // A string is sent as is, so for a json column it must already be JSON text (as with pg parameters).
          [102, '"a JSON string"', '0.00000000', null, null, null],
        ],
      );
      const back = await db.query('SELECT id, j, n, ts, b, big FROM copy_probe WHERE id >= 100 ORDER BY id');
      expect(back).toEqual([
        { id: 100, j: json, n: '12345.12345678', ts, b: true, big: 9_007_199_254_740_993n },
        { id: 101, j: [], n: '-0.00000001', ts, b: false, big: 1_700_000_000_000 },
        { id: 102, j: 'a JSON string', n: '0.00000000', ts: null, b: null, big: null },
      ]);
    });

    it('loads candles into market_data and reports the count', async () => {
      const rows = [1, 2, 3].map((m) => [
        'COPY-USDT',
        '1m',
        new Date(Date.UTC(2024, 0, 1, 0, m)),
        '42000.12345678',
        '42010.5',
        '41999.00000001',
        '42001',
        '0.00012345',
        7,
      ]);
      const columns = [
        'symbol',
        'timeframe',
        'timestamp',
        'open',
        'high',
        'low',
        'close',
        'volume',
        'trades_count',
      ];
      expect(await db.copyRows('market_data', columns, rows)).toBe(3);
      const back = await db.query<{ exchange: string; low: string; volume: string; trades_count: number }>(
        `SELECT exchange, low, volume, trades_count FROM market_data WHERE symbol = 'COPY-USDT' ORDER BY "timestamp"`,
      );
      expect(back).toHaveLength(3);
      expect(back[0]).toEqual({
        exchange: 'okx',
        low: '41999.00000001',
        volume: '0.00012345',
        trades_count: 7,
      });
    });

    it('loads nothing, atomically, when a row is bad', async () => {
      const before = await count(db, 'copy_probe');
      await expect(
        db.copyRows(
          'copy_probe',
          ['id', 'n'],
          [
            [200, '1'],
            [201, 'not a number'],
          ],
        ),
      ).rejects.toThrow();
      expect(await count(db, 'copy_probe')).toBe(before);
    });

    it('copies inside a transaction', async () => {
      await db.transaction(async (tx) => {
        await tx.copyRows('copy_probe', ['id', 't'], [[300, 'in tx']]);
        expect(await tx.query('SELECT t FROM copy_probe WHERE id = 300')).toEqual([{ t: 'in tx' }]);
      });
      expect(await db.query('SELECT t FROM copy_probe WHERE id = 300')).toEqual([{ t: 'in tx' }]);
    });
  });

  describe('transaction', () => {
    beforeAll(async () => {
      await db.exec('CREATE TABLE tx_probe (id integer PRIMARY KEY)');
    });

    it('commits and returns the callback result', async () => {
      const result = await db.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_probe (id) VALUES ($1)', [1]);
        return 'done';
      });
      expect(result).toBe('done');
      expect(await db.query('SELECT id FROM tx_probe')).toEqual([{ id: 1 }]);
    });

    it('rolls back everything when the callback throws', async () => {
      const boom = new Error('boom');
      await expect(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO tx_probe (id) VALUES ($1)', [2]);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await db.query('SELECT id FROM tx_probe ORDER BY id')).toEqual([{ id: 1 }]);
    });

    it('rolls back when a statement fails, and the database stays usable', async () => {
      await expect(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO tx_probe (id) VALUES (3)');
          await tx.query('INSERT INTO tx_probe (id) VALUES (1)'); // duplicate key
        }),
      ).rejects.toMatchObject({ code: '23505' });
      expect(await db.query('SELECT id FROM tx_probe ORDER BY id')).toEqual([{ id: 1 }]);
    });
  });

  describe('raw_trades partitions', () => {
    const jan = Date.UTC(2024, 0, 1);
    const feb = Date.UTC(2024, 1, 1);

    it('creates monthly partitions on demand, idempotently', async () => {
      expect(await ensureRawTradesPartition(db, jan)).toBe('raw_trades_2024_01');
      expect(await ensureRawTradesPartition(db, feb)).toBe('raw_trades_2024_02');
      expect(await ensureRawTradesPartition(db, jan)).toBe('raw_trades_2024_01');
      const parts = await db.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'raw_trades'::regclass ORDER BY 1`,
      );
      expect(parts.map((p) => p.name)).toEqual(['raw_trades_2024_01', 'raw_trades_2024_02']);
    });

    it('routes rows of two months to their partitions and reads them back in one query', async () => {
      const lastOfJan = new Date(feb - 1);
      const firstOfFeb = new Date(feb);
      await db.copyRows(
        'raw_trades',
        ['symbol', 'timestamp', 'type', 'data', 'trade_id'],
        [
          ['BTC-USDT', lastOfJan, 'trade', { px: '42000.1', sz: '0.5', side: 'buy' }, '1'],
          ['BTC-USDT', firstOfFeb, 'trade', { px: '42000.2', sz: '0.25', side: 'sell' }, '2'],
        ],
      );
      await db.query(
        `INSERT INTO raw_trades (symbol, "timestamp", type, data, trade_id) VALUES ($1, $2, 'trade', $3, $4)`,
        ['BTC-USDT', new Date(Date.UTC(2024, 1, 15)), JSON.stringify({ px: '1' }), '3'],
      );
      const rows = await db.query<{ part: string; trade_id: string; ts: Date }>(
        `SELECT tableoid::regclass::text AS part, trade_id, "timestamp" AS ts FROM raw_trades
         WHERE "timestamp" >= $1 AND "timestamp" < $2 ORDER BY "timestamp"`,
        [new Date(jan), new Date(Date.UTC(2024, 2, 1))],
      );
      expect(rows).toEqual([
        { part: 'raw_trades_2024_01', trade_id: '1', ts: lastOfJan },
        { part: 'raw_trades_2024_02', trade_id: '2', ts: firstOfFeb },
        { part: 'raw_trades_2024_02', trade_id: '3', ts: new Date(Date.UTC(2024, 1, 15)) },
      ]);
    });

    it('refuses rows of a month without a partition', async () => {
      await expect(
        db.query(
          `INSERT INTO raw_trades (symbol, "timestamp", type) VALUES ('BTC-USDT', '2031-05-05Z', 'trade')`,
        ),
      ).rejects.toMatchObject({ code: '23514' });
    });

    it('rejects a time that is not a month start', async () => {
      await expect(ensureRawTradesPartition(db, jan + 1)).rejects.toMatchObject({ code: 'invalid_argument' });
      expect(monthStartMs(feb - 1)).toBe(jan);
    });
  });
});

async function count(db: Database, table: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return row?.n ?? -1;
}
