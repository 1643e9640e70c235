import { Observable, type OperatorFunction } from 'rxjs';
import type { Candle } from '../domain/candle.js';
import type { Signal } from '../domain/signal.js';
import type { Timeframe } from '../domain/timeframe.js';
import type { TradingEngine } from '../domain/trading/engine.js';
import type { EngineState } from '../domain/trading/engineState.js';
import type {
  Fill,
  OrderCancelled,
  PortfolioSnapshot,
  RiskDecision,
  RoundTrip,
} from '../domain/trading/types.js';
import { checkStrategy, type StrategyErrorEvent } from '../strategies/runner.js';
import { StrategyTrader, type StrategyTraderOptions } from '../strategies/trader.js';
import type { Strategy } from '../strategies/strategy.js';
import type { IndicatorSpec } from '../domain/indicators/spec.js';

/**
 * What one candle did to a bot: everything a bot writes (in one transaction) and publishes for it.
 * A step is emitted for each candle the engine used: a price candle (orders filled and exits watched at its
 * prices, the book marked at its close), a decision candle (the strategy's timeframe), or one that is both.
 */
export interface TradeStep<P extends PortfolioSnapshot | undefined = PortfolioSnapshot> {
  readonly candle: Candle;
  /** The strategy's decision on `candle`, holds included; undefined when `candle` is not one it decides on. */
  readonly signal: Signal | undefined;
  /** Set when the strategy failed on `candle` (the signal is then a hold saying `strategy error: …`). */
  readonly strategyError: StrategyErrorEvent | undefined;
  /** What the risk manager made of the signal: an order (it fills on a later candle) or a denial. */
  readonly decision: RiskDecision | undefined;
  /** Fills at `candle`'s prices, in order, each with its order id (exit-plan fills carry their entry's). */
  readonly fills: readonly Fill[];
  /** Orders cancelled at `candle`'s prices (expired, no position left, not enough cash). */
  readonly cancellations: readonly OrderCancelled[];
  /** Round trips those fills closed (a partial exit is one). */
  readonly roundTrips: readonly RoundTrip[];
  /** The account after the candle: cash, positions, equity, P&L, fees, trade counts (not with `portfolio: false`). */
  readonly portfolio: P;
  /** `engine.snapshot()` after the candle, with the `snapshots` option (undefined otherwise). */
  readonly engineState: EngineState | undefined;
}

export interface TradeStrategyOptions {
  /**
   * Candles closing before this time only warm the strategy's indicators up: no decision reaches the engine,
   * no step is emitted. Default: trade from the first candle. (Candles the engine has already used — a
   * restored engine's, up to its `pricedToMs` / `decidedToMs` — are warm-up too, whatever this says.)
   */
  readonly tradeFromMs?: number;
  /**
   * Whose candles fill orders, trigger exits and mark the book. Default: 1m candles once the stream has
   * carried one, the strategy's own timeframe before that (a file of daily candles).
   */
  readonly priceTimeframe?: Timeframe;
  /** Put `engine.snapshot()` on every step (what a bot saves to resume from). Default false. */
  readonly snapshots?: boolean;
  /**
   * Put the account (`engine.book.snapshot`) on every step. Default true. The backtest runner turns it off
   * and reads the one number it needs from the book: every number in a new object is a heap allocation, and
   * on a 1m backtest that cost about a fifth of its speed. What is traded is the same either way.
   */
  readonly portfolio?: boolean;
}

const NONE: readonly never[] = Object.freeze([]);

