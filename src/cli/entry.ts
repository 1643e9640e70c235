/**
 * What bin/rxtrade.js takes from the bundled command (dist/bundle/main.cjs, scripts/bundle.mjs): the CLI,
 * and the start of an optimize's worker threads, which it calls before the command runs (in one bundle
 * with the command, so the pool the command starts adopts the workers prestarted here).
 */
export * from './main.js';
export { prestartOptimize, prestartWorkers, prestartedCount } from '../../backtests/prestart.js';
