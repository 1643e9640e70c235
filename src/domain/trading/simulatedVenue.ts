import { openTimeMs, type Candle } from '../candle.js';
import { InvalidDataError } from '../errors.js';
import type { Trade } from '../trade.js';
import { objectArray } from '../objectArray.js';
import { makerFeeRate, takerFeeRate, type VenueModel } from './config.js';
import type { BracketState, VenueState } from './engineState.js';
import type { PortfolioBook } from './portfolioBook.js';
import { floorToStep } from './quantity.js';
import { Mulberry32 } from './random.js';
import type { CancelReason, ExitPlan, Fill, FillPurpose, Order, RoundTrip, VenueEvent } from './types.js';

/** The protective exits of one open position, as price levels (see ExitPlan). */
class Bracket {
  /** Stop level in "signed price" terms (price × dir), so one comparison serves longs and shorts; −∞: none. */
  stopLoss = Number.NEGATIVE_INFINITY;
  trail = Number.NEGATIVE_INFINITY;
  trailing = false;
  best = 0;
  nextTp = 0;
  /** Signed take-profit levels and their quantities (the last may be "all that is left": NaN). */
  readonly tpLevels: number[] = [];
  readonly tpQtys: number[] = [];
  /** Signed price at which the trailing stop starts following; NaN: no trailing stop. */
  activation = Number.NaN;
  offset = 0;

  constructor(
    readonly dir: 1 | -1,
    readonly qtyStep: number,
    readonly minQty: number,
    /** Exits are watched on prices from this time on (an entry filled inside a candle waits for the next). */
    readonly activeFromMs: number,
  ) {}

  /** The bracket of an entry of `qty` filled at `entryPrice`. */
  static open(
    dir: 1 | -1,
    entryPrice: number,
    qty: number,
    plan: ExitPlan,
    qtyStep: number,
    minQty: number,
    activeFromMs: number,
  ): Bracket {
    const b = new Bracket(dir, qtyStep, minQty, activeFromMs);
    b.best = dir * entryPrice;
    if (plan.stopLoss !== undefined) b.stopLoss = dir * entryPrice * (1 - dir * plan.stopLoss);
    let cumulative = 0;
    for (const l of plan.takeProfits) {
      cumulative += l.fraction;
      b.tpLevels.push(dir * entryPrice * (1 + dir * l.distance));
      b.tpQtys.push(cumulative >= 1 - 1e-9 ? Number.NaN : floorToStep(qty * l.fraction, qtyStep));
    }
    if (plan.trailing !== undefined) {
      b.activation = dir * entryPrice * (1 + dir * plan.trailing.activation);
      b.offset = plan.trailing.offset;
    }
    return b;
  }

  /** In price terms (× dir again: exact, it only flips the sign), ∞ and NaN as null. */
  toState(symbol: string, entryOrderId: number): BracketState {
    const d = this.dir;
    return {
      symbol,
      entryOrderId,
      side: d > 0 ? 'long' : 'short',
      stopLossPrice: this.stopLoss === Number.NEGATIVE_INFINITY ? null : d * this.stopLoss,
      takeProfits: this.tpLevels.map((level, i) => {
        const qty = this.tpQtys[i] as number;
        return { price: d * level, qty: Number.isNaN(qty) ? null : qty };
      }),
      takeProfitsDone: this.nextTp,
      trailingActivationPrice: Number.isNaN(this.activation) ? null : d * this.activation,
      trailingOffset: this.offset,
      trailing: this.trailing,
      bestPrice: d * this.best,
      trailingStopPrice: this.trail === Number.NEGATIVE_INFINITY ? null : d * this.trail,
      qtyStep: this.qtyStep,
      minQty: this.minQty,
      activeFromMs: this.activeFromMs,
    };
  }

  static fromState(s: BracketState): Bracket {
    const d = s.side === 'long' ? 1 : -1;
    const b = new Bracket(d, s.qtyStep, s.minQty, s.activeFromMs);
    b.stopLoss = s.stopLossPrice === null ? Number.NEGATIVE_INFINITY : d * s.stopLossPrice;
    for (const tp of s.takeProfits) {
      b.tpLevels.push(d * tp.price);
      b.tpQtys.push(tp.qty ?? Number.NaN);
    }
    b.nextTp = s.takeProfitsDone;
    b.activation = s.trailingActivationPrice === null ? Number.NaN : d * s.trailingActivationPrice;
    b.offset = s.trailingOffset;
    b.trailing = s.trailing;
    b.best = d * s.bestPrice;
    b.trail = s.trailingStopPrice === null ? Number.NEGATIVE_INFINITY : d * s.trailingStopPrice;
    return b;
  }

