/** The backtest runner (the second composition root) and what it needs around it. */
export * from './runBacktest.js';
export * from './config.js';
export * from './sources.js';
export * from './report.js';
