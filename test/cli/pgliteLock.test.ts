import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../../src/storage/database.js';
import { seededPgliteFolder } from '../storage/support/databases.js';
import { CliProcess, runBuiltCli, type ProcessResult } from '../support/builtCli.js';

/**
 * Two real rxtrade processes on one PGlite folder: while `start` holds it every other command that opens
 * the database is refused (exit 1, one line naming the holder), and the data survives. Before the lock,
 * both "succeeded" and the folder was destroyed. Needs `npm run build`.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const CANDLES = join(root, 'test/fixtures/candles/binance_BTCUSDT_1m_20210424_20210425.csv');

let dir: string;
let folder: string;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rxtrade-lock-cli-'));
  folder = await seededPgliteFolder(join(dir, 'pglite'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** `rxtrade start` on the embedded simulator at 60× (a simulated minute a second): light on a busy machine. */
function startCollecting(): CliProcess {
  return new CliProcess([
    'start',
    '--symbols',
    'BTC-USDT',
    '--speed',
    '60',
    '--timeframes',
    '1m',
    '--pglite',
    folder,
  ]);
}

function importCandles(): Promise<ProcessResult> {
  return runBuiltCli([
    'import',
    '--file',
    CANDLES,
    '--symbol',
    'BTC-USDT',
    '--timeframe',
    '1m',
    '--pglite',
    folder,
  ]);
}

function printed1m(p: CliProcess, symbol: string): string[][] {
  return p.stdout
    .split('\n')
    .filter((l) => l.startsWith(`${symbol},1m,`))
    .map((l) => l.split(','));
}

async function countRows(exchange: string): Promise<number> {
  const db = await openDatabase({ pglitePath: folder });
  try {
    const [row] = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM market_data WHERE exchange = $1',
      [exchange],
    );
    return row?.n ?? 0;
  } finally {
    await db.close();
  }
}

const REFUSED = (pid: number, path: string): RegExp =>
  new RegExp(
    // `start` serves its API, which the lock names (so that `rxtrade bots …` can reach the instance).
    `^rxtrade: ${path} is in use by rxtrade start \\(pid ${pid}, since \\d\\d:\\d\\d:\\d\\dZ\\), ` +
      'API at http://127\\.0\\.0\\.1:\\d+; ' +
      'stop it first, or use Postgres through DATABASE_URL to run several processes at once\n$',
  );

describe('two rxtrade processes on one PGlite folder', () => {
  it('refuses every other command while start runs, keeps the data intact, and frees the folder on stop', async () => {
    // Earlier data that a second process used to destroy.
    const imported = await importCandles();
    expect(imported.code).toBe(0);
    const inserted = Number(/(\d+) inserted/.exec(imported.stdout)?.[1]);
    expect(inserted).toBeGreaterThan(2000);

    const start = startCollecting();
    try {
      await start.waitFor((p) => printed1m(p, 'BTC-USDT').length >= 2);
      const lock = JSON.parse(readFileSync(join(folder, 'rxtrade.lock'), 'utf8')) as Record<string, unknown>;
      expect(lock).toMatchObject({ pid: start.pid, command: 'rxtrade start' });

      const others = [
        [
          'import',
          '--file',
          CANDLES,
          '--symbol',
          'BTC-USDT',
          '--timeframe',
          '1m',
          '--exchange',
          'second',
          '--pglite',
          folder,
        ],
        ['migrate', '--pglite', folder],
        [
          'backtest',
          '--strategy',
          'ema_crossover',
          '--symbol',
          'BTC-USDT',
          '--from',
          '2021-04-24',
          '--to',
          '2021-04-26',
          '--pglite',
          folder,
        ],
        ['start', '--speed', '60', '--pglite', folder],
      ];
      // All at once: each is refused on its own.
      const refused = await Promise.all(others.map((args) => runBuiltCli(args)));
      others.forEach((args, i) => {
        const r = refused[i]!;
        expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 1, stdout: '' });
        expect(r.stderr).toMatch(REFUSED(start.pid, folder));
      });
      // Still collecting after the refusals.
      const before = printed1m(start, 'BTC-USDT').length;
      await start.waitFor((p) => printed1m(p, 'BTC-USDT').length > before);
    } finally {
      const stopped = await start.stop('SIGINT');
      expect(stopped.code).toBe(0);
      expect(stopped.stderr).toMatch(/stopped; \d+ trades, [1-9]\d* candles stored/);
    }
    expect(existsSync(join(folder, 'rxtrade.lock'))).toBe(false);

    // Everything is there: the earlier import, what start stored, nothing from the refused import.
    expect(await countRows('okx')).toBe(inserted);
    expect(await countRows('okx-sim')).toBeGreaterThan(0);
    expect(await countRows('second')).toBe(0);
    // And the folder is free again.
    const again = await importCandles();
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(` 0 inserted, 0 updated, ${inserted} unchanged`));
  }, 300_000);

  it('takes over the lock a SIGKILLed start left, with a one-line note, and the data is readable', async () => {
    const start = startCollecting();
    let killedPid: number;
    try {
      await start.waitFor((p) => printed1m(p, 'BTC-USDT').length >= 2);
    } finally {
      killedPid = start.pid;
      await start.stop('SIGKILL');
    }
    expect(existsSync(join(folder, 'rxtrade.lock'))).toBe(true);

    const r = await runBuiltCli(['migrate', '--pglite', folder]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(
        `^rxtrade: ${folder}: took over the lock of rxtrade start \\(pid ${killedPid}, since \\d\\d:\\d\\d:\\d\\dZ\\), which is no longer running\n$`,
      ),
    );
    expect(r.stdout).toBe(`PGlite at ${folder} is up to date\n`);
    expect(existsSync(join(folder, 'rxtrade.lock'))).toBe(false);
    expect(await countRows('okx-sim')).toBeGreaterThan(0);
  }, 240_000);
});
