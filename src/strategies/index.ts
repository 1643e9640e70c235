/** Strategies: the framework (strategy.ts, runner.ts), the registry, config files, and the six built-in ones. */
export * from './strategy.js';
export { StrategyRunner, checkStrategy, type StrategyErrorEvent } from './runner.js';
export * from './registry.js';
export * from './config.js';
export { bollingerBreakout, type BollingerBreakoutParams } from './bollingerBreakout.js';
export { emaCrossover, type EmaCrossoverParams } from './emaCrossover.js';
export { macdTrend, type MacdTrendParams } from './macdTrend.js';
export { momentum, type MomentumParams } from './momentum.js';
export { rsiReversion, type RsiReversionParams } from './rsiReversion.js';
export { smaCross, type SmaCrossParams } from './smaCross.js';
