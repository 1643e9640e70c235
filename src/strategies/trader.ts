import type { Candle } from '../domain/candle.js';
import type { Indicator } from '../domain/indicators/indicator.js';
import { InvalidDataError } from '../domain/errors.js';
import type { Signal } from '../domain/signal.js';
import type { Timeframe } from '../domain/timeframe.js';
import type { TradingEngine } from '../domain/trading/engine.js';
import type { Fill, OrderCancelled, RiskDecision, RoundTrip } from '../domain/trading/types.js';
import { checkStrategy, StrategyRunner, type StrategyErrorEvent } from './runner.js';
import type { Strategy } from './strategy.js';
import type { IndicatorSpec } from '../operators/withIndicators.js';
import { iso } from '../domain/time.js';

export interface StrategyTraderOptions {
  /** Candles closing before this time only warm the indicators up (see TradeStrategyOptions). */
  readonly tradeFromMs?: number;
  /** Whose candles fill orders and mark the book (see TradeStrategyOptions). */
  readonly priceTimeframe?: Timeframe;
  /** The caller reads each hold at once and keeps nothing of it (see StrategyContext.scratchHolds). */
  readonly scratchHolds?: boolean;
  /** Main-timeframe indicator instances to use instead of fresh ones (see StrategyRunner). */
  readonly indicators?: Readonly<Record<string, Indicator<unknown>>>;
}

/**
 * A strategy driving a TradingEngine, one candle at a time: the synchronous core of `tradeStrategy` (its
 * doc has the rules), which the backtest runner also calls directly, in a plain loop, so a backtest runs
 * exactly what a bot runs without a stream layer and a step object per candle.
 *
 * After `onCandle(c)` returned true (the engine used the candle), `signal`, `decision` and
 * `strategyError` describe it, and `fills`, `cancellations` and `roundTrips` hold the events at its prices
 * (undefined when none): the caller takes those arrays and sets the fields back to undefined.
 * The engine is attached (one driver at a time) until `detach()`.
 */
export class StrategyTrader<S extends IndicatorSpec = IndicatorSpec> {
  signal: Signal | undefined = undefined;
  decision: RiskDecision | undefined = undefined;
  fills: Fill[] | undefined = undefined;
  cancellations: OrderCancelled[] | undefined = undefined;
  roundTrips: RoundTrip[] | undefined = undefined;
  readonly detach: () => void;
  private readonly runner: StrategyRunner<S>;
  private readonly fixedPriceTf: Timeframe | undefined;
  private priceTf: Timeframe;
  private readonly tradeFromMs: number;
  /** Candles up to this were used before (a restored engine): warm-up only. */
  private readonly resumedPricedMs: number;
  private readonly label: string;

  constructor(
    strategy: Strategy<S>,
    readonly engine: TradingEngine,
    options: StrategyTraderOptions = {},
  ) {
    checkStrategy(strategy);
    this.label = strategy.name;
    this.fixedPriceTf = options.priceTimeframe;
    this.priceTf = options.priceTimeframe ?? strategy.timeframe;
    this.tradeFromMs = options.tradeFromMs ?? Number.NEGATIVE_INFINITY;
    this.runner = new StrategyRunner(strategy, options.scratchHolds === true, options.indicators);
    this.resumedPricedMs = engine.pricedToMs;
    this.detach = engine.attach({
      fill: (f) => (this.fills ??= []).push(f),
      cancelled: (c) => (this.cancellations ??= []).push(c),
      roundTrip: (t) => (this.roundTrips ??= []).push(t),
    });
  }

  /** The strategy's failure on the last decision (undefined when there was none or it went well). */
  get strategyError(): StrategyErrorEvent | undefined {
    return this.signal === undefined ? undefined : this.runner.lastError;
  }

  /**
   * Takes one candle: true when the engine used it (filled or watched orders at its prices, or decided
   * on it). Throws InvalidDataError on out-of-order or duplicate candles and impossible data.
   */
  onCandle(c: Candle): boolean {
    if (!c.closed || c.revision > 0) return false;
    const eng = this.engine;
    const signal = this.runner.onCandle(c);
    const t = c.closeTimeMs;
    if (this.fixedPriceTf === undefined && c.timeframe === '1m') this.priceTf = '1m';
    let used = false;
    const trading = t >= this.tradeFromMs;
    if (c.timeframe === this.priceTf && trading) {
      if (t > eng.pricedToMs) {
        eng.onCandle(c);
        used = true;
      } else if (t > this.resumedPricedMs) {
        throw new InvalidDataError(
          `tradeStrategy(${this.label}): ${c.symbol} ${c.timeframe} candle closing at ${iso(t)} arrived after ` +
            `${iso(eng.pricedToMs)}: input must be in time order without duplicates`,
        );
      }
    }
    let decided: Signal | undefined;
    let decision: RiskDecision | undefined;
    if (signal !== undefined && trading && t > eng.decidedToMs) {
      decided = signal;
      decision = eng.onSignal(signal);
      used = true;
    }
    this.signal = decided;
    this.decision = decision;
    return used;
  }
}
