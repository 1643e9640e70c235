// Bundles the CLI and the optimize worker into dist/bundle with esbuild: dist/bundle/main.cjs (every
// command), dist/bundle/research.cjs (the CLI with backtest, optimize and compare only: see RESEARCH),
// dist/bundle/optimizeWorker.cjs and dist/bundle/prestart.cjs (the start of an optimize's worker threads,
// before the command's bundle loads), one file each. bin/load-bundle.cjs runs them through a V8
// code cache (their bytecode from the last run, in dist/bundle/cache/), which Node 20 can keep only for
// CommonJS-style scripts: an ES module is parsed and compiled at every start. One file also spares Node's ES module loader its work per module (resolving,
// reading, linking ~40 chunks: the bundle as CommonJS without the cache was already ~45 ms faster a
// backtest). A command's modules still run only when the command is used (esbuild wraps what is imported
// lazily). rxjs is taken from its ES module build, so only the operators used are kept. Only the small
// pure-JavaScript packages every command needs are bundled; the others (database drivers, PGlite and its
// wasm, Redis, the HTTP server) stay packages, required from node_modules when a command loads them
// (Node 20.19+ requires ES-only packages such as arquero and PGlite).
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const rxjsEsm = join(dirname(require.resolve('rxjs/package.json')), 'dist', 'esm');
const BUNDLED = new Set(['rxjs', 'zod', 'commander']);
// The sources import zod as `import * as z from 'zod'` (eslint holds them to it): `import { z }` hands
// over zod's namespace object, which keeps all of zod (~580 kB: every locale, JSON Schema conversion, …) in
// the chunk every command loads; the namespace import lets esbuild keep only what `z.number`, `z.object`,
// … reach (~150 kB): about 40 ms less to compile and run at each start.

// A build into the folder left by the last one would keep its code caches: they are the old bundle's.
await rm(join(root, 'dist', 'bundle'), { recursive: true, force: true });

/**
 * The commands of dist/bundle/research.cjs: the CLI with these commands only (the others' modules left
 * out), which bin/rxtrade.js runs for them. A research command reads less and deserializes a smaller code
 * cache than from main.cjs (the 71 k-candle backtest: 547 instead of 957 kB of source, a 518 instead of a
 * 637 kB cache, ~300–570 fewer page faults of ~7.8 k). Keep in step with RESEARCH in bin/rxtrade.js
 * (test/cli/codeCache.test.ts holds the two equal).
 */
const RESEARCH = new Set(['backtest', 'optimize', 'compare']);

/** esbuild's options for one build (`entryPoints` and `plugins` added per build). */
const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  platform: 'node',
  target: 'node20',
  outdir: 'dist/bundle',
  sourcemap: 'linked',
  // Less text to read (and, without a code cache, to parse) when a command or a worker starts. Names are
  // kept (no identifier minification): stacks stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  // The sources are ES modules: strict code, and import.meta.url is where the file is (the bundle's).
  banner: {
    js: "'use strict';const __rxtradeUrl=require('node:url').pathToFileURL(__filename).href;",
  },
  define: { 'import.meta.url': '__rxtradeUrl' },
};

/** rxjs from its ES module build, the lazy builtins, and what stays a package of node_modules. */
const packages = {
  name: 'packages',
  setup(b) {
    b.onResolve({ filter: /^rxjs(\/operators)?$/ }, (args) => ({
      path: join(rxjsEsm, args.path === 'rxjs' ? 'index.js' : 'operators/index.js'),
    }));
    // commander requires node:child_process when it loads, for executable subcommands (which rxtrade
    // has none of): with what it pulls in (net, dgram, …) ~50 M instructions alone, ~9 M in a backtest
    // process that loads streams anyway (callgrind), for a module no command uses. It gets the module
    // when it first touches it.
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes(`node_modules${sep}commander${sep}`)
        ? { path: 'child_process', namespace: 'lazy-builtin' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents:
        "let m; module.exports = new Proxy({}, { get: (_, k) => (m ??= require('node:child_process'))[k] });",
      loader: 'js',
    }));
    // Much the same for node:worker_threads in backtests/workerPool.js: every command's bundle holds
    // the pool (optimize's and compare's), which would load the module (~5 ms) in every command. The
    // pool only constructs Workers.
    b.onResolve({ filter: /^(node:)?worker_threads$/ }, (args) =>
      args.importer.endsWith(`backtests${sep}workerPool.js`)
        ? { path: 'worker_threads', namespace: 'lazy-worker' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-worker' }, () => ({
      contents:
        "export function Worker(...args) { return new (require('node:worker_threads').Worker)(...args); }",
      loader: 'js',
    }));
    // Any other package outside BUNDLED stays an import of node_modules.
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = args.path.startsWith('@')
        ? args.path.split('/').slice(0, 2).join('/')
        : args.path.split('/')[0];
      if (BUNDLED.has(name) || args.importer.includes('node_modules')) return undefined;
      // import() of a package (yaml, ccxt, node:crypto) becomes a require() made when the import()
      // runs: Node 20 loses a script's import() callback when the script comes from a code cache
      // ("A dynamic import callback was not specified"), and the callback is experimental anyway.
      if (args.kind === 'dynamic-import') return { path: args.path, namespace: 'required' };
      return { path: args.path, external: true };
    });
    b.onLoad({ filter: /.*/, namespace: 'required' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/**
 * For research.cjs: the command modules main.js imports, but RESEARCH's, are left out. Their stand-in's
 * register function says so if it is ever called (bin/rxtrade.js sends no other command there).
 */
const researchOnly = {
  name: 'research-only',
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\/[A-Za-z]+\.js$/ }, (args) => {
      const name = args.path.slice('./commands/'.length, -'.js'.length);
      if (!args.importer.endsWith(`cli${sep}main.js`) || RESEARCH.has(name)) return undefined;
      return { path: name, namespace: 'left-out' };
    });
    // An ES module with the one export main.js takes from a command's module (registerOkxSim for
    // okxSim.js): a CommonJS stand-in's keys would be copied at import, and a Proxy has none.
    b.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
      contents: `export function register${args.path[0].toUpperCase()}${args.path.slice(1)}() {
        throw new Error(${JSON.stringify(`rxtrade: research.cjs has no ${args.path} command (bin/rxtrade.js runs it from main.cjs)`)});
      }`,
      loader: 'js',
    }));
  },
};

await build({
  ...common,
  entryPoints: {
    main: 'dist/src/cli/main.js',
    optimizeWorker: 'dist/backtests/optimizeWorker.js',
    // bin/rxtrade.js starts an optimize's worker threads with it before the command's bundle loads.
    prestart: 'dist/backtests/prestart.js',
  },
  plugins: [packages],
});
await build({
  ...common,
  entryPoints: { research: 'dist/src/cli/main.js' },
  plugins: [researchOnly, packages],
});
