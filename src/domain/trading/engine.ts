import type { Candle } from '../candle.js';
import { InvalidDataError, UsageError } from '../errors.js';
import type { Signal } from '../signal.js';
import type { Trade } from '../trade.js';
import { takerFeeRate, type RiskConfig, type VenueModel } from './config.js';
import { ENGINE_STATE_VERSION, parseEngineState, type EngineState } from './engineState.js';
import { PortfolioBook } from './portfolioBook.js';
import { RiskManager } from './riskManager.js';
import { SimulatedVenue } from './simulatedVenue.js';
import type { Denied, Fill, Order, OrderCancelled, RiskDecision, RoundTrip, VenueEvent } from './types.js';

/** Callbacks for what the engine does; all optional. Called synchronously, in event order. */
export interface TradingListener {
  order?(o: Order): void;
  denied?(d: Denied): void;
  fill?(f: Fill): void;
  cancelled?(c: OrderCancelled): void;
  roundTrip?(t: RoundTrip): void;
}

/** The configuration an engine runs on (not part of its saved state: a restore may change it). */
export interface TradingConfig {
  readonly risk: RiskConfig;
  readonly venue: VenueModel;
  readonly listener?: TradingListener;
}

export interface TradingEngineOptions extends TradingConfig {
  readonly initialCash: number;
}

/**
 * One bot's trading: risk → fills → portfolio in one synchronous object over ONE PortfolioBook, which the
 * risk manager reads (sizing, pre-trade checks) and the simulated venue reads (what a position holds) and
 * books every fill into. No streams, no per-candle allocation. The `tradeStrategy` operator drives it, live
 * and in backtests alike; per candle, in this order:
 * - `onCandle(candle)` for a candle whose prices fill orders (the next 1m candle after a decision, or
 *   the strategy's own candles when there are no 1m ones): pending orders fill at its prices, exits are
 *   watched on its range, then the book is marked at its close;
 * - `onSignal(signal)` for what the strategy decided on a candle of its timeframe: an order (it fills on
 *   a later candle, never on the one decided on) or a denial.
 *
 * ```ts
 * const engine = new TradingEngine({ risk, venue, initialCash: 10_000, listener: { roundTrip: (t) => trades.push(t) } });
 * for (const c of candles) {
 *   engine.onCandle(c);
 *   engine.onSignal(strategy.decide(c));
 * }
 * const saved = JSON.stringify(engine.snapshot());
 * const again = TradingEngine.restore(JSON.parse(saved), { risk, venue }); // goes on exactly as `engine` would
 * ```
 *
 * `snapshot()` / `restore()` save and load everything the engine holds (see EngineState): a restored engine
 * gives the same fills, prices (the slippage generator included) and equity as one that never stopped.
 * The strategy's indicators are not in it: whoever drives the engine warms them up again on the candles
 * before the snapshot (`tradeStrategy` does so on the candles closing at or before `pricedToMs` /
 * `decidedToMs`, without trading on them).
 */
export class TradingEngine {
  readonly book: PortfolioBook;
  readonly risk: RiskManager;
  readonly venue: SimulatedVenue;
  /** Close time of the last candle passed to `onCandle` (−∞: none yet). */
  pricedToMs = Number.NEGATIVE_INFINITY;
  /** Close time of the last candle decided on, holds included (−∞: none yet). */
  decidedToMs = Number.NEGATIVE_INFINITY;
  private readonly listener: TradingListener;
  /** The one driver that also hears every event (see attach). */
  private driver: TradingListener | undefined;
  private readonly takerFee: number;
  private ended = false;

  /** A fresh engine; `TradingEngine.restore` makes one from a snapshot. */
  constructor(options: TradingEngineOptions);
  /** @internal restore()'s way in, with a state parseEngineState has checked. */
  constructor(options: TradingConfig, state: EngineState);
  constructor(options: TradingEngineOptions | TradingConfig, state?: EngineState) {
    this.takerFee = takerFeeRate(options.venue);
    this.listener = options.listener ?? {};
    const onVenue = (e: VenueEvent, trip: RoundTrip | undefined): void => this.onVenueEvent(e, trip);
    if (state === undefined) {
      this.book = new PortfolioBook((options as TradingEngineOptions).initialCash);
      this.risk = new RiskManager(options.risk, options.venue, this.book);
      this.venue = new SimulatedVenue(options.venue, this.book, onVenue);
    } else {
      this.book = PortfolioBook.fromState(state.book);
      this.risk = RiskManager.fromState(state.risk, options.risk, options.venue, this.book);
      this.venue = SimulatedVenue.fromState(state.venue, options.venue, this.book, onVenue);
      this.pricedToMs = state.pricedToMs ?? Number.NEGATIVE_INFINITY;
      this.decidedToMs = state.decidedToMs ?? Number.NEGATIVE_INFINITY;
    }
  }

  /**
   * An engine in the state a snapshot saved, on this configuration (risk, fees and slippage model may differ
   * from the ones it was saved under; see SimulatedVenue.fromState for the slippage generator). `state` is
   * checked first (InvalidDataError naming the bad key).
   */
  static restore(state: unknown, config: TradingConfig): TradingEngine {
    return new TradingEngine(config, parseEngineState(state));
  }

