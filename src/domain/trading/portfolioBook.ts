import { InvalidDataError } from '../errors.js';
import { objectArray } from '../objectArray.js';
import type { BookState, HoldingState } from './engineState.js';
import type { Fill, PortfolioSnapshot, Position, PositionSide, RoundTrip } from './types.js';

/** Mutable per-symbol state; the public view is the immutable `Position`. */
class Holding {
  /** Signed: > 0 long, < 0 short. */
  qty = 0;
  avgEntryPrice = 0;
  entryTimeMs = 0;
  entryFees = 0;
  lastPrice = Number.NaN;
  lastPriceTimeMs = Number.NEGATIVE_INFINITY;
  constructor(readonly symbol: string) {}
}

/**
 * The account: cash, positions, realized and unrealized P&L, fees, trade counts — the one book of a
 * TradingEngine, read by the risk manager (sizing, pre-trade checks) and by the venue (what a position
 * holds), which books every fill into it.
 *
 * Accounting (per symbol, signed quantity, so shorts need no other code): a fill in the position's direction
 * (or from flat) raises the quantity and re-averages the entry price; a fill against it realizes
 * `(price − avgEntry) × closedQty × direction` and returns a RoundTrip for the closed part (a fill larger than
 * the position closes it and opens the rest the other way). Fees are paid in quote currency from cash on every
 * fill; an entry's fees are shared out pro rata to the round trips that close it.
 *
 * Invariants (tested): `equity = cash + Σ qty × lastPrice = initialCash + realizedPnl + unrealizedPnl − feesPaid`,
 * and when flat, `Σ roundTrip.pnl = equity − initialCash`.
 *
 * Marking is O(open positions); applying a fill rebuilds the positions view (fills are rare).
 */
export class PortfolioBook {
  cash: number;
  /** Gross P&L of all quantity closed so far. */
  realizedPnl = 0;
  feesPaid = 0;
  /** Round trips closed so far (a partial exit is one), and those with a net pnl > 0. */
  closedTrades = 0;
  winningTrades = 0;
  private readonly holdings = new Map<string, Holding>();
  private readonly open: Holding[] = objectArray<Holding>();
  private view: readonly Position[] = Object.freeze([]);
  /** Whether a fill changed the positions since `view` was made (it is made again when next read). */
  private viewStale = false;
  private last: Holding | undefined;

  constructor(readonly initialCash: number) {
    if (!(Number.isFinite(initialCash) && initialCash >= 0)) {
      throw new InvalidDataError(`portfolio: initial cash ${initialCash} is not a finite number ≥ 0`);
    }
    this.cash = initialCash;
  }

  /** Marks `symbol` at `price` (a candle's close at its close time). */
  mark(symbol: string, price: number, timeMs: number): void {
    const h = this.holding(symbol);
    if (timeMs >= h.lastPriceTimeMs) {
      h.lastPrice = price;
      h.lastPriceTimeMs = timeMs;
    }
  }

