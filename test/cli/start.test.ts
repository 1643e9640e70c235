import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Candle } from '../../src/domain/candle.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import { openDatabase } from '../../src/storage/database.js';
import { runCli, runCliUntil } from '../support/cli.js';
import { seededPgliteFolder } from '../storage/support/databases.js';

/**
 * `rxtrade start` with no environment: the embedded simulator → collector → PGlite + in-process bus,
 * printing candles as they close. At 600× a simulated minute passes every 0.1 s.
 */

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

// Spill files go to the test's own folder, never to ./data of the checkout (a later run would replay them).
const savedDataDir = process.env.RXTRADE_DATA_DIR;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxtrade-start-'));
  process.env.RXTRADE_DATA_DIR = join(dir, 'data');
});
afterEach(() => {
  if (savedDataDir === undefined) delete process.env.RXTRADE_DATA_DIR;
  else process.env.RXTRADE_DATA_DIR = savedDataDir;
  rmSync(dir, { recursive: true, force: true });
});

describe('rxtrade start (no environment: embedded simulator, PGlite, in-process bus)', () => {
  it('prints each closed candle and stores the same candles, then stops cleanly on Ctrl-C', async () => {
    const pglite = join(dir, 'pglite');
    const r = await runCliUntil(
      ['start', '--speed', '600', '--pglite', pglite, '--timeframes', '1m,5m', '--no-bots'],
      (out) => {
        const lines = out.split('\n');
        return (
          lines.filter((l) => l.startsWith('BTC-USDT,1m,')).length >= 5 &&
          lines.some((l) => l.startsWith('ETH-USDT,5m,'))
        );
      },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /collecting BTC-USDT, ETH-USDT from the embedded OKX simulator .* into PGlite at .*, the in-process bus as exchange 'okx-sim'/,
    );
    expect(r.stderr).toMatch(/stopped; \d+ trades, \d+ candles stored/);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(
      'symbol,timeframe,close_time_ms,close_time,open,high,low,close,volume,trades_count',
    );
    const rows = lines.slice(1).map((l) => l.split(','));
    const btc1m = rows.filter((c) => c[0] === 'BTC-USDT' && c[1] === '1m');
    expect(btc1m.length).toBeGreaterThanOrEqual(5);
    expect(rows.some((c) => c[0] === 'ETH-USDT' && c[1] === '5m')).toBe(true);

    const db = await openDatabase({ pglitePath: pglite });
    try {
      const stored = await new CandleStore(db, 'okx-sim').range('BTC-USDT', '1m', 0, Number.MAX_SAFE_INTEGER);
      // What the database had not taken when Ctrl-C came is in the spill file, newer than what it holds.
      const kept = spilled(join(dir, 'data')).filter((c) => c.symbol === 'BTC-USDT' && c.timeframe === '1m');
      const byTime = new Map([...stored, ...kept].map((c) => [c.closeTimeMs, c]));
      // A late trade may have revised a printed candle: the store holds the last version printed.
      const lastPrinted = new Map(btc1m.map((row) => [row[2], row]));
      for (const [, , t, , open, high, low, close, volume, count] of lastPrinted.values()) {
        const c = byTime.get(Number(t));
        expect(c).toBeDefined();
        expect([c?.open, c?.high, c?.low, c?.close, c?.tradesCount]).toEqual([
          Number(open),
          Number(high),
          Number(low),
          Number(close),
          Number(count),
        ]);
        expect(c?.volume).toBeCloseTo(Number(volume), 6);
      }
    } finally {
      await db.close();
    }
  }, 60_000);

  it('a second run continues the simulated market after the first one and leaves its candles untouched', async () => {
    const pglite = await seededPgliteFolder(join(dir, 'pglite'));
    const enough = (out: string) => out.split('\n').filter((l) => l.startsWith('ETH-USDT,1m,')).length >= 3;
    const first = await runCliUntil(['start', '--speed', '600', '--pglite', pglite, '--no-bots'], enough);
    expect(first.code).toBe(0);
    const read = async () => {
      const db = await openDatabase({ pglitePath: pglite });
      try {
        return await new CandleStore(db, 'okx-sim').range('ETH-USDT', '1m', 0, Number.MAX_SAFE_INTEGER);
      } finally {
        await db.close();
      }
    };
    // Candles the first stop left in the spill file are written by the second run: leave those aside.
    const pending = new Set(
      spilled(join(dir, 'data')).map((c) => `${c.symbol} ${c.timeframe} ${c.closeTimeMs}`),
    );
    const before = (await read()).filter((c) => !pending.has(`ETH-USDT 1m ${c.closeTimeMs}`));
    expect(before.length).toBeGreaterThan(0);
    const second = await runCliUntil(['start', '--speed', '600', '--pglite', pglite, '--no-bots'], enough);
    expect(second.code).toBe(0);
    const after2 = await read();
    const afterByTime = new Map(after2.map((c) => [c.closeTimeMs, c]));
    for (const c of before) expect(afterByTime.get(c.closeTimeMs)).toEqual(c);
    const lastBefore = Math.max(...before.map((c) => c.closeTimeMs));
    expect(after2.some((c) => c.closeTimeMs > lastBefore)).toBe(true);
    // The second start resumes from the newest stored candle over the simulator's REST history (at 600×
    // ~10 s of backfill before a gap is declared, 2-3 times that on a loaded machine): timed out at 60 s.
  }, 120_000);

  it('refuses a bad speed', async () => {
    const r = await runCli(['start', '--speed', 'fast', '--pglite', join(dir, 'p')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--speed must be a number > 0, got "fast"/);
  });
});

describe('rxtrade collect', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rxtrade-collect-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('warns when OKX_* point at this machine but the candles would be stored as okx; --exchange files them apart', async () => {
    const saved = { ws: process.env.OKX_WS_PUBLIC_URL, rest: process.env.OKX_REST_URL };
    // A separately started simulator would listen here; nothing needs to answer (the run stops once started).
    process.env.OKX_WS_PUBLIC_URL = 'ws://127.0.0.1:9/ws/v5/public';
    process.env.OKX_REST_URL = 'http://localhost:9';
    try {
      const args = [
        'collect',
        '--symbols',
        'BTC-USDT',
        '--pglite',
        await seededPgliteFolder(join(dir, 'pglite')),
      ];
      const started = (err: string): boolean => err.includes('(Ctrl-C stops)');
      const asOkx = await runCliUntil(args, started, 45_000, 'stderr');
      expect(asOkx.code).toBe(0);
      expect(asOkx.stderr).toContain(
        "rxtrade collect: warning: ws://127.0.0.1:9/ws/v5/public is on this machine (a simulator?), yet its candles are stored as exchange 'okx', with real OKX data; pass --exchange okx-sim to keep them apart\n",
      );
      expect(asOkx.stderr).toMatch(/as exchange 'okx' \(Ctrl-C stops\)/);
      const apart = await runCliUntil([...args, '--exchange', 'okx-sim'], started, 45_000, 'stderr');
      expect(apart.code).toBe(0);
      expect(apart.stderr).not.toMatch(/warning/);
      expect(apart.stderr).toMatch(/as exchange 'okx-sim' \(Ctrl-C stops\)/);
    } finally {
      for (const [name, value] of [
        ['OKX_WS_PUBLIC_URL', saved.ws],
        ['OKX_REST_URL', saved.rest],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  }, 60_000);

  it('collects from the simulator into PGlite and Redis, printing JSON', async () => {
    const r = await runCliUntil(
      [
        'collect',
        '--symbols',
        'ETH-USDT',
        '--sim',
        '--speed',
        '600',
        '--timeframes',
        '1m,5m',
        '--print',
        'json',
        '--pglite',
        await seededPgliteFolder(join(dir, 'pglite')),
        '--redis-url',
        'redis://127.0.0.1:6379',
        '--raw-trades',
      ],
      (out) => (out.match(/"timeframe":"1m"/g) ?? []).length >= 3,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/into PGlite at .*, Redis at redis:\/\/127\.0\.0\.1:6379/);
    const candles = JSON.parse(r.stdout) as { symbol: string; timeframe: string }[];
    expect(candles.length).toBeGreaterThanOrEqual(3);
    expect(new Set(candles.map((c) => c.symbol))).toEqual(new Set(['ETH-USDT']));
    expect(new Set(candles.map((c) => c.timeframe)).has('1m')).toBe(true);
    const db = await openDatabase({ pglitePath: join(dir, 'pglite') });
    try {
      const [row] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM raw_trades WHERE exchange = 'okx-sim'",
      );
      expect(row?.n).toBeGreaterThan(100);
    } finally {
      await db.close();
    }
  }, 60_000);

  it.each([
    [['--symbols', 'btc'], /"btc" is not an OKX instrument id/],
    [['--symbols', 'SOL-USDT', '--sim'], /recorded trades for BTC-USDT, ETH-USDT only, not SOL-USDT/],
    [['--symbols', 'BTC-USDT', '--timeframes', '2m'], /2m/],
    [['--symbols', 'BTC-USDT', '--sim', '--speed', '0'], /--speed must be a number > 0/],
    [
      ['--symbols', 'BTC-USDT', '--exchange', 'OKX'],
      /--exchange "OKX": use lowercase letters, digits and '-' \(at most 32\), such as okx, okx-sim or kraken/,
    ],
    [['--symbols', 'BTC-USDT', '--exchange', 'x'.repeat(33)], /--exchange "x{33}": use lowercase/],
    [
      ['--symbols', 'BTC-USDT', '--sim', '--exchange', 'okx'],
      /--exchange okx with the embedded simulator would store simulated candles as real OKX ones: use okx-sim \(the default\) or another name/,
    ],
  ])('refuses %j with a clear error', async (args, message) => {
    const r = await runCli(['collect', ...args, '--pglite', join(dir, 'p')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
  });
});
