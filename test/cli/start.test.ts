import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CandleStore } from '../../src/storage/candleStore.js';
import { openDatabase } from '../../src/storage/database.js';
import { runCli, runCliUntil } from '../support/cli.js';

/**
 * `rxtrade start` with no environment: the embedded simulator → collector → PGlite + in-process bus,
 * printing candles as they close. At 600× a simulated minute passes every 0.1 s.
 */

describe('rxtrade start (no environment: embedded simulator, PGlite, in-process bus)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rxtrade-start-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints each closed candle and stores the same candles, then stops cleanly on Ctrl-C', async () => {
    const pglite = join(dir, 'pglite');
    const r = await runCliUntil(
      ['start', '--speed', '600', '--pglite', pglite, '--timeframes', '1m,5m'],
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
      const byTime = new Map(stored.map((c) => [c.closeTimeMs, c]));
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
    const pglite = join(dir, 'pglite');
    const enough = (out: string) => out.split('\n').filter((l) => l.startsWith('ETH-USDT,1m,')).length >= 3;
    const first = await runCliUntil(['start', '--speed', '600', '--pglite', pglite], enough);
    expect(first.code).toBe(0);
    const read = async () => {
      const db = await openDatabase({ pglitePath: pglite });
      try {
        return await new CandleStore(db, 'okx-sim').range('ETH-USDT', '1m', 0, Number.MAX_SAFE_INTEGER);
      } finally {
        await db.close();
      }
    };
    const before = await read();
    expect(before.length).toBeGreaterThan(0);
    const second = await runCliUntil(['start', '--speed', '600', '--pglite', pglite], enough);
    expect(second.code).toBe(0);
    const after2 = await read();
    expect(after2.slice(0, before.length)).toEqual(before);
    expect(after2.length).toBeGreaterThan(before.length);
    const lastBefore = before[before.length - 1]?.closeTimeMs ?? 0;
    expect(after2[before.length]?.closeTimeMs).toBeGreaterThan(lastBefore);
  }, 60_000);

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
        join(dir, 'pglite'),
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
  ])('refuses %j with a clear error', async (args, message) => {
    const r = await runCli(['collect', ...args, '--pglite', join(dir, 'p')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
  });
});
