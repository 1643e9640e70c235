import type * as ReportWritersModule from './html/writers.js';

/**
 * The backtest runner (the second composition root) and what it needs around it: the one entry through
 * which src/ (the CLI and the API) reaches backtests/.
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

type ReportWriters = typeof ReportWritersModule;

/** The HTML report writers, loaded only when a report is asked for (vega and arquero are large). */
export const loadReportWriters = (): Promise<ReportWriters> => import('./html/writers.js');
