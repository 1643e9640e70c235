import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/storage/database.js';
import { runCli, runCliUntil } from '../support/cli.js';
import { seededPgliteFolder } from '../storage/support/databases.js';

/**
 * `rxtrade start --scanner`: the scanner and its position manager inside start, beside the collector and
 * the bots, on the embedded simulator at 600× (a simulated minute every 0.1 s) with a scanner config whose
 * indicators warm up in minutes and whose every warm candle is an opportunity (min_score 0).
 */
const CONFIG = `
filtering:
  quote_currencies: [USDT]
  min_volume_24h: 0
  max_spread_percentage: 100
  max_volatility_percentage: 100
  min_history_candles: 20
  reevaluate_minutes: 1
momentum_strategy:
  rsi: { period: 5, min: 1, max: 100 }
  macd: { fast: 3, slow: 6, signal: 3 }
  bollinger: { period: 5, std_dev: 2 }
  adx: { period: 3, min: 0 }
  volume: { sma_period: 3, roc_period: 2, min_ratio: 0.1 }
  atr_period: 3
  trend: { timeframes: [5m], ema_period: 3 }
  min_score: 0
application:
  warmup_candles: 30
  snapshot_interval_minutes: 1
`;

const savedDataDir = process.env.RXTRADE_DATA_DIR;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxtrade-start-scanner-'));
  process.env.RXTRADE_DATA_DIR = join(dir, 'data');
});
afterEach(() => {
  if (savedDataDir === undefined) delete process.env.RXTRADE_DATA_DIR;
  else process.env.RXTRADE_DATA_DIR = savedDataDir;
  rmSync(dir, { recursive: true, force: true });
});

describe('rxtrade start --scanner', () => {
  it('runs the scanner inside start: it records opportunities and snapshots of the simulated market', async () => {
    const pglite = await seededPgliteFolder(join(dir, 'pglite'));
    const config = join(dir, 'scanner.yaml');
    writeFileSync(config, CONFIG);
    const r = await runCliUntil(
      [
        'start',
        '--speed',
        '600',
        '--pglite',
        pglite,
        '--no-bots',
        '-q',
        '--scanner',
        '--scanner-config',
        config,
      ],
      // A universe evaluation after the first opportunities: the scan that found them has finished (stored).
      (err) => {
        const first = err.indexOf('rxtrade start: scanner: opportunity ');
        return first >= 0 && err.lastIndexOf('rxtrade start: scanner: universe ') > first;
      },
      90_000,
      'stderr',
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^rxtrade start: scanner: run [0-9a-f-]{36} with .*scanner\.yaml$/m);
    expect(r.stderr).toMatch(/^rxtrade start: scanner: universe [12] symbols/m);
    expect(r.stderr).toMatch(
      /^rxtrade start: scanner: opportunity (BTC|ETH)\/USDT score [\d.]+ at [\d.]+: /m,
    );
    expect(r.stderr).toMatch(/stopped; \d+ trades, \d+ candles stored/);
    // The scan under way when Ctrl-C came finished: the simulator's REST API was still there for it.
    expect(r.stderr).not.toMatch(/the scanner stopped on an error/);
    const runId = /scanner: run ([0-9a-f-]{36})/.exec(r.stderr)![1];

    const db = await openDatabase({ pglitePath: pglite });
    try {
      const runs = await db.query<{ exchange: string; finished: boolean }>(
        'SELECT exchange, finished_at IS NOT NULL AS finished FROM scanner_runs WHERE run_id = $1',
        [runId],
      );
      expect(runs).toEqual([{ exchange: 'okx-sim', finished: true }]);
      const opps = await db.query<{ n: number; symbols: number }>(
        'SELECT count(*)::int AS n, count(DISTINCT symbol)::int AS symbols FROM scanner_opportunities WHERE run_id = $1',
        [runId],
      );
      expect(opps[0]!.n).toBeGreaterThanOrEqual(1);
      const snaps = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM scanner_snapshots WHERE run_id = $1',
        [runId],
      );
      expect(snaps[0]!.n).toBeGreaterThan(0);
      const metrics = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM scanner_run_metrics WHERE run_id = $1',
        [runId],
      );
      expect(metrics[0]!.n).toBe(1);
      // The collector ran beside it: candles are stored too.
      const candles = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM market_data WHERE exchange = 'okx-sim'",
      );
      expect(candles[0]!.n).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
  }, 120_000);

  it('refuses --scanner-config without --scanner, a bad scanner config naming the key, and --scanner on kraken (exit 1)', async () => {
    const a = await runCli(['start', '--scanner-config', 'x.yaml', '--pglite', join(dir, 'p1')]);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain('--scanner-config is the config of --scanner: add --scanner');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'risk_management:\n  max_open_positions: 0\n');
    const b = await runCli([
      'start',
      '--no-bots',
      '-q',
      '--scanner',
      '--scanner-config',
      bad,
      '--pglite',
      join(dir, 'p2'),
    ]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/bad\.yaml: risk_management\.max_open_positions/);
    const c = await runCli([
      'start',
      '--scanner',
      '--exchange',
      'kraken',
      '--sim',
      '--pglite',
      join(dir, 'p3'),
    ]);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain(
      '--scanner inside start reads OKX only; for kraken run the scanner as its own process',
    );
  }, 120_000);
});
