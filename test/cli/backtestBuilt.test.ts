import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAY_SLICE } from '../backtests/support.js';
import { runCli } from '../support/cli.js';
import { runBuiltCli } from '../support/builtCli.js';

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
});
