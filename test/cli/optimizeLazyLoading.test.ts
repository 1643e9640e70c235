import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MAY_SLICE } from '../backtests/support.js';

const main = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const bundled = fileURLToPath(new URL('../../dist/bundle/main.cjs', import.meta.url));
const loader = fileURLToPath(new URL('../../bin/load-bundle.cjs', import.meta.url));

/**
 * Runs the built CLI in a fresh Node process and lists the npm packages it loaded through the CommonJS
 * loader (pg, ioredis, pino, koa and rxjs are CommonJS: each shows up in require.cache once imported).
 */
function packagesLoaded(
  argv: readonly string[],
  entry = main,
): Promise<{ code: number; packages: string[]; builtins: string[] }> {
  const script = `
    import { createRequire } from 'node:module';
    import { Writable } from 'node:stream';
    const entry = ${JSON.stringify(entry)};
    const { main } = entry.endsWith('.cjs')
      ? createRequire(import.meta.url)(${JSON.stringify(loader)}).loadBundle(entry, 'test').exports
      : await import(entry);
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const code = await main(${JSON.stringify(argv)}, { stdout: sink, stderr: sink, interactive: false, interrupted: new Promise(() => {}) });
    const names = new Set();
    for (const k of Object.keys(createRequire(import.meta.url).cache)) {
      const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(k);
      if (m) names.add(m[1]);
    }
    const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
    console.log(JSON.stringify({ code, packages: [...names].sort(), builtins }));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], (err, stdout) => {
      if (err) reject(err);
      else resolve(JSON.parse(stdout) as { code: number; packages: string[]; builtins: string[] });
    });
  });
}

describe('the CLI loads only what a command uses', () => {
  it.each([
    ['backtest', ['backtest', '--strategy', 'sma_cross', '--data', MAY_SLICE]],
    [
      'optimize',
      [
        'optimize',
        '--strategy',
        'sma_cross',
        '--data',
        MAY_SLICE,
        '--grid',
        'fast_period=5,10',
        '--workers',
        '1',
      ],
    ],
  ])('%s on a CSV: no database, Redis, logger or HTTP server code', async (_name, argv) => {
    const r = await packagesLoaded(argv);
    expect(r.code).toBe(0);
    expect(r.packages).toContain('rxjs'); // the probe works: rxjs is CommonJS too
    for (const heavy of ['pg', 'pg-copy-streams', 'ioredis', 'pino', 'koa', 'ws']) {
      expect(r.packages).not.toContain(heavy);
    }
  });

  it('backtest on a CSV, in the bundle bin/rxtrade.js loads (through its code cache loader): no worker-thread, v8 or child-process module', async () => {
    const r = await packagesLoaded(['backtest', '--strategy', 'sma_cross', '--data', MAY_SLICE], bundled);
    expect(r.code).toBe(0);
    expect(r.builtins).toContain('fs'); // the probe works
    for (const unused of ['worker_threads', 'v8', 'child_process']) expect(r.builtins).not.toContain(unused);
  });

  it('--version alone loads no command', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await packagesLoaded([flag]);
      expect(r.code).toBe(0);
      for (const heavy of ['pg', 'ioredis', 'pino', 'koa', 'ws', 'arquero', 'bullmq']) {
        expect(r.packages).not.toContain(heavy);
      }
    }
  });

  it('--help loads every command (to list them all)', async () => {
    const r = await packagesLoaded(['--help']);
    expect(r.code).toBe(0);
    expect(r.packages).toContain('ioredis');
  });
});