  /** Books a fill; returns the round trip it closed, if any. Throws InvalidDataError on an impossible fill. */
  applyFill(f: Fill): RoundTrip | undefined {
    if (!(
      f.qty > 0 &&
      f.qty < Infinity &&
      f.price > 0 &&
      f.price < Infinity &&
      f.fee >= 0 &&
      f.fee < Infinity
    )) {
      throw new InvalidDataError(
        `portfolio: impossible fill of order ${f.orderId} (${f.symbol}): qty ${f.qty}, price ${f.price}, fee ${f.fee}`,
      );
    }
    const h = this.holding(f.symbol);
    const dq = f.side === 'buy' ? f.qty : -f.qty;
    this.cash -= dq * f.price + f.fee;
    this.feesPaid += f.fee;
    // A fill is a price that occurred; a later candle close still wins.
    if (f.timeMs >= h.lastPriceTimeMs) {
      h.lastPrice = f.price;
      h.lastPriceTimeMs = f.timeMs;
    }
    let trip: RoundTrip | undefined;
    const wasOpen = h.qty !== 0;
    if (h.qty === 0 || h.qty > 0 === dq > 0) {
      this.increase(h, dq, f.price, f.fee, f.timeMs);
    } else {
      const held = Math.abs(h.qty);
      // Treat a remainder below 1e-9 of the position as float dust: the fill closes it all.
      const closeQty = f.qty >= held * (1 - 1e-9) ? held : f.qty;
      const flip = f.qty - closeQty > held * 1e-9 ? f.qty - closeQty : 0;
      const dir = h.qty > 0 ? 1 : -1;
      const gross = (f.price - h.avgEntryPrice) * closeQty * dir;
      const entryFee = closeQty === held ? h.entryFees : (h.entryFees * closeQty) / held;
      const exitFee = flip === 0 ? f.fee : (f.fee * closeQty) / f.qty;
      this.realizedPnl += gross;
      const side: PositionSide = dir > 0 ? 'long' : 'short';
      trip = {
        kind: 'round_trip',
        symbol: f.symbol,
        side,
        entryTimeMs: h.entryTimeMs,
        exitTimeMs: f.timeMs,
        entryPrice: h.avgEntryPrice,
        exitPrice: f.price,
        qty: closeQty,
        pnl: gross - entryFee - exitFee,
        fees: entryFee + exitFee,
        returnPct: (gross - entryFee - exitFee) / (h.avgEntryPrice * closeQty),
        exitPurpose: f.purpose,
      };
      this.closedTrades++;
      if (trip.pnl > 0) this.winningTrades++;
      if (closeQty === held) {
        h.qty = 0;
        h.entryFees = 0;
        h.avgEntryPrice = 0;
        if (flip > 0) this.increase(h, -dir * flip, f.price, f.fee - exitFee, f.timeMs);
      } else {
        h.qty -= dir * closeQty;
        h.entryFees -= entryFee;
      }
    }
    const isOpen = h.qty !== 0;
    if (wasOpen !== isOpen) {
      if (isOpen) this.open.push(h);
      else this.open.splice(this.open.indexOf(h), 1);
    }
    this.viewStale = true;
    return trip;
  }

  /** Cash plus the value of every open position at its last price. */
  get equity(): number {
    return this.cash + this.positionsValue;
  }

  get positionsValue(): number {
    let v = 0;
    for (let i = 0; i < this.open.length; i++) {
      const h = this.open[i] as Holding;
      v += h.qty * h.lastPrice;
    }
    return v;
  }

  get unrealizedPnl(): number {
    let v = 0;
    for (let i = 0; i < this.open.length; i++) {
      const h = this.open[i] as Holding;
      v += (h.lastPrice - h.avgEntryPrice) * h.qty;
    }
    return v;
  }

  get openCount(): number {
    return this.open.length;
  }

  /**
   * The open positions (the same frozen array until a fill changes them). Made when read: a backtest
   * books thousands of fills and reads them at its end only.
   */
  get positions(): readonly Position[] {
    if (this.viewStale) this.rebuildView();
    return this.view;
  }

  position(symbol: string): Position | undefined {
    const h = this.holdings.get(symbol);
    if (h === undefined || h.qty === 0) return undefined;
    for (const p of this.positions) if (p.symbol === symbol) return p;
    return undefined;
  }

  /** Signed open quantity of `symbol` (0 when flat). */
  qtyOf(symbol: string): number {
    return this.holdings.get(symbol)?.qty ?? 0;
  }

  lastPriceOf(symbol: string): number {
    return this.holdings.get(symbol)?.lastPrice ?? Number.NaN;
  }

