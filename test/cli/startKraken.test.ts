import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Candle } from '../../src/domain/candle.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import { openDatabase } from '../../src/storage/database.js';
import { runCliUntil } from '../support/cli.js';
import { seededPgliteFolder } from '../storage/support/databases.js';

/** The candles a stop left in the spill files of `dataDir` (what the database had not taken in time). */
function spilled(dataDir: string): Candle[] {
  const spill = join(dataDir, 'spill');
  if (!existsSync(spill)) return [];
  return readdirSync(spill)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(spill, f), 'utf8').split('\n'))
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Candle);
}

const savedDataDir = process.env.RXTRADE_DATA_DIR;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxtrade-start-kraken-'));
  process.env.RXTRADE_DATA_DIR = join(dir, 'data');
});
afterEach(() => {
  if (savedDataDir === undefined) delete process.env.RXTRADE_DATA_DIR;
  else process.env.RXTRADE_DATA_DIR = savedDataDir;
  rmSync(dir, { recursive: true, force: true });
});

/**
 * `rxtrade start --exchange kraken --sim`: the collector reads the embedded simulator's Kraken dialect
 * through ccxt.pro (the ccxt adapter, as `collect --exchange kraken` does), prints the candles as they
 * close and stores them as exchange `kraken-sim`.
 */
describe('rxtrade start --exchange kraken --sim', () => {
  it('collects through ccxt from the Kraken dialect and stores the candles as kraken-sim', async () => {
    const pglite = await seededPgliteFolder(join(dir, 'pglite'));
    const r = await runCliUntil(
      [
        'start',
        '--exchange',
        'kraken',
        '--sim',
        '--speed',
        '30',
        '--pglite',
        pglite,
        '--timeframes',
        '1m',
        '--no-bots',
      ],
      (out) => out.split('\n').filter((l) => l.startsWith('BTC-USDT,1m,')).length >= 3,
      120_000,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /collecting BTC-USDT, ETH-USDT from the embedded simulator's kraken dialect .* through ccxt\.pro into PGlite at .* as exchange 'kraken-sim'/,
    );
    const printed = r.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','))
      .filter((c) => c[0] === 'BTC-USDT' && c[1] === '1m');
    expect(printed.length).toBeGreaterThanOrEqual(3);

    const db = await openDatabase({ pglitePath: pglite });
    try {
      const stored = await new CandleStore(db, 'kraken-sim').range(
        'BTC-USDT',
        '1m',
        0,
        Number.MAX_SAFE_INTEGER,
      );
      const kept = spilled(join(dir, 'data')).filter((c) => c.symbol === 'BTC-USDT' && c.timeframe === '1m');
      const byTime = new Map([...stored, ...kept].map((c) => [c.closeTimeMs, c]));
      // Every printed candle is stored (its last printed version: a late trade may have revised it).
      const lastPrinted = new Map(printed.map((row) => [row[2], row]));
      for (const [, , t, , open, high, low, close, , count] of lastPrinted.values()) {
        const c = byTime.get(Number(t));
        expect(c).toBeDefined();
        expect([c?.open, c?.high, c?.low, c?.close, c?.tradesCount]).toEqual([
          Number(open),
          Number(high),
          Number(low),
          Number(close),
          Number(count),
        ]);
      }
      // Nothing is stored as OKX data.
      expect(await new CandleStore(db, 'okx-sim').newestCloseTimeMs()).toBeUndefined();
    } finally {
      await db.close();
    }
  }, 180_000);
});
