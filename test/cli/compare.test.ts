import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { MAY_SLICE } from '../backtests/support.js';

const dir = mkdtempSync(join(tmpdir(), 'rxtrade-compare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = ['compare', '--data', MAY_SLICE, '--samples', '300'];

interface CompareJson {
  runs: {
    label: string;
    strategy: string;
    params: Record<string, unknown>;
    metrics: Record<string, number | null>;
    drawdown_monte_carlo: { trades: number; actual: number; percentiles: Record<string, number> };
  }[];
  significance: {
    run: string;
    vs: string;
    periods: number;
    block_length: number;
    sharpe_diff: { estimate: number; low: number; high: number; p_value: number };
    return_diff: { estimate: number; low: number; high: number; p_value: number };
  }[];
}

describe('rxtrade compare', () => {
  it('prints the metrics side by side, the bootstrap and the drawdown tables', async () => {
    const r = await runCli([...base, '--run', 'sma_cross', '--run', 'fast=sma_cross:{"fast_period":5}']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^2 runs on BTC-USDT/);
    expect(r.stdout).toMatch(/^ +sma_cross +fast$/m);
    expect(r.stdout).toMatch(/^Sharpe \(annualized\) +-?\d+\.\d{3} +-?\d+\.\d{3}$/m);
    expect(r.stdout).toMatch(
      /^difference vs sma_cross .*paired stationary bootstrap.*300 resamples, mean block 13 periods/m,
    );
    expect(r.stdout).toMatch(/^fast +2000 +[-+]\d/m);
    expect(r.stdout).toMatch(/^run +trades +actual +p5 +p25 +p50 +p75 +p95 +share ≥ actual$/m);
  });

  it('--json: every run with its metrics and drawdown distribution, each test against the first; seeded', async () => {
    const argv = [
      ...base,
      '--run',
      'sma_cross',
      '--run',
      'sma_cross:{"fast_period":10}',
      '--run',
      'ema=ema_crossover:{"fast_period":9,"slow_period":21}',
      '--json',
    ];
    const r = await runCli(argv);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as CompareJson;
    expect(out.runs.map((x) => x.label)).toEqual(['sma_cross', 'sma_cross fast_period=10', 'ema']);
    expect(out.runs[2]?.params).toMatchObject({ fast_period: 9, slow_period: 21 });
    expect(Object.keys(out.runs[0]?.metrics ?? {})).toEqual(
      expect.arrayContaining([
        'total_return',
        'sharpe',
        'sortino',
        'calmar',
        'max_drawdown',
        'sqn',
        'profit_factor',
      ]),
    );
    // The same run as the first (sma_cross's default fast_period is 10): no difference at all.
    const same = out.significance[0];
    expect(same).toMatchObject({ run: 'sma_cross fast_period=10', vs: 'sma_cross', periods: 2000 });
    expect(same?.sharpe_diff).toEqual({ estimate: 0, low: 0, high: 0, p_value: 1 });
    expect(same?.return_diff).toEqual({ estimate: 0, low: 0, high: 0, p_value: 1 });
    const ema = out.significance[1];
    expect(ema?.sharpe_diff.low).toBeLessThanOrEqual(ema?.sharpe_diff.estimate ?? Number.NaN);
    expect(ema?.sharpe_diff.high).toBeGreaterThanOrEqual(ema?.sharpe_diff.estimate ?? Number.NaN);
    expect(ema?.sharpe_diff.estimate).toBeCloseTo(
      (out.runs[2]?.metrics['sharpe'] ?? Number.NaN) - (out.runs[0]?.metrics['sharpe'] ?? Number.NaN),
      6,
    );
    const mc = out.runs[0]?.drawdown_monte_carlo;
    expect(mc?.trades).toBe(out.runs[0]?.metrics['trades']);
    expect(Object.keys(mc?.percentiles ?? {})).toEqual(['p5', 'p25', 'p50', 'p75', 'p95']);
    // Deterministic: the same command prints the same thing; another seed draws other numbers.
    expect((await runCli(argv)).stdout).toBe(r.stdout);
    const other = JSON.parse((await runCli([...argv, '--seed', '2'])).stdout) as CompareJson;
    expect(other.significance[1]?.sharpe_diff.low).not.toBe(ema?.sharpe_diff.low);
    expect(other.significance[1]?.sharpe_diff.estimate).toBe(ema?.sharpe_diff.estimate);
  });

  it('--runs FILE (YAML) with --run after it', async () => {
    const file = join(dir, 'runs.yaml');
    writeFileSync(
      file,
      [
        'runs:',
        '  - strategy: sma_cross',
        '    params: { fast_period: 5 }',
        '  - { label: ema, strategy: ema_crossover }',
        '',
      ].join('\n'),
    );
    const r = await runCli([...base, '--runs', file, '--run', 'rsi_reversion', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as CompareJson;
    expect(out.runs.map((x) => x.label)).toEqual(['sma_cross fast_period=5', 'ema', 'rsi_reversion']);
  });

  it('bad input: exit 1 with the problem named', async () => {
    const one = await runCli([...base, '--run', 'sma_cross']);
    expect(one.code).toBe(1);
    expect(one.stderr).toMatch(/at least two runs/);
    const json = await runCli([...base, '--run', 'sma_cross', '--run', 'sma_cross:{fast_period:5}']);
    expect(json.code).toBe(1);
    expect(json.stderr).toMatch(/--run #2 "sma_cross:\{fast_period:5\}": the parameters are not valid JSON/);
    const param = await runCli([...base, '--run', 'sma_cross', '--run', 'sma_cross:{"fast_period":"x"}']);
    expect(param.code).toBe(1);
    expect(param.stderr).toMatch(/--run #2 \(sma_cross fast_period=x\): .*fast_period/);
    const unknown = await runCli([...base, '--run', 'sma_cross', '--run', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/--run #2 \(nope\): unknown strategy "nope"/);
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'runs:\n  - strategy: sma_cross\n    parms: {}\n');
    const bad = await runCli([...base, '--runs', file, '--run', 'sma_cross']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--runs .*bad\.yaml: runs\.0\.parms: unknown key/);
    const samples = await runCli([...base, '--run', 'sma_cross', '--run', 'ema_crossover', '--samples', '0']);
    expect(samples.code).toBe(1);
    expect(samples.stderr).toMatch(/--samples must be a whole number/);
  });
});
