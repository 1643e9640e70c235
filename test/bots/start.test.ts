import { jest } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/storage/database.js';
import { seededPgliteFolder } from '../storage/support/databases.js';
import { runCli } from '../support/cli.js';
import { SpawnedCli } from '../support/spawn.js';
import { cashFromTrades } from './support.js';

jest.setTimeout(400_000);

/**
 * The demo: `rxtrade start` with no environment (built CLI, `npm run build` first) runs the three demo bots
 * of ./config on the embedded simulator, prints their fills as they happen, and `rxtrade bots list` shows
 * them afterwards with cash that follows from their fills.
 */
describe('rxtrade start with the demo bots', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'rxtrade-demo-bots-'))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('the demo bots trade, their fills are printed next to the candles, and they are stored', async () => {
    const pglite = await seededPgliteFolder(join(dir, 'pg'));
    // 240×: a simulated minute every 0.25 s, so the bots warm up (13 candles) and cross within seconds.
    const cli = new SpawnedCli(['start', '--speed', '240', '--pglite', pglite, '--timeframes', '1m'], {
      RXTRADE_DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'warn',
    });
    try {
      await cli.until(
        'the demo bots',
        () => /3 bots from config\/bots: btc-ema-fast \(active\)/.test(cli.stderr),
        120_000,
      );
      await cli.until(
        'a fill',
        () => /^# (btc-ema-fast|btc-macd|eth-rsi): (buy|sell) /m.test(cli.stdout),
        240_000,
      );
      const exit = await cli.signal('SIGINT');
      expect(exit.code).toBe(0);
    } finally {
      cli.kill();
    }
    expect(cli.stdout).toMatch(/^BTC-USDT,1m,/m);
    expect(cli.stdout).toMatch(/→ cash \d+(\.\d+)?, value \d+(\.\d+)?$/m);

    const list = await runCli(['bots', 'list', '--pglite', pglite, '--json']);
    expect(list.code).toBe(0);
    const bots = JSON.parse(list.stdout) as {
      bot_id: string;
      status: string;
      trades: number;
      cash: number;
    }[];
    expect(bots.map((b) => [b.bot_id, b.status])).toEqual([
      ['btc-ema-fast', 'active'],
      ['btc-macd', 'active'],
      ['eth-rsi', 'active'],
    ]);
    expect(bots.some((b) => b.trades > 0)).toBe(true);
    const db = await openDatabase({ pglitePath: pglite });
    try {
      for (const b of bots) expect(b.cash).toBeCloseTo(await cashFromTrades(db, b.bot_id), 6);
    } finally {
      await db.close();
    }
  });
});
