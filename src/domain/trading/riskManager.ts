import type { Signal } from '../signal.js';
import { exitPlanOf, takerFeeRate, worstSlippageBps, type RiskConfig, type VenueModel } from './config.js';
import type { RiskState } from './engineState.js';
import type { PortfolioBook } from './portfolioBook.js';
import { floorToStep } from './quantity.js';
import type { Denied, DeniedReason, ExitPlan, Fill, Order, OrderCancelled, RiskDecision } from './types.js';

/**
 * Turns signals into orders, or into `Denied` events: one stage of TradingEngine. It reads the
 * account (cash, equity, positions) from a PortfolioBook that the caller keeps up to date with candles and
 * fills, and remembers the orders it has sent until they fill or are cancelled.
 *
 * - `buy` opens a long position with a market order, sized by `sizing` (optionally × confidence), rounded
 *   DOWN to `lot_size`, and carrying the exit plan (stop-loss, take-profits, trailing stop).
 * - `sell` closes the whole position with a market order (its exit plan goes with it).
 * - `hold` does nothing.
 * Refused, with a `Denied` event: a price that is not a positive finite number; `buy` while the symbol has
 * a position or an entry pending; `buy` beyond `max_open_positions` (open + pending); a quantity below
 * `min_order_size` / `min_notional`; a cost (signal price + worst slippage, + taker fee) above the cash not
 * already promised to pending entries; `sell` with no position or with an exit already pending.
 *
 * Checks use the signal's price; the fill comes later at another price, so each entry also carries
 * `maxCost` (the cash not promised to other pending entries) and the venue cuts the quantity to fit it.
 * With one entry pending at a time cash can never go negative; with several pending on one candle, each
 * promises only its estimated cost, so a gap up could overspend by the gap on the earlier ones.
 */
export class RiskManager {
  private nextId = 1;
  /**
   * Pending entries and exits by symbol; undefined once settled. A symbol's entry is cleared, not deleted:
   * a Map emptied by a delete shrinks its table and grows it again at the next set (two tables per round
   * trip, ~6 % of a parameter search's garbage).
   */
  private readonly pendingEntries = new Map<string, { id: number; cost: number } | undefined>();
  private readonly pendingExits = new Map<string, number | undefined>();
  /** How many entries of pendingEntries are pending (not undefined). */
  private pendingEntryCount = 0;
  private reserved = 0;
  private readonly exitPlan: ExitPlan | undefined;
  private readonly feeRate: number;
  private readonly slip: number;
  /** Buy-side cost of one unit of price: (1 + slippage) × (1 + fee). */
  private readonly costFactor: number;

  constructor(
    readonly config: RiskConfig,
    venue: VenueModel,
    private readonly book: PortfolioBook,
  ) {
    this.exitPlan = exitPlanOf(config);
    this.feeRate = takerFeeRate(venue);
    this.slip = worstSlippageBps(venue) / 10_000;
    this.costFactor = (1 + this.slip) * (1 + this.feeRate);
  }

  /** Forget an order once the venue has filled it (the caller books the fill in the PortfolioBook). */
  onFill(f: Fill): void {
    this.settle(f.symbol, f.orderId);
  }

  onCancelled(c: OrderCancelled): void {
    this.settle(c.symbol, c.orderId);
  }

  onSignal(s: Signal): RiskDecision | undefined {
    if (s.action === 'hold') return undefined;
    if (!(s.price > 0 && s.price < Infinity)) {
      return denied(s, 'invalid_price', `price ${s.price} is not a positive finite number`);
    }
    return s.action === 'buy' ? this.enter(s) : this.exit(s);
  }

