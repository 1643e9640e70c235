import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CandleStore } from '../../src/storage/candleStore.js';
import { openDatabase } from '../../src/storage/database.js';
import { migrate } from '../../src/storage/migrate.js';
import { runCliUntil } from '../support/cli.js';
import { seededPgliteFolder } from '../storage/support/databases.js';

/**
 * `rxtrade collect` where the database refuses some candles (here every 5m candle, through a CHECK
 * constraint the test adds): the others are stored, the refused ones land in
 * <RXTRADE_DATA_DIR>/dead-letter/candles-<exchange>-<symbols>.jsonl with the reason, and the log names it.
 */
describe('rxtrade collect with candles the database refuses', () => {
  let dir: string;
  const savedDataDir = process.env.RXTRADE_DATA_DIR;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rxtrade-dead-letter-'));
    process.env.RXTRADE_DATA_DIR = dir;
  });
  afterEach(() => {
    if (savedDataDir === undefined) delete process.env.RXTRADE_DATA_DIR;
    else process.env.RXTRADE_DATA_DIR = savedDataDir;
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every other candle and moves the refused ones to the dead-letter file, naming it in the log', async () => {
    const pglite = await seededPgliteFolder(join(dir, 'pglite'));
    const db = await openDatabase({ pglitePath: pglite });
    try {
      await migrate(db);
      await db.exec(`ALTER TABLE market_data ADD CONSTRAINT test_no_5m CHECK (timeframe <> '5m')`);
    } finally {
      await db.close();
    }
    const r = await runCliUntil(
      [
        'collect',
        '--sim',
        '--symbols',
        'BTC-USDT',
        '--speed',
        '600',
        '--timeframes',
        '1m,5m',
        '--print',
        'csv',
        '--pglite',
        pglite,
      ],
      (out) => out.split('\n').some((l) => l.startsWith('BTC-USDT,5m,')),
      // Starting takes seconds on a loaded machine; the 5m candle then comes within a second.
      120_000,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^BTC-USDT,5m,/m);
    const deadLetterPath = join(dir, 'dead-letter', 'candles-okx-sim-BTC-USDT.jsonl');
    expect(existsSync(deadLetterPath)).toBe(true);
    const dead = readFileSync(deadLetterPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { row: { timeframe: string }; sqlstate: string; message: string });
    expect(dead.length).toBeGreaterThanOrEqual(1);
    for (const d of dead) {
      expect(d).toMatchObject({ row: { timeframe: '5m' }, sqlstate: '23514' });
      expect(d.message).toMatch(/test_no_5m/);
    }
    const logged = r.stderr
      .split('\n')
      .filter((l) => l.includes('the database refused'))
      .map((l) => JSON.parse(l) as { level: number; deadLetterPath: string; refused: number });
    expect(logged.length).toBeGreaterThanOrEqual(1);
    expect(logged.every((l) => l.level === 50 && l.deadLetterPath === deadLetterPath)).toBe(true);
    expect(logged.reduce((n, l) => n + l.refused, 0)).toBe(dead.length);

    // Close times of the 1m candles printed (a late trade reprints a candle with its revision).
    const printed1m = new Set(
      r.stdout
        .split('\n')
        .filter((l) => l.startsWith('BTC-USDT,1m,'))
        .map((l) => Number(l.split(',')[2])),
    );
    const after = await openDatabase({ pglitePath: pglite });
    try {
      const store = new CandleStore(after, 'okx-sim');
      const all = Number.MAX_SAFE_INTEGER;
      const stored1m = new Set((await store.range('BTC-USDT', '1m', 0, all)).map((c) => c.closeTimeMs));
      expect([...printed1m].filter((t) => !stored1m.has(t))).toEqual([]);
      expect(await store.range('BTC-USDT', '5m', 0, all)).toEqual([]);
    } finally {
      await after.close();
    }
  }, 180_000);
});