/**
 * Trades a strategy: the one driver of a TradingEngine, live and in backtests alike, so a backtest runs
 * exactly what a bot runs.
 *
 * <span class="informal">Closed candles in (every timeframe the strategy needs, and 1m candles for the
 * prices), one step out per candle the engine used. The strategy decides on each candle of its timeframe
 * (runStrategy's rules: StrategyRunner is shared); the decision goes to the engine's risk manager, and the
 * resulting order fills at the first price after the decision — the open of the next 1m candle, or of the
 * next candle of the strategy's timeframe when the stream has no 1m candles. Stops and take-profits are
 * watched on the same price candles' ranges.</span>
 *
 * ```
 * candles (15m strategy):  -a-b-c-Q-d-|     a…d 1m candles; Q the 15m candle closing with c
 * tradeStrategy(s, e):     -A-B-C-D-E-|     A, B, C, E price steps (fills at their open, exits, mark);
 *                                           D the decision on Q (signal, order or denial)
 * ```
 *
 * - Per candle, in this order: the strategy's indicators take it; if it is a price candle, orders pending
 *   from earlier decisions fill at its prices and the book is marked at its close; if it is a decision
 *   candle, the strategy decides and the engine turns the signal into an order or a denial. For a 15m
 *   strategy an order decided at 10:15 fills at the open of the 1m candle 10:15–10:16.
 * - `engine`: an engine, or a factory called once per subscription. An engine is driven by one
 *   subscription at a time (a second errors); subscribing again later goes on with its state.
 * - Resuming: a restored engine (TradingEngine.restore) skips the candles it had already used — feed the
 *   candles from before its snapshot too, they warm the indicators up silently — and trades on from
 *   there; `tradeFromMs` does the same for a fresh engine (warm-up on history, then trade).
 * - A strategy that throws: a hold, `strategyError` on the step, the stream goes on. Out-of-order or
 *   duplicate candles, a second symbol, impossible fills: the stream errors (InvalidDataError).
 * - Forming (`closed: false`) and revised (`revision` > 0) candles are ignored: what was decided or filled
 *   on a candle is never rewritten.
 *
 * ```ts
 * const engine = TradingEngine.restore(saved, { risk, venue });     // or new TradingEngine({ …, initialCash })
 * candles$.pipe(tradeStrategy(strategy, engine, { snapshots: true })).subscribe((step) => persist(step));
 * ```
 *
 * @see runStrategy
 * @see TradingEngine
 */
export function tradeStrategy<S extends IndicatorSpec>(
  strategy: Strategy<S>,
  engine: TradingEngine | (() => TradingEngine),
  options?: TradeStrategyOptions & { readonly portfolio?: true },
): OperatorFunction<Candle, TradeStep>;
export function tradeStrategy<S extends IndicatorSpec>(
  strategy: Strategy<S>,
  engine: TradingEngine | (() => TradingEngine),
  options: TradeStrategyOptions & { readonly portfolio: false },
): OperatorFunction<Candle, TradeStep<undefined>>;
export function tradeStrategy<S extends IndicatorSpec>(
  strategy: Strategy<S>,
  engine: TradingEngine | (() => TradingEngine),
  options: TradeStrategyOptions = {},
): OperatorFunction<Candle, TradeStep<PortfolioSnapshot | undefined>> {
  checkStrategy(strategy);
  const snapshots = options.snapshots === true;
  const withPortfolio = options.portfolio !== false;
  const traderOptions: StrategyTraderOptions = {
    ...(options.tradeFromMs !== undefined ? { tradeFromMs: options.tradeFromMs } : {}),
    ...(options.priceTimeframe !== undefined ? { priceTimeframe: options.priceTimeframe } : {}),
  };

  return (source) =>
    new Observable<TradeStep<PortfolioSnapshot | undefined>>((subscriber) => {
      let trader: StrategyTrader<S>;
      try {
        trader = new StrategyTrader(
          strategy,
          typeof engine === 'function' ? engine() : engine,
          traderOptions,
        );
      } catch (err) {
        subscriber.error(err);
        return;
      }
      const eng = trader.engine;
      const subscription = source.subscribe({
        next: (c) => {
          let step: TradeStep<PortfolioSnapshot | undefined>;
          try {
            if (!trader.onCandle(c)) return;
            step = {
              candle: c,
              signal: trader.signal,
              strategyError: trader.strategyError,
              decision: trader.decision,
              fills: trader.fills ?? NONE,
              cancellations: trader.cancellations ?? NONE,
              roundTrips: trader.roundTrips ?? NONE,
              portfolio: withPortfolio ? eng.book.snapshot(c.closeTimeMs, c.symbol, c.close) : undefined,
              engineState: snapshots ? eng.snapshot() : undefined,
            };
            trader.fills = undefined;
            trader.cancellations = undefined;
            trader.roundTrips = undefined;
          } catch (err) {
            subscriber.error(err);
            return;
          }
          subscriber.next(step);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        subscription.unsubscribe();
        trader.detach();
      };
    });
}