  get stop(): number {
    return this.trail > this.stopLoss ? this.trail : this.stopLoss;
  }

  get stopPurpose(): FillPurpose {
    return this.trail > this.stopLoss ? 'trailing_stop' : 'stop_loss';
  }

  /** After the candle's checks: follow its best price (the new level applies from the next price on). */
  follow(signedBest: number): void {
    if (Number.isNaN(this.activation)) return;
    if (signedBest > this.best) this.best = signedBest;
    if (!this.trailing && this.best >= this.activation) this.trailing = true;
    if (this.trailing) {
      // best × (1 − offset) in price terms, for either direction.
      const price = this.dir * this.best;
      this.trail = this.dir * price * (1 - this.dir * this.offset);
    }
  }
}

/** What the venue keeps of a position besides its quantity (which only the book holds). */
class VenuePosition {
  bracket: Bracket | undefined;
  /** The entry order the bracket came from: exit-plan fills carry its id. */
  entryOrderId = -1;
  constructor(readonly symbol: string) {}
}

/**
 * The simulated exchange of paper trading and backtests. Orders wait in submission order and fill on the
 * prices that come after their decision time; positions' exit plans (stop-loss, take-profits, trailing
 * stop) are watched here, where the prices are. Positions are the PortfolioBook's: the venue reads what a
 * position holds there and books each fill into it before reporting it, so no second copy of a position
 * has to be kept in step with the book.
 *
 * On a candle `t+1` (for orders decided on candle `t` or earlier), in this order:
 * 1. Pending orders, in submission order. `market` fills at the open. `limit` buy fills at the open if it
 *    is at or below the limit (a gap: the better price), else at the limit if the low reaches it; `stop` buy
 *    at the open if at or above the stop (a gap: the worse price), else at the stop if the high reaches it.
 *    Sells mirror this. Limit fills pay the maker fee; market and stop fills the taker fee and slippage
 *    (which always worsens the price).
 * 2. Exit plans of open positions (an entry filled at this open is watched on the rest of this candle):
 *    stop at or through the open → all of it at the open; take-profit levels at or through the open →
 *    at the open; then a stop inside the range → at the stop level, and if a take-profit level was inside
 *    the range too the stop is assumed first (`slTpSameCandle` counts it, the fill is flagged); else the
 *    take-profit levels inside the range, lowest first, at their level.
 * 3. The trailing stop follows the candle's best price; the new level applies from the next candle.
 * Every fill in the candle is stamped with its open time. On a trade, the same rules hold with
 * open = high = low = the trade's price, stamped with the trade's time.
 *
 * Exits are capped at what is held (a stop-loss can have closed the position first: the order is then
 * cancelled, `no_position`); an entry with `maxCost` is cut to what that buys at the fill price, fee
 * included, and cancelled (`insufficient_cash`) if that is below its minimum.
 */
export class SimulatedVenue {
  /** Stop-losses filled in a candle whose range also reached a take-profit level. */
  slTpSameCandle = 0;
  /**
   * The resting orders are pending[0 … pendingCount − 1] (the rest: undefined). A count, not the array's
   * length: an array emptied by `length = 0` drops its storage and makes new at the next push (~7 % of a
   * parameter search's garbage, one per order).
   */
  private readonly pending: (Order | undefined)[] = objectArray<Order>();
  private pendingCount = 0;
  private readonly positions = new Map<string, VenuePosition>();
  private bracketCount = 0;
  private readonly maker: number;
  private readonly taker: number;
  /** Fixed slippage (fraction), or the most a random one can be. */
  private readonly slip: number;
  /** The random slippage's generator (undefined: fixed slippage). */
  private readonly rng: Mulberry32 | undefined;

