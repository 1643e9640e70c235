/**
 * The trading core: risk, simulated fills, portfolio.
 *
 * Design — one book, one driver. Each stage is a plain synchronous class with O(1) work per candle when
 * nothing is pending (O(open positions + pending orders) otherwise) and no allocation per candle:
 *
 *   RiskManager      signal → Order | Denied            (reads the account from the PortfolioBook)
 *   SimulatedVenue   order, candle/trade → Fill | OrderCancelled   (also watches stop-loss/take-profit/trailing;
 *                    reads positions from the PortfolioBook and books its fills there)
 *   PortfolioBook    fill, mark → cash, positions, P&L, equity, RoundTrip
 *
 * `TradingEngine` holds the three over ONE PortfolioBook (no copy of a position anywhere else), and the
 * `tradeStrategy` operator (src/operators) drives it, per candle: fills and marks on price candles, then the
 * strategy's decision. Bots and the backtest runner both run that operator, so a backtest does what a bot
 * does. `snapshot()` / `TradingEngine.restore()` save and load the whole engine as JSON (EngineState).
 */
export * from './types.js';
export * from './config.js';
export { floorToStep } from './quantity.js';
export { PortfolioBook } from './portfolioBook.js';
export { RiskManager } from './riskManager.js';
export { SimulatedVenue } from './simulatedVenue.js';
export { Mulberry32, mulberry32 } from './random.js';
export {
  TradingEngine,
  CLOSED_AT_END,
  type TradingConfig,
  type TradingEngineOptions,
  type TradingListener,
} from './engine.js';
export { ENGINE_STATE_VERSION, parseEngineState, type EngineState } from './engineState.js';