  snapshot(timeMs: number, symbol: string, price: number): PortfolioSnapshot {
    // Taken after every candle: flat and one position (a bot's usual states) skip the loops.
    const open = this.open;
    let positionsValue = 0;
    let unrealizedPnl = 0;
    if (open.length === 1) {
      const h = open[0] as Holding;
      positionsValue = h.qty * h.lastPrice;
      unrealizedPnl = (h.lastPrice - h.avgEntryPrice) * h.qty;
    } else if (open.length > 1) {
      positionsValue = this.positionsValue;
      unrealizedPnl = this.unrealizedPnl;
    }
    return {
      kind: 'snapshot',
      timeMs,
      symbol,
      price,
      cash: this.cash,
      equity: this.cash + positionsValue,
      positionsValue,
      realizedPnl: this.realizedPnl,
      unrealizedPnl,
      feesPaid: this.feesPaid,
      closedTrades: this.closedTrades,
      winningTrades: this.winningTrades,
      positions: this.positions,
    };
  }

  /** The whole account as plain JSON (see EngineState): every holding, in the order they were first seen. */
  toState(): BookState {
    const holdings: HoldingState[] = [];
    for (const h of this.holdings.values()) {
      holdings.push({
        symbol: h.symbol,
        qty: h.qty,
        avgEntryPrice: h.avgEntryPrice,
        entryTimeMs: h.entryTimeMs,
        entryFees: h.entryFees,
        lastPrice: Number.isNaN(h.lastPrice) ? null : h.lastPrice,
        lastPriceTimeMs: Number.isFinite(h.lastPriceTimeMs) ? h.lastPriceTimeMs : null,
      });
    }
    return {
      initialCash: this.initialCash,
      cash: this.cash,
      realizedPnl: this.realizedPnl,
      feesPaid: this.feesPaid,
      closedTrades: this.closedTrades,
      winningTrades: this.winningTrades,
      holdings,
      // The order positions were opened in: sums over them (equity) then add up in the same order.
      open: this.open.map((h) => h.symbol),
    };
  }

  /** A book in exactly the state `toState` saved (validated by parseEngineState first). */
  static fromState(s: BookState): PortfolioBook {
    const book = new PortfolioBook(s.initialCash);
    book.cash = s.cash;
    book.realizedPnl = s.realizedPnl;
    book.feesPaid = s.feesPaid;
    book.closedTrades = s.closedTrades;
    book.winningTrades = s.winningTrades;
    for (const x of s.holdings) {
      const h = book.holding(x.symbol);
      h.qty = x.qty;
      h.avgEntryPrice = x.avgEntryPrice;
      h.entryTimeMs = x.entryTimeMs;
      h.entryFees = x.entryFees;
      h.lastPrice = x.lastPrice ?? Number.NaN;
      h.lastPriceTimeMs = x.lastPriceTimeMs ?? Number.NEGATIVE_INFINITY;
    }
    for (const symbol of s.open) book.open.push(book.holding(symbol));
    book.rebuildView();
    return book;
  }

  private increase(h: Holding, dq: number, price: number, fee: number, timeMs: number): void {
    const before = Math.abs(h.qty);
    const add = Math.abs(dq);
    if (before === 0) {
      h.entryTimeMs = timeMs;
      h.avgEntryPrice = price;
    } else {
      h.avgEntryPrice = (h.avgEntryPrice * before + price * add) / (before + add);
    }
    h.qty += dq;
    h.entryFees += fee;
  }

  private holding(symbol: string): Holding {
    const last = this.last;
    if (last !== undefined && last.symbol === symbol) return last;
    let h = this.holdings.get(symbol);
    if (h === undefined) {
      h = new Holding(symbol);
      this.holdings.set(symbol, h);
    }
    this.last = h;
    return h;
  }

  private rebuildView(): void {
    this.viewStale = false;
    this.view = Object.freeze(
      this.open.map((h): Position =>
        Object.freeze({
          symbol: h.symbol,
          side: h.qty > 0 ? 'long' : 'short',
          qty: Math.abs(h.qty),
          avgEntryPrice: h.avgEntryPrice,
          entryTimeMs: h.entryTimeMs,
          entryFees: h.entryFees,
        }),
      ),
    );
  }
}
