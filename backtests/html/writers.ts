/** The report writers of backtest, optimize and compare (loaded through backtests/index's loadReportWriters). */
export { writeBacktestReport } from './backtestReport.js';
export { writeCompareReport } from './compareReport.js';
export { writeOptimizeReport } from './optimizeReport.js';