  private enter(s: Signal): RiskDecision {
    const c = this.config;
    const book = this.book;
    if (book.qtyOf(s.symbol) !== 0)
      return denied(s, 'position_open', `a ${s.symbol} position is already open`);
    if (this.pendingEntries.get(s.symbol) !== undefined)
      return denied(s, 'position_open', `a ${s.symbol} entry is already pending`);
    const open = book.openCount + this.pendingEntryCount;
    if (open >= c.max_open_positions) {
      return denied(
        s,
        'max_open_positions',
        `${open} positions open or pending, max_open_positions is ${c.max_open_positions}`,
      );
    }
    const price = s.price;
    const equity = book.equity;
    let qty: number;
    const sizing = c.sizing;
    if (sizing.type === 'fixed') qty = sizing.quantity;
    else if (sizing.type === 'equity') qty = (equity * sizing.percentage) / 100 / (price * this.costFactor);
    // The stop distance is a fraction of the entry price: the loss at the stop is qty × price × sl%.
    else qty = (equity * sizing.percentage) / ((price * (c.stop_loss_percentage as number)) / 100) / 100;
    if (c.scale_by_confidence) qty *= Math.min(1, Math.max(0, s.confidence));
    qty = floorToStep(qty, c.lot_size);
    if (!(qty > 0) || qty < c.min_order_size || qty * price < c.min_notional) {
      return denied(
        s,
        'below_minimum',
        `quantity ${qty} (value ${fmt(qty * price)}) is below the minimum (size ${c.min_order_size}, value ${c.min_notional})`,
      );
    }
    const cost = qty * price * this.costFactor;
    const available = book.cash - this.reserved;
    if (cost > available * (1 + 1e-12)) {
      return denied(
        s,
        'insufficient_cash',
        `${qty} ${s.symbol} costs ${fmt(cost)} with fees, ${fmt(available)} cash available`,
      );
    }
    const id = this.nextId++;
    this.pendingEntries.set(s.symbol, { id, cost });
    this.pendingEntryCount++;
    this.reserved += cost;
    // A plain literal, the plan added after (see SimulatedVenue's fills).
    const order: { -readonly [K in keyof Order]: Order[K] } = {
      kind: 'order',
      id,
      symbol: s.symbol,
      side: 'buy',
      type: 'market',
      qty,
      purpose: 'entry',
      createdTimeMs: s.closeTimeMs,
      reason: s.reason,
      maxCost: available,
      qtyStep: c.lot_size,
      minQty: c.min_order_size,
    };
    if (this.exitPlan !== undefined) order.exitPlan = this.exitPlan;
    return order;
  }

  private exit(s: Signal): RiskDecision {
    const held = this.book.qtyOf(s.symbol);
    if (!(held > 0)) return denied(s, 'no_position', `no ${s.symbol} position to sell`);
    if (this.pendingExits.get(s.symbol) !== undefined)
      return denied(s, 'no_position', `a ${s.symbol} exit is already pending`);
    const id = this.nextId++;
    this.pendingExits.set(s.symbol, id);
    return {
      kind: 'order',
      id,
      symbol: s.symbol,
      side: 'sell',
      type: 'market',
      qty: held,
      purpose: 'exit',
      createdTimeMs: s.closeTimeMs,
      reason: s.reason,
      qtyStep: this.config.lot_size,
      minQty: 0,
    };
  }

  /** What it remembers between signals, as plain JSON (see EngineState). */
  toState(): RiskState {
    return {
      nextOrderId: this.nextId,
      pendingEntries: [...this.pendingEntries].flatMap(([symbol, e]) =>
        e === undefined ? [] : [{ symbol, orderId: e.id, cost: e.cost }],
      ),
      pendingExits: [...this.pendingExits].flatMap(([symbol, orderId]) =>
        orderId === undefined ? [] : [{ symbol, orderId }],
      ),
      reserved: this.reserved,
    };
  }

  /** A risk manager in exactly the state `toState` saved, reading `book` (restored with it). */
  static fromState(s: RiskState, config: RiskConfig, venue: VenueModel, book: PortfolioBook): RiskManager {
    const risk = new RiskManager(config, venue, book);
    risk.nextId = s.nextOrderId;
    for (const e of s.pendingEntries) {
      if (risk.pendingEntries.get(e.symbol) === undefined) risk.pendingEntryCount++;
      risk.pendingEntries.set(e.symbol, { id: e.orderId, cost: e.cost });
    }
    for (const e of s.pendingExits) risk.pendingExits.set(e.symbol, e.orderId);
    risk.reserved = s.reserved;
    return risk;
  }

  private settle(symbol: string, orderId: number): void {
    const entry = this.pendingEntries.get(symbol);
    if (entry !== undefined && entry.id === orderId) {
      this.pendingEntries.set(symbol, undefined);
      this.pendingEntryCount--;
      this.reserved -= entry.cost;
      if (this.pendingEntryCount === 0) this.reserved = 0; // no float residue
    }
    if (this.pendingExits.get(symbol) === orderId) this.pendingExits.set(symbol, undefined);
  }
}

function denied(s: Signal, reason: DeniedReason, message: string): Denied {
  return {
    kind: 'denied',
    symbol: s.symbol,
    timeMs: s.closeTimeMs,
    action: s.action as 'buy' | 'sell',
    reason,
    message,
  };
}

function fmt(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(10))) : String(x);
}
