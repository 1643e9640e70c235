import { packageRoot } from '../src/cli/packageRoot.js';
import { benchCandles } from './candles.js';
import { benchCollectorLatency } from './collector.js';
import { benchIndicators } from './indicators.js';
import { describeMachine } from './machine.js';
import { benchOkx, benchOkxLatency } from './okx.js';
import { benchImport } from './storage.js';

/** `npm run bench`: throughput of each part of the pipeline, medians of several runs, and the machine. */
async function main(): Promise<void> {
  console.log(`machine: ${describeMachine()}`);
  for (const line of await benchCandles(packageRoot())) console.log(line);
  for (const line of benchIndicators()) console.log(line);
  for (const line of await (await import('./strategies.js')).benchStrategies()) console.log(line);
  for (const line of await (await import('./backtest.js')).benchBacktest()) console.log(line);
  for (const line of await benchOkx(packageRoot())) console.log(line);
  for (const line of await benchOkxLatency()) console.log(line);
  for (const line of await benchImport()) console.log(line);
  for (const line of await benchCollectorLatency()) console.log(line);
}

await main();
