import { jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BotStore } from '../../src/storage/botStore.js';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { freshPostgres, seededPgliteFolder, type TestDatabase } from '../storage/support/databases.js';
import { cashFromTrades, EMA_BOT, EXCHANGE, MACD_BOT, RSI_BOT, T0, waveCandles } from './support.js';

/**
 * Restore after kill -9, end to end: a bots process (test/bots/support/botsChild.mjs on the built dist/:
 * `npm run build` first) runs three bots on a deterministic feed; it is killed with SIGKILL mid-run and
 * started again, and must end exactly where an uninterrupted run on the same feed ends. The uninterrupted
 * run and the killed one are independent (each its own database, and Redis channels): they run side by side.
 */
jest.setTimeout(600_000);

const CHILD = fileURLToPath(new URL('./support/botsChild.mjs', import.meta.url));
const N = 100;
const CANDLES = waveCandles('BTC-USDT', T0, N, 60_000).flatMap((c, i) => [
  c,
  waveCandles('ETH-USDT', T0, N, 3_000, 17)[i]!,
]);
const BOTS = [EMA_BOT, RSI_BOT, MACD_BOT];

interface Run {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

function startChild(env: Record<string, string>): Run {
  const child = spawn(process.execPath, [CHILD], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Run = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
  };
  child.stdout?.on('data', (b: Buffer) => (run.stdout += b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => (run.stderr += b.toString('utf8')));
  return run;
}

async function waitFor(run: Run, what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 240_000;
  let exited = false;
  void run.exited.then(() => (exited = true));
  while (!done()) {
    if (exited)
      throw new Error(`the bots process exited while waiting for ${what}:\n${run.stderr.slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${run.stderr.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const candlesSeen = (run: Run): number =>
  run.stdout.split('\n').filter((l) => l.startsWith('candle ')).length;

async function runToEnd(env: Record<string, string>, killAfter?: number): Promise<void> {
  const first = startChild(env);
  if (killAfter !== undefined) {
    await waitFor(first, `${killAfter} candles`, () => candlesSeen(first) >= killAfter);
    first.child.kill('SIGKILL');
    await first.exited;
  }
  const second = killAfter === undefined ? first : startChild(env);
  await waitFor(second, 'the end of the feed', () => second.stdout.includes('done\n'));
  expect(await second.exited).toBe(0);
}

interface Outcome {
  readonly fills: Record<string, unknown[][]>;
  readonly cash: Record<string, number>;
}

async function outcome(db: Database): Promise<Outcome> {
  const store = new BotStore(db);
  const fills: Record<string, unknown[][]> = {};
  const cash: Record<string, number> = {};
  for (const { bot_id: id } of BOTS) {
    const trades = await store.trades(id, { limit: 10_000 });
    fills[id] = trades.map((f) => [
      f.seq,
      f.timeMs,
      f.side,
      f.price,
      f.qty,
      f.fee,
      f.balanceAfter,
      f.orderId,
    ]);
    const bot = await store.loadBot(id);
    cash[id] = bot!.cash;
    expect(bot?.status).toBe('active');
    // Cash follows from the fills alone.
    expect(bot!.cash).toBeCloseTo(await cashFromTrades(db, id), 6);
    // Every candle processed exactly once.
    const perf = await store.performance(id, { limit: 10_000 });
    expect(new Set(perf.map((p) => p.timeMs)).size).toBe(perf.length);
    expect(perf).toHaveLength(N);
    expect(trades.length).toBeGreaterThan(0);
  }
  const dupes = await db.query<{ n: number | string }>(
    `SELECT count(*) AS n FROM (SELECT bot_id, epoch, fill_seq FROM trades GROUP BY 1, 2, 3 HAVING count(*) > 1) d`,
  );
  expect(Number(dupes[0]?.n)).toBe(0);
  return { fills, cash };
}

describe('restore after kill -9 (end to end, a real process)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rxtrade-restore-'));
    await mkdir(join(dir, 'config', 'bots'), { recursive: true });
    for (const b of BOTS) await writeFile(join(dir, 'config', 'bots', `${b.bot_id}.json`), JSON.stringify(b));
    await writeFile(join(dir, 'candles.json'), JSON.stringify(CANDLES));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const base = (): Record<string, string> => ({
    CANDLES: join(dir, 'candles.json'),
    CONFIG_DIR: join(dir, 'config'),
    EXCHANGE,
  });

  it('PGlite + in-process bus: killed mid-run and started again, it ends as an uninterrupted run', async () => {
    await Promise.all([
      runToEnd({ ...base(), PGLITE: await seededPgliteFolder(join(dir, 'ref')) }),
      runToEnd({ ...base(), PGLITE: await seededPgliteFolder(join(dir, 'killed')) }, 40),
    ]);
    const ref = await openDatabase({ pglitePath: join(dir, 'ref') });
    const killed = await openDatabase({ pglitePath: join(dir, 'killed') });
    try {
      const a = await outcome(ref);
      const b = await outcome(killed);
      expect(b.fills).toEqual(a.fills);
      expect(b.cash).toEqual(a.cash);
    } finally {
      await ref.close();
      await killed.close();
    }
  });

  it('Postgres + Redis (candles on market:{symbol}): killed mid-run and started again, it ends as an uninterrupted run', async () => {
    const redis = () => ({
      REDIS_URL: 'redis://127.0.0.1:6379',
      CHANNEL_PREFIX: `test-${randomBytes(4).toString('hex')}:`,
    });
    const dbs: TestDatabase[] = await Promise.all([freshPostgres(), freshPostgres()]);
    try {
      const [ref, killed] = dbs as [TestDatabase, TestDatabase];
      await Promise.all([
        runToEnd({ ...base(), ...redis(), DATABASE_URL: ref.url! }),
        runToEnd({ ...base(), ...redis(), DATABASE_URL: killed.url! }, 40),
      ]);
      const a = await outcome(ref.db);
      const b = await outcome(killed.db);
      expect(b.fills).toEqual(a.fills);
      expect(b.cash).toEqual(a.cash);
    } finally {
      for (const d of dbs) await d.dispose();
    }
  });
});
