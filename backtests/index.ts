/**
 * The backtest runner (the second composition root) and what it needs around it: the entry through which
 * src/ (the CLI and the API) reaches backtests/. `rxtrade backtest` (src/cli/commands/backtest.ts, and the
 * JSON writer it uses) imports the modules it uses instead: the bundle loads every chunk a command's imports
 * reach, so through here a single backtest would load the optimizer's worker pool (node:worker_threads).
 */
export * from './runBacktest.js';
export * from './config.js';
export * from './sources.js';
export * from './report.js';
export * from './grid.js';
export * from './optimize.js';
export * from './workerPool.js';
export * from './walkForward.js';
export type { OptimizeReportInput } from './html/optimizeReport.js';
export { compareRuns, DEFAULT_SEED, type CompareResult } from './compare/compareRuns.js';
export { compareJson, compareText } from './compare/format.js';
export * from './compare/runSpecs.js';

export { loadReportWriters } from './reportWriters.js';
