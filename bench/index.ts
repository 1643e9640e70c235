import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../src/cli/packageRoot.js';
import { describeMachine } from './machine.js';

/**
 * The bench groups, each run in a fresh Node process: a group's figures then do not depend on what ran
 * before it in the same process (JIT feedback and garbage left by earlier groups cost the backtest up to
 * a third of its throughput when everything shared one process).
 */
const GROUPS: Readonly<Record<string, () => Promise<readonly string[]>>> = {
  candles: async () => (await import('./candles.js')).benchCandles(packageRoot()),
  indicators: async () => (await import('./indicators.js')).benchIndicators(),
  strategies: async () => (await import('./strategies.js')).benchStrategies(),
  backtest: async () => (await import('./backtest.js')).benchBacktest(),
  okx: async () => {
    const okx = await import('./okx.js');
    return [...(await okx.benchOkx(packageRoot())), ...(await okx.benchOkxLatency())];
  },
  storage: async () => (await import('./storage.js')).benchImport(),
  collector: async () => (await import('./collector.js')).benchCollectorLatency(),
  'bots-store': async () => (await import('./botsStore.js')).benchBotsStore(),
  api: async () => (await import('./api.js')).benchApi(),
  bots: async () => (await import('./bots.js')).benchBots(),
  optimize: async () => (await import('./optimize.js')).benchOptimize(),
  'backtest-cli': async () => (await import('./backtestCli.js')).benchBacktestCli(),
  scan: async () => (await import('./scan.js')).benchScan(),
};

/**
 * `npm run bench [-- group...]`: throughput and latency of each part of the pipeline, medians of several
 * runs, and the machine. Groups: candles, indicators, strategies, backtest, okx, storage, collector,
 * bots-store, api, bots, optimize, backtest-cli, scan.
 */
async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--group') {
    const run = GROUPS[rest[0] ?? ''];
    if (run === undefined) throw new Error(`unknown bench group ${rest[0]}`);
    for (const line of await run()) console.log(line);
    return 0;
  }
  const wanted = argv.length > 0 ? argv : Object.keys(GROUPS);
  const unknown = wanted.filter((g) => !(g in GROUPS));
  if (unknown.length > 0) {
    console.error(`unknown bench group(s): ${unknown.join(', ')} (known: ${Object.keys(GROUPS).join(', ')})`);
    return 1;
  }
  console.log(`machine: ${describeMachine()}`);
  let status = 0;
  for (const group of wanted) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--group', group], {
      stdio: 'inherit',
    });
    if (child.status !== 0) status = 1;
  }
  return status;
}

process.exitCode = await main(process.argv.slice(2));
