import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runMigrate } from '../../src/cli/commands/migrate.js';
import { openDatabase } from '../../src/storage/database.js';
import { runCli } from '../support/cli.js';
import { seededPgliteFolder } from './support/databases.js';

describe('rxtrade migrate', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rxtrade-migrate-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies the migrations to a PGlite directory, then finds it up to date', async () => {
    const path = join(dir, 'pglite');
    const first = await runCli(['migrate', '--pglite', path]);
    expect(first).toEqual({
      code: 0,
      stdout: `applied 001_initial
applied 002_raw_trades_unique
applied 003_unconstrained_numeric
applied 004_candle_source
applied 005_bots
applied 006_backtest_runs
applied 007_scanner
PGlite at ${path}: applied 7 migrations
`,
      stderr: '',
    });

    const second = await runCli(['migrate', '--pglite', path]);
    expect(second).toEqual({ code: 0, stdout: `PGlite at ${path} is up to date\n`, stderr: '' });

    const db = await openDatabase({ pglitePath: path });
    try {
      expect(await db.query('SELECT id, name FROM schema_migrations ORDER BY id')).toEqual([
        { id: 1, name: 'initial' },
        { id: 2, name: 'raw_trades_unique' },
        { id: 3, name: 'unconstrained_numeric' },
        { id: 4, name: 'candle_source' },
        { id: 5, name: 'bots' },
        { id: 6, name: 'backtest_runs' },
        { id: 7, name: 'scanner' },
      ]);
    } finally {
      await db.close();
    }
  }, 60_000);

  it('explains an unreachable Postgres in one line (exit 1)', async () => {
    const result = await runCli(['migrate', '--database-url', 'postgres://postgres@127.0.0.1:1/rxtrade']);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'rxtrade: cannot use Postgres at 127.0.0.1:1/rxtrade: nothing answers (ECONNREFUSED) (URL from --database-url)\n',
    });
  });

  it('refuses both --database-url and --pglite', async () => {
    const result = await runCli(['migrate', '--database-url', 'postgres://x', '--pglite', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('rxtrade: give --database-url or --pglite, not both\n');
  });

  it('uses DATABASE_URL from the environment when no flag is given', async () => {
    const io = {
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      interactive: false,
      interrupted: new Promise<void>(() => {}),
    };
    await expect(
      runMigrate({}, io, { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/from_env' }),
    ).rejects.toMatchObject({
      code: 'db_unavailable',
      message: expect.stringContaining('127.0.0.1:1/from_env') as unknown,
    });
  });

  it('without DATABASE_URL uses PGlite under RXTRADE_DATA_DIR, and names a bad variable', async () => {
    const out: Buffer[] = [];
    const stdout = new PassThrough();
    stdout.on('data', (b: Buffer) => out.push(b));
    const io = {
      stdout,
      stderr: new PassThrough(),
      interactive: false,
      interrupted: new Promise<void>(() => {}),
    };
    const dataDir = join(dir, 'data-dir');
    // Which folder it uses is the point here, not its initdb (the first test has that): one made already.
    await seededPgliteFolder(join(dataDir, 'pglite'));
    await runMigrate({}, io, { RXTRADE_DATA_DIR: dataDir });
    expect(Buffer.concat(out).toString()).toContain(`PGlite at ${join(dataDir, 'pglite')}: applied`);
    await expect(runMigrate({}, io, { DATABASE_URL: 'mysql://x' })).rejects.toThrow(
      /DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//,
    );
  }, 60_000);
});
