import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BTC_MONTH, MAY_SLICE } from '../backtests/support.js';
import { runCli } from '../support/cli.js';
import { CliProcess, runBuiltCli } from '../support/builtCli.js';

/**
 * `rxtrade backtest` as users run it: the built command (`node bin/rxtrade.js`, the esbuild bundle of
 * scripts/bundle.mjs), beside the same command run in-process from the sources. Needs `npm run build`.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('the built rxtrade backtest', () => {
  it('keeps only the zod it uses, and zod still says what is wrong with --params', async () => {
    // A language of zod's other than English (each one rides along when the whole of zod is bundled).
    const bundle = join(root, 'dist', 'bundle');
    const withFrench = readdirSync(bundle)
      .filter((f) => f.endsWith('.cjs'))
      .filter((f) => readFileSync(join(bundle, f), 'utf8').includes('adresse e-mail'));
    expect(withFrench).toEqual([]);

    const args = [
      'backtest',
      '--strategy',
      'sma_cross',
      '--params',
      '{"fast_period": -3, "foo": 1}',
      '--data',
      MAY_SLICE,
    ];
    const built = await runBuiltCli(args);
    const inProcess = await runCli(args);
    expect(built.code).toBe(1);
    expect(built.stderr).toContain('parameters.fast_period: Too small: expected number to be >=1');
    expect(built.stderr).toBe(inProcess.stderr);
  });

  it.each([
    ['--json', ['--json']],
    ['the metrics table', []],
  ])('prints what the in-process command prints (%s), byte for byte', async (_what, extra) => {
    const args = ['backtest', '--strategy', 'sma_cross', '--data', MAY_SLICE, ...extra];
    const built = await runBuiltCli(args);
    const inProcess = await runCli(args);
    expect(built.code).toBe(0);
    expect(built.stdout.length).toBeGreaterThan(1000);
    expect(built.stdout).toBe(inProcess.stdout);
    expect(built.stderr).toBe(inProcess.stderr);
  });

  it('ends its process only when everything it printed is out, a reader that pauses included', async () => {
    // bin/rxtrade.js ends a research command's process itself (process.exit) once it returns: the whole
    // JSON still reaches a reader that holds the pipe full for a while.
    const p = new CliProcess(['backtest', '--strategy', 'sma_cross', '--data', BTC_MONTH, '--json']);
    p.child.stdout?.pause();
    await new Promise((r) => setTimeout(r, 500));
    p.child.stdout?.resume();
    const r = await p.exited;
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { equity_curve: unknown[]; metrics: { candles: number } };
    expect(out.equity_curve.length).toBe(out.metrics.candles);
    expect(r.stdout.length).toBeGreaterThan(1_000_000); // many times what a pipe holds
  });
});
