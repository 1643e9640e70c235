import { packageRoot } from '../src/cli/packageRoot.js';
import { benchCandles } from './candles.js';
import { describeMachine } from './machine.js';
import { benchOkx, benchOkxLatency } from './okx.js';

/** `npm run bench`: throughput of each part of the pipeline, medians of several runs, and the machine. */
async function main(): Promise<void> {
  console.log(`machine: ${describeMachine()}`);
  for (const line of await benchCandles(packageRoot())) console.log(line);
  for (const line of await benchOkx(packageRoot())) console.log(line);
  for (const line of await benchOkxLatency()) console.log(line);
}

await main();
