// Bundles the CLI (and the optimize worker) into dist/bundle with esbuild: one file per command plus
// shared chunks, so a command loads a handful of files instead of hundreds of modules (rxjs alone is ~300
// CommonJS files). rxjs is taken from its ES module build, so only the operators used are kept. Only the
// small pure-JavaScript packages every command needs are bundled; the others (database drivers, PGlite and
// its wasm, Redis, the HTTP server) stay packages, loaded from node_modules when a command imports them.
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

// Chunk names carry a content hash: a build into a folder left by the last one would keep its stale chunks.
await rm(join(root, 'dist', 'bundle'), { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: {
    main: 'dist/src/cli/main.js',
    optimizeWorker: 'dist/backtests/optimizeWorker.js',
    // bin/rxtrade.js starts an optimize's worker threads with it before the command's code loads.
    prestart: 'dist/backtests/prestart.js',
  },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: 'dist/bundle',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  // Less text to parse when a command (and each optimize worker thread) starts: about a tenth of the
  // worker's module loading. Names are kept (no identifier minification): stacks stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  // CommonJS dependencies inside an ES module bundle still call require().
  banner: {
    js: "import { createRequire as __rxtradeRequire } from 'node:module'; const require = __rxtradeRequire(import.meta.url);",
  },
  plugins: [
    {
      name: 'rxjs-esm',
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
        // Any other package outside BUNDLED stays an import of node_modules.
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          const name = args.path.startsWith('@')
            ? args.path.split('/').slice(0, 2).join('/')
            : args.path.split('/')[0];
          if (BUNDLED.has(name) || args.importer.includes('node_modules')) return undefined;
          return { path: args.path, external: true };
        });
      },
    },
  ],
});
