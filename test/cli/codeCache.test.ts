import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAY_SLICE } from '../backtests/support.js';
import { cleanEnv, runBuiltCli } from '../support/builtCli.js';

/**
 * bin/load-bundle.cjs: the bundles run through a V8 code cache kept beside them (dist/bundle/cache/). A
 * missing, stale, corrupt or unwritable cache never changes what runs. The built CLI needs `npm run build`.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));

const LOADER = join(root, 'bin', 'load-bundle.cjs');

interface Load {
  readonly cache: 'used' | 'missing' | 'rejected' | 'off';
  /** fib(15) + the words in 'a b  c', computed by the bundle: 613. */
  readonly result: number;
  readonly thrown: string;
}

/**
 * Loads FILE through the loader in a Node process of its own (in one process V8 finds a script it compiled
 * before in its own memory and never looks at the cache given), uses it, and saves the cache when asked.
 */
function load(
  file: string,
  key: string,
  o: { save?: boolean; env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {},
): Load {
  // A script file, not node -e: the loader keys its caches by the process's flags, which -e's text is.
  const runner = join(dirname(file), 'runner.cjs');
  writeFileSync(
    runner,
    `const [file, key, save] = process.argv.slice(2);
const b = require(${JSON.stringify(LOADER)}).loadBundle(file, key);
let thrown = '';
try { b.exports.where(); } catch (err) { thrown = err.stack; }
if (save === 'save') b.saveCodeCache();
console.log(JSON.stringify({ cache: b.cache, result: b.exports.fib(15) + b.exports.words('a b  c'), thrown }));
`,
  );
  const env = { ...process.env, ...o.env };
  delete env.NODE_OPTIONS;
  const args = [...(o.nodeArgs ?? []), runner, file, key, o.save === true ? 'save' : ''];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env, timeout: 30_000 });
  if (r.status !== 0) throw new Error(`load failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Load;
}

// A bundle of its own: enough functions for V8 to have something to cache, one that throws on line 7.
const SOURCE = `'use strict';
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
function words(s) { return s.split(/\\s+/).filter(Boolean).length; }
module.exports.fib = fib;
module.exports.words = words;
module.exports.where = () => {
  throw new Error('thrown on line 7');
};
`;

describe('the code cache loader', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rxtrade-codecache-'));
    file = join(dir, 'b.cjs');
    writeFileSync(file, SOURCE);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const caches = (): string[] => {
    try {
      return readdirSync(join(dir, 'cache'));
    } catch {
      return [];
    }
  };

  it('writes the cache when asked after a first run, and the next load uses it', () => {
    expect(load(file, 'k')).toMatchObject({ cache: 'missing', result: 613 });
    expect(caches()).toEqual([]); // nothing until asked
    expect(load(file, 'k', { save: true })).toMatchObject({ cache: 'missing', result: 613 });
    const written = caches();
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(new RegExp(`^b\\.k\\.${process.version}-${process.arch}\\.\\d+-\\d+\\.bin$`));
    const cacheFile = join(dir, 'cache', written[0] as string);
    const before = statSync(cacheFile).mtimeMs;
    // A cache in use is not written again.
    expect(load(file, 'k', { save: true })).toMatchObject({ cache: 'used', result: 613 });
    expect(statSync(cacheFile).mtimeMs).toBe(before);
    // Another key: a cache of its own.
    expect(load(file, 'other').cache).toBe('missing');
  });

  it('a cache V8 refuses (cut short, or not one at all) is made again, and the bundle runs as ever', () => {
    load(file, 'k', { save: true });
    const cacheFile = join(dir, 'cache', caches()[0] as string);
    const good = readFileSync(cacheFile);
    for (const bad of [good.subarray(0, good.length - 16), Buffer.from('not a code cache'.repeat(64))]) {
      writeFileSync(cacheFile, bad);
      expect(load(file, 'k', { save: true })).toMatchObject({ cache: 'rejected', result: 613 });
      expect(load(file, 'k')).toMatchObject({ cache: 'used', result: 613 });
    }
  });

  it('a rebuilt bundle never meets the cache of the old one, which goes when the new one is written', () => {
    load(file, 'k', { save: true });
    const [old] = caches();
    // The same length (V8 checks no more of the source than that), another text and time.
    writeFileSync(file, SOURCE.replace('thrown on line 7', 'THROWN ON LINE 7'));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const rebuilt = load(file, 'k', { save: true });
    expect(rebuilt.cache).toBe('missing');
    expect(rebuilt.thrown).toContain('THROWN ON LINE 7');
    expect(caches()).toHaveLength(1);
    expect(caches()[0]).not.toBe(old);
  });

  it('other Node or V8 flags keep a cache of their own beside the plain one', () => {
    load(file, 'k', { save: true });
    const nodeArgs = ['--max-semi-space-size=8'];
    expect(load(file, 'k', { nodeArgs, save: true }).cache).toBe('missing');
    expect(caches()).toHaveLength(2);
    expect(load(file, 'k', { nodeArgs }).cache).toBe('used');
    expect(load(file, 'k').cache).toBe('used');
  });

  it('stack traces keep the bundle lines, with the cache and without', () => {
    expect(load(file, 'k', { save: true }).thrown).toContain(`${file}:7:`);
    expect(load(file, 'k').thrown).toContain(`${file}:7:`);
  });

  it('RXTRADE_CODE_CACHE=0: no cache read or written', () => {
    load(file, 'k', { save: true });
    const env = { RXTRADE_CODE_CACHE: '0' };
    expect(load(file, 'k', { env })).toMatchObject({ cache: 'off', result: 613 });
    expect(load(file, 'k2', { env, save: true })).toMatchObject({ cache: 'off', result: 613 });
    expect(caches()).toHaveLength(1);
  });

  it('a cache folder that cannot be written is no error', () => {
    writeFileSync(join(dir, 'cache'), 'a file where the folder would be');
    expect(load(file, 'k', { save: true })).toMatchObject({ cache: 'missing', result: 613 });
    expect(load(file, 'k')).toMatchObject({ cache: 'missing', result: 613 });
  });
});

describe('the built CLI keeps its code caches', () => {
  it('bin/rxtrade.js sends to research.cjs the commands scripts/bundle.mjs keeps in it', () => {
    const researchOf = (file: string): string[] => {
      const m = /const RESEARCH = new Set\((\[[^\]]*\])\)/.exec(readFileSync(join(root, file), 'utf8'));
      if (m === null) throw new Error(`${file}: no RESEARCH set`);
      return (JSON.parse((m[1] as string).replace(/'/g, '"')) as string[]).sort();
    };
    expect(researchOf('bin/rxtrade.js')).toEqual(researchOf('scripts/bundle.mjs'));
    expect(researchOf('bin/rxtrade.js')).toEqual(['backtest', 'compare', 'optimize']);
  });

  it('research.cjs has the research commands only, and says so if asked for another', () => {
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        `const { loadBundle } = require(${JSON.stringify(join(root, 'bin', 'load-bundle.cjs'))});
         const cli = loadBundle(${JSON.stringify(join(root, 'dist', 'bundle', 'research.cjs'))}, 'probe').exports;
         const io = { stdout: process.stdout, stderr: process.stderr, interactive: false, interrupted: new Promise(() => {}) };
         cli.main(['start'], io).then((code) => { process.exitCode = code; });`,
      ],
      { encoding: 'utf8', env: cleanEnv({ RXTRADE_CODE_CACHE: '0' }) },
    );
    expect(r.stderr).toContain('research.cjs has no start command');
    expect(r.status).not.toBe(0);
  });

  it('backtest and optimize (its prestart and workers too) leave theirs, and print the same with and without', async () => {
    const backtest = ['backtest', '--strategy', 'sma_cross', '--data', MAY_SLICE, '--json'];
    const optimize = ['optimize', '--strategy', 'sma_cross', '--data', MAY_SLICE];
    const search = [...optimize, '--grid', 'fast_period=5:15:5', '--workers', '2', '--json'];
    const cached = [await runBuiltCli(backtest), await runBuiltCli(search)];
    const files = readdirSync(join(root, 'dist', 'bundle', 'cache'));
    // Both run from research.cjs (the CLI with backtest, optimize and compare only), not main.cjs.
    expect(files.some((f) => f.startsWith('research.backtest.'))).toBe(true);
    expect(files.some((f) => f.startsWith('research.optimize.'))).toBe(true);
    expect(files.some((f) => f.startsWith('main.backtest.') || f.startsWith('main.optimize.'))).toBe(false);
    expect(files.some((f) => f.startsWith('optimizeWorker.worker.'))).toBe(true);
    expect(files.some((f) => f.startsWith('prestart.prestart.'))).toBe(true);
    const env = cleanEnv({ RXTRADE_CODE_CACHE: '0' });
    const uncached = [await runBuiltCli(backtest, { env }), await runBuiltCli(search, { env })];
    for (const [i, r] of cached.entries()) {
      expect(r.code).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(1000);
      expect(uncached[i]?.stdout).toBe(r.stdout);
      expect(uncached[i]?.stderr).toBe(r.stderr);
    }
  });
});
