import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workersToPrestart } from '../../backtests/prestart.js';
import { MAY_SLICE } from '../backtests/support.js';
import { runBuiltCli } from '../support/builtCli.js';
import { runCli } from '../support/cli.js';

/**
 * `rxtrade optimize` as users run it: bin/rxtrade.js starts the worker threads before the command's code
 * loads (backtests/prestart.ts), and the command's pool takes them. Needs `npm run build`.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const grid = [
  '--grid',
  'fast_period=5:15:5,slow_period=20:40:10',
  '--constraint',
  'fast_period < slow_period',
];
const onMay = ['optimize', '--strategy', 'sma_cross', '--data', MAY_SLICE];
const base = [...onMay, ...grid];

describe('the built rxtrade optimize', () => {
  it('prints what the in-process command prints, on prestarted workers and on none', async () => {
    const inProcess = await runCli([...base, '--json', '--workers', '1']);
    expect(inProcess.code).toBe(0);
    const cores = availableParallelism();
    for (const workers of ['2', '3', '1']) {
      const built = await runBuiltCli([...base, '--json', '--workers', workers]);
      // More threads than cores: said, and the same results.
      const note = Number(workers) > cores ? `--workers ${workers} on ${cores} core` : '';
      expect({ workers, code: built.code }).toEqual({ workers, code: 0 });
      if (note === '') expect(built.stderr).toBe('');
      else expect(built.stderr).toContain(note);
      expect(built.stdout).toBe(inProcess.stdout);
    }
  });

  it('ends at once when the command stops before its pool takes the workers: a mistake, --help, one combination', async () => {
    const mistake = await runBuiltCli([...base, '--workers', '2', '--metric', 'nonsense'], {
      timeoutMs: 30_000,
    });
    expect(mistake.code).toBe(1);
    expect(mistake.stderr).toContain('nonsense');
    const help = await runBuiltCli(['optimize', '--help'], { timeoutMs: 30_000 });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--workers');
    const one = await runBuiltCli([...onMay, '--grid', 'fast_period=5', '--workers', '2'], {
      timeoutMs: 30_000,
    });
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('1 combinations');
  });

  it('a prestarted worker no pool takes does not keep a process alive', () => {
    // A script file, not `node -e`: a worker inherits the process's flags, and --input-type stops it.
    const dir = mkdtempSync(join(tmpdir(), 'rxtrade-prestart-'));
    const script = join(dir, 'prestart.mjs');
    writeFileSync(
      script,
      `import { createRequire } from 'node:module';
const { loadBundle } = createRequire(import.meta.url)(${JSON.stringify(join(root, 'bin', 'load-bundle.cjs'))});
const m = loadBundle(${JSON.stringify(join(root, 'dist', 'bundle', 'prestart.cjs'))}, 'test').exports;
m.prestartWorkers(1);
// Long enough for the worker to be up (~0.2 s); then this thread has nothing left to do.
setTimeout(() => console.log('alive after 1.5 s:', m.prestartedCount()), 1500);
`,
    );
    try {
      const r = spawnSync(process.execPath, [script], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      expect(r.error).toBeUndefined();
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        status: 0,
        stdout: 'alive after 1.5 s: 1\n',
        stderr: '',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('workersToPrestart', () => {
  it.each([
    [[], 2, 1],
    [[], 1, 0],
    [['--workers', '2'], 4, 1],
    [['--workers=3'], 4, 2],
    [['--workers', ' 3 '], 4, 2],
    [['--workers', '8'], 2, 1],
    [['--workers', '1'], 2, 0],
    [['--workers', '0'], 2, 0],
    [['--workers', 'two'], 2, 0],
    [['--workers', '257'], 2, 0],
    [['--workers'], 2, 0],
    [['--queue', 'redis'], 2, 0],
    [['--queue=redis', '--workers', '2'], 2, 0],
    [['--', '--workers', '1'], 2, 1],
    [['--strategy', 'sma_cross', '--workers', '2', '--json'], 2, 1],
  ])('%j on %i cores: %i', (args, cores, expected) => {
    expect(workersToPrestart(args, cores)).toBe(expected);
  });
});
