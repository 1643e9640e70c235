import type { Candle } from '../candle.js';
import type { Signal } from '../signal.js';
import type { Timeframe } from '../timeframe.js';
import type { Trade } from '../trade.js';
import { InvalidDataError } from '../errors.js';
import { takerFeeRate, type RiskConfig, type VenueModel } from './config.js';
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

export interface TradingEngineOptions {
  readonly risk: RiskConfig;
  readonly venue: VenueModel;
  readonly initialCash: number;
  /** When set, only candles of this timeframe drive fills and marks. */
  readonly timeframe?: Timeframe;
  readonly listener?: TradingListener;
}

/**
 * Risk → fills → portfolio in one synchronous object, for tight loops (the backtest runner): one
 * PortfolioBook shared by the risk manager and the account, no streams, no per-candle allocation.
 * It runs exactly the cores the `applyRisk`, `simulateFills` and `portfolio` operators wrap, in the order
 * the operators see events: per candle, call `onCandle(candle)` first (fills at its prices, then the mark at
 * its close), then `onSignal(signal)` for what the strategy decided on it.
 *
 * ```ts
 * const engine = new TradingEngine({ risk, venue, initialCash: 10_000, listener: { roundTrip: (t) => trades.push(t) } });
 * for (const c of candles) {
 *   engine.onCandle(c);
 *   const s = strategy.onCandle(c);
 *   if (s) engine.onSignal(s);
 *   metrics.onCandle(c.closeTimeMs, engine.book.equity, engine.book.openCount > 0, c.close);
 * }
 * ```
 */
export class TradingEngine {
  readonly book: PortfolioBook;
  readonly risk: RiskManager;
  readonly venue: SimulatedVenue;
  private readonly timeframe: Timeframe | undefined;
  private readonly listener: TradingListener;
  private readonly takerFee: number;
  private ended = false;

  constructor(options: TradingEngineOptions) {
    this.takerFee = takerFeeRate(options.venue);
    this.book = new PortfolioBook(options.initialCash);
    this.risk = new RiskManager(options.risk, options.venue, this.book);
    this.venue = new SimulatedVenue(options.venue, (e) => this.onVenueEvent(e), options.timeframe);
    this.timeframe = options.timeframe;
    this.listener = options.listener ?? {};
  }

  onCandle(c: Candle): void {
    if (this.ended) throw endedError();
    if (!c.closed || (this.timeframe !== undefined && c.timeframe !== this.timeframe)) return;
    this.venue.onCandle(c);
    this.book.mark(c.symbol, c.close, c.closeTimeMs);
  }

  onTrade(t: Trade): void {
    if (this.ended) throw endedError();
    this.venue.onTrade(t);
    this.book.mark(t.symbol, t.price, t.tsMs);
  }

  onSignal(s: Signal): RiskDecision | undefined {
    if (this.ended) throw endedError();
    const d = this.risk.onSignal(s);
    if (d === undefined) return d;
    if (d.kind === 'order') {
      this.venue.submit(d);
      this.listener.order?.(d);
    } else {
      this.listener.denied?.(d);
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
      this.onVenueEvent(fill);
    }
    return fills;
  }

  private onVenueEvent(e: VenueEvent): void {
    if (e.kind === 'fill') {
      const trip = this.book.applyFill(e);
      this.risk.onFill(e);
      this.listener.fill?.(e);
      if (trip !== undefined) this.listener.roundTrip?.(trip);
    } else {
      this.risk.onCancelled(e);
      this.listener.cancelled?.(e);
    }
  }
}

/** The `reason` of the fills `closeAll` makes. */
export const CLOSED_AT_END = 'closed at end';

function endedError(): InvalidDataError {
  return new InvalidDataError('TradingEngine: the run was ended by closeAll(); start a new engine');
}
