import { initial } from './001_initial.js';
import { rawTradesUnique } from './002_raw_trades_unique.js';
import { unconstrainedNumeric } from './003_unconstrained_numeric.js';
import { candleSource } from './004_candle_source.js';
import { bots } from './005_bots.js';
import { backtestRuns } from './006_backtest_runs.js';
import { scanner } from './007_scanner.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

/** Every migration, in the order they apply. Append new ones here. */
export const MIGRATIONS: readonly Migration[] = [
  initial,
  rawTradesUnique,
  unconstrainedNumeric,
  candleSource,
  bots,
  backtestRuns,
  scanner,
];
