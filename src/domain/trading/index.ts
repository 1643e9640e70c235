/**
 * The trading core: risk, simulated fills, portfolio.
 *
 * Design — one code path, two drivers. Each stage is a plain synchronous class with O(1) work per candle
 * when nothing is pending (O(open positions + pending orders) otherwise) and no allocation per candle:
 *
 *   RiskManager      signal → Order | Denied            (reads the account from a PortfolioBook)
 *   SimulatedVenue   order, candle/trade → Fill | OrderCancelled   (also watches stop-loss/take-profit/trailing)
 *   PortfolioBook    fill, mark → cash, positions, P&L, equity, RoundTrip
 *
 * - Live (and marble tests): the operators `applyRisk`, `simulateFills` and `portfolio` (src/operators) each
 *   wrap one of them. Fills go back to `applyRisk` (it needs the account): the composition root feeds the
 *   venue's events back through a Subject; since they are emitted synchronously while candle t is being
 *   handled, they reach `applyRisk` before the strategy's signal on candle t. See test/trading/wiring.test.ts.
 * - Backtest: `TradingEngine` holds the three with ONE shared PortfolioBook and is driven in a tight loop
 *   (`onCandle`, `onSignal`), with results through callbacks; metrics come from `MetricsAccumulator`
 *   (src/domain/metrics.ts), fed one equity value per candle.
 * Both run the same methods in the same order, so they produce the same orders, fills and trades.
 */
export * from './types.js';
export * from './config.js';
export { floorToStep } from './quantity.js';
export { PortfolioBook } from './portfolioBook.js';
export { RiskManager } from './riskManager.js';
export { SimulatedVenue, mulberry32 } from './simulatedVenue.js';
export { TradingEngine, type TradingEngineOptions, type TradingListener } from './engine.js';
