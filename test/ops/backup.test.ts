import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../../src/storage/migrate.js';
import type { Database } from '../../src/storage/database.js';
import { freshPostgres, type TestDatabase } from '../storage/support/databases.js';
import { runCli } from '../support/cli.js';

/**
 * The README's backup and restore, performed: pg_dump of a live rxtrade database, then pg_restore of the
 * whole database into an empty one, and of market_data, bots, signals and trades alone into a migrated one.
 * Needs pg_dump and pg_restore on the PATH (the same major version as the server, or newer).
 */

const dir = mkdtempSync(join(tmpdir(), 'rxtrade-backup-'));
let source: TestDatabase;
const dump = join(dir, 'rxtrade.dump');

function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** What a backup must bring back: every row of the three tables, exactly (numerics compared as text). */
async function contents(db: Database): Promise<Record<string, unknown[]>> {
  return {
    market_data: await db.query(
      `SELECT exchange, symbol, timeframe, "timestamp", open::text, high::text, low::text, close::text,
              volume::text, trades_count FROM market_data ORDER BY exchange, symbol, timeframe, "timestamp"`,
    ),
    bots: await db.query(
      `SELECT id, name, strategy_name, symbol, timeframe, status, config, virtual_balance::text,
              current_balance::text FROM bots ORDER BY id`,
    ),
    trades: await db.query(
      `SELECT id, bot_id, signal_id, "timestamp", side, price::text, quantity::text, fees::text, pnl::text
       FROM trades ORDER BY id`,
    ),
  };
}

beforeAll(async () => {
  source = await freshPostgres();
  await migrate(source.db);
  await source.db.exec(`
    INSERT INTO market_data (exchange, symbol, timeframe, "timestamp", open, high, low, close, volume, trades_count)
    SELECT 'okx', s, '1m', to_timestamp(1733011200 + 60 * i), 100 + i * 0.25, 101 + i * 0.25, 99 + i * 0.25,
           100.5 + i * 0.25, 0.12345678 * i, i
    FROM generate_series(1, 500) AS i, unnest(ARRAY['BTC-USDT', 'ETH-USDT']) AS s;
    INSERT INTO bots (name, strategy_name, symbol, timeframe, status, config, virtual_balance, current_balance)
    VALUES ('btc-ema', 'ema_crossover', 'BTC-USDT', '1m', 'active', '{"fast_period": 5}', 10000, 10012.5),
           ('eth-rsi', 'rsi_reversion', 'ETH-USDT', '1m', 'paused', '{"period": 5}', 5000, 4990.25);
    INSERT INTO signals (bot_id, "timestamp", signal_type, price, confidence)
    VALUES (1, to_timestamp(1733011800), 'buy', 101.5, 0.5);
    INSERT INTO trades (bot_id, signal_id, "timestamp", side, price, quantity, fees, pnl)
    VALUES (1, 1, to_timestamp(1733011860), 'buy', 101.75, 0.5, 0.0508750, NULL),
           (1, NULL, to_timestamp(1733012400), 'sell', 103.25, 0.5, 0.0516250, 0.6475),
           (2, NULL, to_timestamp(1733012460), 'buy', 2500.1, 0.001, 0.0025001, NULL);
  `);
}, 60_000);

afterAll(async () => {
  await source.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('backups with pg_dump / pg_restore', () => {
  it('pg_dump -Fc of the whole database restores into an empty one with every row, and migrate finds it up to date', async () => {
    await run('pg_dump', ['--format=custom', '--no-owner', `--file=${dump}`, source.url!]);
    expect(statSync(dump).size).toBeGreaterThan(1000);
    const target = await freshPostgres();
    try {
      await run('pg_restore', ['--no-owner', `--dbname=${target.url!}`, dump]);
      expect(await contents(target.db)).toEqual(await contents(source.db));
      const before = await contents(source.db);
      expect(before.market_data).toHaveLength(1000);
      expect(before.trades).toHaveLength(3);
      const migrated = await runCli(['migrate', '--database-url', target.url!]);
      expect(migrated.code).toBe(0);
      expect(migrated.stdout).toMatch(/ is up to date\n$/);
      // The sequences came back too: a new bot does not collide with a restored id.
      const [row] = await target.db.query<{ id: number }>(
        `INSERT INTO bots (name, strategy_name, symbol, timeframe, virtual_balance, current_balance)
         VALUES ('new', 'sma_cross', 'BTC-USDT', '1m', 1, 1) RETURNING id`,
      );
      expect(row!.id).toBe(3);
    } finally {
      await target.dispose();
    }
  }, 120_000);

  it('restores market_data, bots, signals and trades alone (--data-only) into a freshly migrated database', async () => {
    const tables = join(dir, 'tables.dump');
    await run('pg_dump', [
      '--format=custom',
      '--data-only',
      '--table=market_data',
      '--table=bots',
      '--table=signals',
      '--table=trades',
      `--file=${tables}`,
      source.url!,
    ]);
    const target = await freshPostgres();
    try {
      await migrate(target.db);
      await run('pg_restore', ['--data-only', '--single-transaction', `--dbname=${target.url!}`, tables]);
      expect(await contents(target.db)).toEqual(await contents(source.db));
      const [row] = await target.db.query<{ id: number }>(
        `INSERT INTO trades (bot_id, "timestamp", side, price, quantity)
         VALUES (2, now(), 'sell', 2501, 0.001) RETURNING id`,
      );
      expect(row!.id).toBe(4);
    } finally {
      await target.dispose();
    }
  }, 120_000);
});