  constructor(
    model: VenueModel,
    /** The account: the venue reads positions from it and books every fill into it. */
    private readonly book: PortfolioBook,
    /** Each fill (already booked; with the round trip it closed) or cancellation, synchronously. */
    private readonly emit: (e: VenueEvent, trip: RoundTrip | undefined) => void,
  ) {
    this.maker = makerFeeRate(model);
    this.taker = takerFeeRate(model);
    const s = model.slippage;
    if (s.type === 'fixed') {
      this.slip = s.bps / 10_000;
      this.rng = undefined;
    } else {
      this.slip = s.max_bps / 10_000;
      this.rng = new Mulberry32(s.seed);
    }
  }

  /** Slippage of the next taker fill, as a fraction of its price. */
  private slippage(): number {
    return this.rng === undefined ? this.slip : this.rng.next() * this.slip;
  }

  get pendingOrders(): readonly Order[] {
    return this.pending.slice(0, this.pendingCount) as Order[];
  }

  /** Resting orders, exit plans, the counter and the slippage generator, as plain JSON (see EngineState). */
  toState(): VenueState {
    const brackets: BracketState[] = [];
    for (const p of this.positions.values()) {
      if (p.bracket !== undefined) brackets.push(p.bracket.toState(p.symbol, p.entryOrderId));
    }
    return {
      pendingOrders: this.pendingOrders.map(orderState),
      brackets,
      slTpSameCandle: this.slTpSameCandle,
      slippageRng: this.rng === undefined ? null : { seed: this.rng.seed, state: this.rng.state },
    };
  }

  /**
   * A venue in the state `toState` saved, on `model`'s fees and slippage. The random slippage goes on
   * from the saved generator state when `model` has the same seed; a new seed starts a new sequence.
   */
  static fromState(
    s: VenueState,
    model: VenueModel,
    book: PortfolioBook,
    emit: (e: VenueEvent, trip: RoundTrip | undefined) => void,
  ): SimulatedVenue {
    const v = new SimulatedVenue(model, book, emit);
    for (const o of s.pendingOrders) v.submit(o);
    for (const b of s.brackets) {
      const pos = v.position(b.symbol);
      pos.entryOrderId = b.entryOrderId;
      pos.bracket = Bracket.fromState(b);
      v.bracketCount++;
    }
    v.slTpSameCandle = s.slTpSameCandle;
    if (v.rng !== undefined && s.slippageRng !== null && s.slippageRng.seed === v.rng.seed) {
      v.rng.state = s.slippageRng.state;
    }
    return v;
  }

  submit(order: Order): void {
    if (!(order.qty > 0 && order.qty < Infinity)) {
      throw new InvalidDataError(
        `SimulatedVenue: order ${order.id} (${order.symbol}) has quantity ${order.qty}`,
      );
    }
    if (order.type !== 'market') {
      const level = order.type === 'limit' ? order.limitPrice : order.stopPrice;
      if (level === undefined || !(level > 0 && level < Infinity)) {
        throw new InvalidDataError(
          `SimulatedVenue: ${order.type} order ${order.id} (${order.symbol}) has no valid price`,
        );
      }
    }
    this.pending[this.pendingCount++] = order;
  }

  /** A closed candle: its open, high and low are the prices after its open time. */
  onCandle(c: Candle): void {
    if (this.pendingCount === 0 && this.bracketCount === 0) return;
    this.onPrices(c.symbol, openTimeMs(c), c.open, c.high, c.low);
  }

  /** No order waiting and no exit watched: a candle changes nothing here (onCandle returns at once). */
  get idle(): boolean {
    return this.pendingCount === 0 && this.bracketCount === 0;
  }

  /** The same as onCandle for a candle given by its prices (`openMs`: its open time). */
  onBar(symbol: string, openMs: number, open: number, high: number, low: number): void {
    if (this.pendingCount === 0 && this.bracketCount === 0) return;
    this.onPrices(symbol, openMs, open, high, low);
  }

  onTrade(t: Trade): void {
    if (this.pendingCount === 0 && this.bracketCount === 0) return;
    this.onPrices(t.symbol, t.tsMs, t.price, t.price, t.price);
  }

  private onPrices(symbol: string, timeMs: number, open: number, high: number, low: number): void {
    if (this.pendingCount > 0) this.fillOrders(symbol, timeMs, open, high, low);
    if (this.bracketCount > 0) {
      const pos = this.positions.get(symbol);
      const b = pos?.bracket;
      if (pos !== undefined && b !== undefined && timeMs >= b.activeFromMs)
        this.watchExits(pos, b, timeMs, open, high, low);
    }
  }

