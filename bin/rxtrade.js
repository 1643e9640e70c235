#!/usr/bin/env node
// The rxtrade command. The TypeScript is compiled to dist/ by `npm run build` (run by `npm ci` via prepare),
// then bundled into dist/bundle (scripts/bundle.mjs): a command loads one file instead of hundreds of
// modules.
//
// This file is CommonJS (bin/package.json): an ES module entry makes Node load and run its ES module loader
// before our first line (11–14 ms a process here, `node` on an empty .mjs against an empty .cjs), and
// nothing after it needs that loader: the bundles are CommonJS too.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { setFlagsFromString } = require('node:v8');

// `backtest` may build data that lives to its end (a year of 1m candles is ~70 k objects, when the
// strategy decides on another timeframe than the file's or the candles come from the database): with V8's
// young generation kept at its first size, they are promoted after one copy instead of being copied
// through ever larger semi-spaces, and the process touches about a quarter less memory (fewer page faults,
// less GC). Only for this batch command: servers (`start`) keep V8's defaults.
if (process.argv[2] === 'backtest') setFlagsFromString('--semi-space-growth-factor=1');

// `optimize` is short and runs the same engine code in every thread, each compiling it for itself: V8's
// optimizing compiler was the largest part of a search's CPU (22 % of ~1.45 s, perf, the issue's
// 90-combination grid on 2 cores; its jobs 0.8–0.9 s end to end). Without inlining they take about half
// as long, and the runs, once compiled, are as fast (warm searches alike within the noise): the whole
// command ~10 % faster here (0.75 → 0.66 s), the same or faster on rsi, macd, 5m and walk-forward grids.
// Read by each compilation, so it holds for everything compiled after this line, here and in the workers.
// `backtest` too: a single run is over before inlined code pays back its compiling, and the compiler's
// memory is fresh pages (a page fault costs ~11 µs on this machine): a 71 k-candle `backtest --json`
// 8900 → 8200 page faults, 325 → 307 ms (15 interleaved runs each), the same output.
if (process.argv[2] === 'optimize' || process.argv[2] === 'backtest') {
  setFlagsFromString('--no-turbo-inlining');
}

// The bundled command (dist/bundle/main.cjs: one file, every function this command ran the last time
// taken from the code cache, bin/load-bundle.cjs); without the bundle (a bare `tsc`), the compiled modules
// as they are.
const bundled = (name) => join(__dirname, '..', 'dist', 'bundle', `${name}.cjs`);
/** The commands of dist/bundle/research.cjs (RESEARCH in scripts/bundle.mjs). */
const RESEARCH = new Set(['backtest', 'optimize', 'compare']);
const command = process.argv[2] ?? '';

async function run() {
  let cli;
  const savers = [];
  if (existsSync(bundled('main'))) {
    const { loadBundle } = require('./load-bundle.cjs');
    // `optimize` starts its worker threads first, from a bundle of their own: they load their code while
    // the command loads its own (~20 ms sooner than after it) and reads the candles.
    if (command === 'optimize') {
      const prestart = loadBundle(bundled('prestart'), 'prestart');
      prestart.exports.prestartOptimize(process.argv.slice(3));
      savers.push(prestart.saveCodeCache);
    }
    // backtest, optimize and compare run from research.cjs, the CLI with those commands only (about half
    // of main.cjs to read, a fifth less code cache to load: scripts/bundle.mjs).
    const file = RESEARCH.has(command) && existsSync(bundled('research')) ? 'research' : 'main';
    const loaded = loadBundle(bundled(file), /^[a-z][a-z-]{0,19}$/.test(command) ? command : 'main');
    cli = loaded.exports;
    savers.push(loaded.saveCodeCache);
  } else {
    try {
      cli = await import('../dist/src/cli/main.js');
    } catch (err) {
      if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli/main.js')) {
        process.stderr.write(
          'rxtrade: not built yet: run `npm run build` in the rxtrade folder (npm ci does it)\n',
        );
        process.exit(1);
      }
      throw err;
    }
  }

  // A closed pipe (`rxtrade candles … | head`) is not an error.
  process.stdout.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });

  // Ctrl-C / SIGTERM: the first asks the command to stop (it has 2 s: src/cli/interrupt.ts); a second one,
  // or those 2 s passing, ends the process at once. The deadline timer is unref'd: it never keeps us alive.
  const STOP_DEADLINE_MS = cli.STOP_DEADLINE_MS;
  let signalled = false;
  const interrupted = new Promise((resolve) => {
    const onSignal = (signal) => {
      if (signalled) {
        process.stderr.write(`rxtrade: ${signal} again: exiting now\n`);
        process.exit(130);
      }
      signalled = true;
      resolve();
      setTimeout(() => {
        const left = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
        process.stderr.write(
          `rxtrade: still busy ${STOP_DEADLINE_MS} ms after ${signal} (${left.join(', ') || 'work in progress'}): exiting now\n`,
        );
        process.exit(130);
      }, STOP_DEADLINE_MS).unref();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  const code = await cli.main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    interactive: Boolean(process.stderr.isTTY),
    interrupted,
  });
  // Stopped before it finished (130): whatever still runs was abandoned on purpose (a connect cut short, a
  // computation dropped); do not wait for it.
  if (code === cli.EXIT_INTERRUPTED) process.exit(code);
  // A command that did its work leaves the code cache for its next run, when there was none to use (a
  // failed one may have stopped before most of its code ran). Not after Ctrl-C or SIGTERM: a stop owes the
  // user speed, not a cache (`start`, `collect` and the simulator, which run until stopped, keep none).
  if (code === 0 && !signalled) for (const save of savers) save();
  process.exitCode = code;
  // A research command is done when it returns: its output was written (each write awaited), its files
  // closed. Ending the process here spares Node's teardown of the heap and the worker threads (a 71 k-candle
  // backtest: 284 -> 279 ms, 15 interleaved runs each); not while anything is still buffered for stdout
  // or stderr (an asynchronous pipe elsewhere than on Linux), which the usual exit waits for.
  if (RESEARCH.has(command) && flushed(process.stdout) && flushed(process.stderr)) process.exit(code);
}

/** Nothing left to write on `stream`, in Node's buffer or in libuv's queue. */
function flushed(stream) {
  return stream.writableLength === 0 && (stream._handle?.writeQueueSize ?? 0) === 0;
}

run();
