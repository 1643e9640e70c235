import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { seededPgliteFolder } from '../storage/support/databases.js';
import { runBuiltCli } from '../support/builtCli.js';

/** `rxtrade scan` as a user runs it: the built CLI, offline, on the embedded simulator (run `npm run build` first). */
describe('rxtrade scan', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scan-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('scans a simulated market of 50 symbols, prints what it finds and exports the CSV files', async () => {
    const db = await seededPgliteFolder(join(dir, 'pglite'));
    const out = join(dir, 'export');
    const r = await runBuiltCli(
      [
        'scan',
        '--sim',
        '--symbols',
        '50',
        '--speed',
        '120',
        '--minutes',
        '6',
        '--pglite',
        db,
        '--export',
        out,
        '--config',
        'config/scanner.yaml',
      ],
      { timeoutMs: 150_000 },
    );
    expect(r.stderr).not.toMatch(/"level":50/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^simulated market: 50 symbols, 180 minutes of history, clock ×120$/m);
    expect(r.stdout).toMatch(/^\d\d:\d\d universe: 30 symbols \(30 entered, 0 left\)$/m);
    const summary =
      /^run ([0-9a-f-]{36}): (\d+) candles scored on 30 symbols, (\d+) opportunities, (\d+) snapshots;/m.exec(
        r.stdout,
      );
    expect(summary).not.toBeNull();
    const [, runId, , opportunities, snapshots] = summary!;
    expect(Number(snapshots)).toBeGreaterThanOrEqual(30);
    expect(r.stdout).toContain(
      `exported ${opportunities} opportunities and ${snapshots} snapshots to ${out}`,
    );
    const snapCsv = (await readFile(join(out, 'snapshots.csv'), 'utf8')).trimEnd().split('\n');
    expect(snapCsv).toHaveLength(Number(snapshots) + 1);
    expect(snapCsv[0]).toMatch(
      /^"run_id","exchange","symbol","time","open","high","low","close","volume","volume_24h","btc_correlation",.*"rsi".*"ask5_sz"$/,
    );
    expect(snapCsv[1]).toContain(`"${runId}","okx-sim"`);
    const oppCsv = (await readFile(join(out, 'opportunities.csv'), 'utf8')).trimEnd().split('\n');
    expect(oppCsv).toHaveLength(Number(opportunities) + 1);

    // Export alone, from the database, for a period.
    const again = join(dir, 'again');
    const e = await runBuiltCli([
      'scan',
      '--export',
      again,
      '--pglite',
      db,
      '--run',
      runId!,
      '--from',
      '2000-01-01',
    ]);
    expect(e).toMatchObject({
      code: 0,
      stdout: `exported ${opportunities} opportunities and ${snapshots} snapshots to ${again}\n`,
    });
    expect(await readFile(join(again, 'snapshots.csv'), 'utf8')).toBe(
      await readFile(join(out, 'snapshots.csv'), 'utf8'),
    );
  }, 200_000);

  it('scans the simulator through ccxt with --exchange kraken, storing rows as kraken-sim', async () => {
    const db = await seededPgliteFolder(join(dir, 'pglite-kraken'));
    const out = join(dir, 'export-kraken');
    const r = await runBuiltCli(
      [
        'scan',
        '--sim',
        '--exchange',
        'kraken',
        '--symbols',
        '30',
        '--speed',
        '60',
        '--minutes',
        '6',
        '--pglite',
        db,
        '--export',
        out,
        '--config',
        'config/scanner.yaml',
      ],
      { timeoutMs: 150_000 },
    );
    expect(r.stderr).not.toMatch(/"level":50/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^reading the simulator's kraken dialect \(http:\/\/127\.0\.0\.1:\d+\) through ccxt\.pro$/m,
    );
    expect(r.stdout).toMatch(/^\d\d:\d\d universe: 18 symbols \(18 entered, 0 left\)$/m);
    const summary =
      /^run ([0-9a-f-]{36}): (\d+) candles scored on 18 symbols, (\d+) opportunities, (\d+) snapshots;/m.exec(
        r.stdout,
      );
    expect(summary).not.toBeNull();
    const [, runId, scored, , snapshots] = summary!;
    // 18 symbols (and BTC among them) for 6 minutes: about 6 candles each after the warm-up.
    expect(Number(scored)).toBeGreaterThanOrEqual(18 * 4);
    expect(Number(snapshots)).toBeGreaterThanOrEqual(18);
    const snapCsv = (await readFile(join(out, 'snapshots.csv'), 'utf8')).trimEnd().split('\n');
    expect(snapCsv[1]).toContain(`"${runId}","kraken-sim"`);
    // The order book top 5 came from Kraken's Depth: five levels a side, one tick from the last price.
    expect(snapCsv[1]).toMatch(/(,"?[0-9.]+"?){20}$/);
  }, 200_000);

  it('refuses a bad config naming the key, and an exchange it cannot scan (exit 1)', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'filtering:\n  max_spread_percentage: -1\n');
    const [r, k] = await Promise.all([
      runBuiltCli(['scan', '--sim', '--config', bad, '--pglite', join(dir, 'db2')]),
      runBuiltCli(['scan', '--sim', '--exchange', 'binance', '--pglite', join(dir, 'db3')]),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/rxtrade: .*bad\.yaml: filtering\.max_spread_percentage: Too small/);
    expect(k.code).toBe(1);
    expect(k.stderr).toContain('--exchange binance: scan reads OKX natively and kraken through ccxt');
    // Both refused before a database was opened: no folder was made.
    expect(existsSync(join(dir, 'db2'))).toBe(false);
    expect(existsSync(join(dir, 'db3'))).toBe(false);
  }, 120_000);
});