  private fillOrders(symbol: string, timeMs: number, open: number, high: number, low: number): void {
    const pending = this.pending;
    let kept = 0;
    // pendingCount is read at each step: an order submitted by a listener of a fill is taken too.
    for (let i = 0; i < this.pendingCount; i++) {
      const o = pending[i] as Order;
      if (o.symbol !== symbol || o.createdTimeMs > timeMs || !this.tryFill(o, timeMs, open, high, low)) {
        pending[kept++] = o;
      }
    }
    for (let i = kept; i < this.pendingCount; i++) pending[i] = undefined;
    this.pendingCount = kept;
  }

  /** Fills or cancels `o` on these prices; false when it keeps waiting. */
  private tryFill(o: Order, timeMs: number, open: number, high: number, low: number): boolean {
    if (o.expiresAtMs !== undefined && timeMs >= o.expiresAtMs) return this.cancel(o, timeMs, 'expired');
    const buy = o.side === 'buy';
    let price: number;
    let atOpen = true;
    let maker = false;
    if (o.type === 'market') {
      price = open;
    } else if (o.type === 'limit') {
      const limit = o.limitPrice as number;
      maker = true;
      if (buy ? open <= limit : open >= limit) price = open;
      else if (buy ? low <= limit : high >= limit) [price, atOpen] = [limit, false];
      else return false;
    } else {
      const stop = o.stopPrice as number;
      if (buy ? open >= stop : open <= stop) price = open;
      else if (buy ? high >= stop : low <= stop) [price, atOpen] = [stop, false];
      else return false;
    }
    if (!maker) price *= buy ? 1 + this.slippage() : 1 - this.slippage();
    const feeRate = maker ? this.maker : this.taker;
    const pos = this.position(o.symbol);
    let qty = o.qty;
    if (o.purpose === 'exit') {
      const held = this.book.qtyOf(o.symbol);
      const reducible = buy ? -held : held;
      if (!(reducible > 0)) return this.cancel(o, timeMs, 'no_position');
      if (qty > reducible) qty = reducible;
    } else if (o.maxCost !== undefined && qty * price * (1 + feeRate) > o.maxCost) {
      qty = floorToStep(o.maxCost / (price * (1 + feeRate)), o.qtyStep);
      if (!(qty > 0) || qty < o.minQty) return this.cancel(o, timeMs, 'insufficient_cash');
    }
    this.fill(pos, o.id, o.symbol, o.side, qty, price, feeRate, maker, timeMs, o.purpose, o.reason);
    const held = this.book.qtyOf(o.symbol);
    if (o.purpose === 'entry' && o.exitPlan !== undefined && held !== 0) {
      if (pos.bracket === undefined) this.bracketCount++;
      pos.entryOrderId = o.id;
      const dir = held > 0 ? 1 : -1;
      // Watched from this price on when filled at the open; else from the next candle (we cannot know
      // whether the rest of this candle's range came before or after the fill).
      pos.bracket = Bracket.open(
        dir,
        price,
        Math.abs(held),
        o.exitPlan,
        o.qtyStep,
        o.minQty,
        atOpen ? timeMs : timeMs + 1,
      );
    }
    return true;
  }

  private watchExits(
    pos: VenuePosition,
    b: Bracket,
    timeMs: number,
    open: number,
    high: number,
    low: number,
  ): void {
    const dir = b.dir;
    const o = dir * open;
    const best = dir > 0 ? high : -low;
    const worst = dir > 0 ? low : -high;
    const stop = b.stop;
    if (o <= stop) {
      this.exit(pos, b, this.book.qtyOf(pos.symbol) * dir, open, false, timeMs, b.stopPurpose, false);
      return;
    }
    while (b.nextTp < b.tpLevels.length && o >= (b.tpLevels[b.nextTp] as number)) {
      if (this.takeProfit(pos, b, open, timeMs)) return;
    }
    if (worst <= stop) {
      const tpInRange = b.nextTp < b.tpLevels.length && best >= (b.tpLevels[b.nextTp] as number);
      if (tpInRange) this.slTpSameCandle++;
      this.exit(
        pos,
        b,
        this.book.qtyOf(pos.symbol) * dir,
        dir * stop,
        false,
        timeMs,
        b.stopPurpose,
        tpInRange,
      );
      return;
    }
    while (b.nextTp < b.tpLevels.length && best >= (b.tpLevels[b.nextTp] as number)) {
      if (this.takeProfit(pos, b, dir * (b.tpLevels[b.nextTp] as number), timeMs)) return;
    }
    b.follow(best);
  }

