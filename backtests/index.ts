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
export * from './walkForward.js';