  /** Everything the engine holds, as plain JSON (see EngineState). Throws once the run was ended. */
  snapshot(): EngineState {
    if (this.ended) throw endedError();
    return {
      v: ENGINE_STATE_VERSION,
      pricedToMs: Number.isFinite(this.pricedToMs) ? this.pricedToMs : null,
      decidedToMs: Number.isFinite(this.decidedToMs) ? this.decidedToMs : null,
      book: this.book.toState(),
      risk: this.risk.toState(),
      venue: this.venue.toState(),
    };
  }

  /**
   * Makes `driver` hear every event too, until the returned function is called. One driver at a time:
   * two pipelines driving one book would each trade on the other's positions.
   */
  attach(driver: TradingListener): () => void {
    if (this.driver !== undefined) {
      throw new UsageError(
        'TradingEngine: this engine is already driven by another pipeline; give each one its own engine',
      );
    }
    this.driver = driver;
    return () => this.detach(driver);
  }

  /** Stops `driver` hearing the events (what attach's returned function does). */
  detach(driver: TradingListener): void {
    if (this.driver === driver) this.driver = undefined;
  }

  /** A closed candle whose prices fill orders and trigger exits; then the book is marked at its close. */
  onCandle(c: Candle): void {
    if (this.ended) throw endedError();
    if (!c.closed) return;
    this.venue.onCandle(c);
    this.book.mark(c.symbol, c.close, c.closeTimeMs);
    if (c.closeTimeMs > this.pricedToMs) this.pricedToMs = c.closeTimeMs;
  }

  /**
   * onCandle for a closed candle given by its prices, without a Candle object (a backtest on candle
   * columns): `openMs` and `closeMs` are its open and close times.
   */
  onBar(
    symbol: string,
    openMs: number,
    closeMs: number,
    open: number,
    high: number,
    low: number,
    close: number,
  ): void {
    if (this.ended) throw endedError();
    this.venue.onBar(symbol, openMs, open, high, low);
    this.book.mark(symbol, close, closeMs);
    if (closeMs > this.pricedToMs) this.pricedToMs = closeMs;
  }

  /** A hold decided on the candle closing at `closeMs`: what onSignal does with one, without the Signal. */
  onHold(closeMs: number): void {
    if (this.ended) throw endedError();
    if (closeMs > this.decidedToMs) this.decidedToMs = closeMs;
  }

  onTrade(t: Trade): void {
    if (this.ended) throw endedError();
    this.venue.onTrade(t);
    this.book.mark(t.symbol, t.price, t.tsMs);
  }

  /** A decision (holds included): the order or denial it gave, if any. */
  onSignal(s: Signal): RiskDecision | undefined {
    if (this.ended) throw endedError();
    if (s.closeTimeMs > this.decidedToMs) this.decidedToMs = s.closeTimeMs;
    if (s.action === 'hold') return undefined;
    const d = this.risk.onSignal(s);
    if (d === undefined) return d;
    if (d.kind === 'order') {
      this.venue.submit(d);
      this.listener.order?.(d);
      this.driver?.order?.(d);
    } else {
      this.listener.denied?.(d);
      this.driver?.denied?.(d);
    }
    return d;
  }

  /**
   * Ends the run: closes every open position at `price` (default: its last mark — a backtest's last close)
   * with one taker fill stamped `timeMs` (fee as on any taker fill, no slippage: it is a valuation at that
   * price, not an order), reported like any fill and round trip (`purpose: 'exit'`, `orderId: 0`,
   * `reason: 'closed at end'`). Pending orders and exit plans are dropped with the run, so the engine takes
   * no candle, trade or signal afterwards (they throw). Returns the fills (none when flat).
   */
  closeAll(timeMs: number, price?: number): Fill[] {
    if (this.ended) throw endedError();
    this.ended = true;
    const fills: Fill[] = [];
    for (const p of [...this.book.positions]) {
      const px = price ?? this.book.lastPriceOf(p.symbol);
      const fill: Fill = {
        kind: 'fill',
        orderId: 0,
        symbol: p.symbol,
        side: p.side === 'long' ? 'sell' : 'buy',
        qty: p.qty,
        price: px,
        fee: p.qty * px * this.takerFee,
        liquidity: 'taker',
        timeMs,
        purpose: 'exit',
        reason: CLOSED_AT_END,
      };
      fills.push(fill);
      this.onVenueEvent(fill, this.book.applyFill(fill));
    }
    return fills;
  }

  private onVenueEvent(e: VenueEvent, trip: RoundTrip | undefined): void {
    if (e.kind === 'fill') {
      this.risk.onFill(e);
      this.listener.fill?.(e);
      this.driver?.fill?.(e);
      if (trip !== undefined) {
        this.listener.roundTrip?.(trip);
        this.driver?.roundTrip?.(trip);
      }
    } else {
      this.risk.onCancelled(e);
      this.listener.cancelled?.(e);
      this.driver?.cancelled?.(e);
    }
  }
}

/** The `reason` of the fills `closeAll` makes. */
export const CLOSED_AT_END = 'closed at end';

function endedError(): InvalidDataError {
  return new InvalidDataError('TradingEngine: the run was ended by closeAll(); start a new engine');
}