  /** Fills the next take-profit level at `price`; true when that closed the position. */
  private takeProfit(pos: VenuePosition, b: Bracket, price: number, timeMs: number): boolean {
    const held = this.book.qtyOf(pos.symbol) * b.dir;
    const planned = b.tpQtys[b.nextTp] as number;
    b.nextTp++;
    const qty = Number.isNaN(planned) || planned >= held ? held : planned;
    if (qty > 0 && (qty === held || qty >= b.minQty))
      this.exit(pos, b, qty, price, true, timeMs, 'take_profit', false);
    return pos.bracket === undefined;
  }

  private exit(
    pos: VenuePosition,
    b: Bracket,
    qty: number,
    price: number,
    maker: boolean,
    timeMs: number,
    purpose: FillPurpose,
    slTpSameCandle: boolean,
  ): void {
    const side = b.dir > 0 ? 'sell' : 'buy';
    if (!maker) price *= side === 'buy' ? 1 + this.slippage() : 1 - this.slippage();
    this.fill(
      pos,
      pos.entryOrderId,
      pos.symbol,
      side,
      qty,
      price,
      maker ? this.maker : this.taker,
      maker,
      timeMs,
      purpose,
      purpose,
      slTpSameCandle,
    );
  }

  private fill(
    pos: VenuePosition,
    orderId: number,
    symbol: string,
    side: 'buy' | 'sell',
    qty: number,
    price: number,
    feeRate: number,
    maker: boolean,
    timeMs: number,
    purpose: FillPurpose,
    reason: string,
    slTpSameCandle = false,
  ): void {
    // A plain literal, the flag added after: a spread in the literal made V8 build each fill the slow way.
    const fill: { -readonly [K in keyof Fill]: Fill[K] } = {
      kind: 'fill',
      orderId,
      symbol,
      side,
      qty,
      price,
      fee: qty * price * feeRate,
      liquidity: maker ? 'maker' : 'taker',
      timeMs,
      purpose,
      reason,
    };
    if (slTpSameCandle) fill.slTpSameCandle = true;
    const before = this.book.qtyOf(symbol);
    const trip = this.book.applyFill(fill);
    const after = this.book.qtyOf(symbol);
    // Closed (the book counts float dust left by partial exits as flat) or flipped: the exits go with it.
    if (after === 0 || before > 0 !== after > 0) {
      if (pos.bracket !== undefined) this.bracketCount--;
      pos.bracket = undefined;
    }
    this.emit(fill, trip);
  }

  private cancel(o: Order, timeMs: number, reason: CancelReason): true {
    this.emit({ kind: 'cancelled', orderId: o.id, symbol: o.symbol, timeMs, reason }, undefined);
    return true;
  }

  private position(symbol: string): VenuePosition {
    let p = this.positions.get(symbol);
    if (p === undefined) {
      p = new VenuePosition(symbol);
      this.positions.set(symbol, p);
    }
    return p;
  }
}

/** An order as plain JSON, keys always in this order (the same state always prints the same). */
function orderState(o: Order): VenueState['pendingOrders'][number] {
  const p = o.exitPlan;
  return {
    kind: 'order',
    id: o.id,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    qty: o.qty,
    ...(o.limitPrice === undefined ? {} : { limitPrice: o.limitPrice }),
    ...(o.stopPrice === undefined ? {} : { stopPrice: o.stopPrice }),
    purpose: o.purpose,
    createdTimeMs: o.createdTimeMs,
    reason: o.reason,
    ...(o.maxCost === undefined ? {} : { maxCost: o.maxCost }),
    qtyStep: o.qtyStep,
    minQty: o.minQty,
    ...(p === undefined
      ? {}
      : {
          exitPlan: {
            ...(p.stopLoss === undefined ? {} : { stopLoss: p.stopLoss }),
            takeProfits: p.takeProfits.map((l) => ({ distance: l.distance, fraction: l.fraction })),
            ...(p.trailing === undefined
              ? {}
              : { trailing: { activation: p.trailing.activation, offset: p.trailing.offset } }),
          },
        }),
    ...(o.expiresAtMs === undefined ? {} : { expiresAtMs: o.expiresAtMs }),
  };
}
