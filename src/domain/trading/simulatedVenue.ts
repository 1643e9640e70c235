import { openTimeMs, type Candle } from '../candle.js';
import { InvalidDataError } from '../errors.js';
import type { Timeframe } from '../timeframe.js';
import type { Trade } from '../trade.js';
import { makerFeeRate, takerFeeRate, type VenueModel } from './config.js';
import type { CancelReason, ExitPlan, Fill, FillPurpose, Order, VenueEvent } from './types.js';
import { floorToStep } from './quantity.js';

/** The protective exits of one open position, as price levels (see ExitPlan). */
class Bracket {
  /** Stop level in "signed price" terms (price × dir), so one comparison serves longs and shorts; −∞: none. */
  stopLoss = Number.NEGATIVE_INFINITY;
  trail = Number.NEGATIVE_INFINITY;
  trailing = false;
  best: number;
  nextTp = 0;
  /** Signed take-profit levels and their quantities (the last may be "all that is left": NaN). */
  readonly tpLevels: number[] = [];
  readonly tpQtys: number[] = [];
  readonly activation: number;
  readonly offset: number;

  constructor(
    readonly dir: 1 | -1,
    entryPrice: number,
    qty: number,
    plan: ExitPlan,
    readonly qtyStep: number,
    readonly minQty: number,
    /** Exits are watched on prices from this time on (an entry filled inside a candle waits for the next). */
    readonly activeFromMs: number,
  ) {
    const e = dir * entryPrice;
    this.best = e;
    if (plan.stopLoss !== undefined) this.stopLoss = dir * entryPrice * (1 - dir * plan.stopLoss);
    let cumulative = 0;
    for (const l of plan.takeProfits) {
      cumulative += l.fraction;
      this.tpLevels.push(dir * entryPrice * (1 + dir * l.distance));
      this.tpQtys.push(cumulative >= 1 - 1e-9 ? Number.NaN : floorToStep(qty * l.fraction, qtyStep));
    }
    this.activation =
      plan.trailing === undefined ? Number.NaN : dir * entryPrice * (1 + dir * plan.trailing.activation);
    this.offset = plan.trailing?.offset ?? 0;
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

class VenuePosition {
  /** Signed quantity as this venue filled it. */
  qty = 0;
  bracket: Bracket | undefined;
  /** The entry order the bracket came from: exit-plan fills carry its id. */
  entryOrderId = -1;
  constructor(readonly symbol: string) {}
}

/**
 * The simulated exchange: the synchronous core of `simulateFills`. Orders wait in submission order and fill
 * on the prices that come after their decision time; positions' exit plans (stop-loss, take-profits,
 * trailing stop) are watched here, where the prices are.
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
  private readonly pending: Order[] = [];
  private readonly positions = new Map<string, VenuePosition>();
  private bracketCount = 0;
  private readonly maker: number;
  private readonly taker: number;
  private readonly slippage: () => number;

  constructor(
    model: VenueModel,
    private readonly emit: (e: VenueEvent) => void,
    /** When set, only candles of this timeframe drive fills (a bot's stream may carry several). */
    private readonly timeframe?: Timeframe,
  ) {
    this.maker = makerFeeRate(model);
    this.taker = takerFeeRate(model);
    const s = model.slippage;
    if (s.type === 'fixed') {
      const f = s.bps / 10_000;
      this.slippage = () => f;
    } else {
      const rnd = mulberry32(s.seed);
      const max = s.max_bps / 10_000;
      this.slippage = () => rnd() * max;
    }
  }

  get pendingOrders(): readonly Order[] {
    return this.pending;
  }

  submit(order: Order): void {
    if (!(order.qty > 0 && order.qty < Infinity)) {
      throw new InvalidDataError(
        `simulateFills: order ${order.id} (${order.symbol}) has quantity ${order.qty}`,
      );
    }
    if (order.type !== 'market') {
      const level = order.type === 'limit' ? order.limitPrice : order.stopPrice;
      if (level === undefined || !(level > 0 && level < Infinity)) {
        throw new InvalidDataError(
          `simulateFills: ${order.type} order ${order.id} (${order.symbol}) has no valid price`,
        );
      }
    }
    this.pending.push(order);
  }

  onCandle(c: Candle): void {
    if (!c.closed || (this.timeframe !== undefined && c.timeframe !== this.timeframe)) return;
    if (this.pending.length === 0 && this.bracketCount === 0) return;
    this.onPrices(c.symbol, openTimeMs(c), c.open, c.high, c.low);
  }

  onTrade(t: Trade): void {
    if (this.pending.length === 0 && this.bracketCount === 0) return;
    this.onPrices(t.symbol, t.tsMs, t.price, t.price, t.price);
  }

  private onPrices(symbol: string, timeMs: number, open: number, high: number, low: number): void {
    if (this.pending.length > 0) this.fillOrders(symbol, timeMs, open, high, low);
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
    for (let i = 0; i < pending.length; i++) {
      const o = pending[i] as Order;
      if (o.symbol !== symbol || o.createdTimeMs > timeMs || !this.tryFill(o, timeMs, open, high, low)) {
        pending[kept++] = o;
      }
    }
    pending.length = kept;
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
      const reducible = buy ? -pos.qty : pos.qty;
      if (!(reducible > 0)) return this.cancel(o, timeMs, 'no_position');
      if (qty > reducible) qty = reducible;
    } else if (o.maxCost !== undefined && qty * price * (1 + feeRate) > o.maxCost) {
      qty = floorToStep(o.maxCost / (price * (1 + feeRate)), o.qtyStep);
      if (!(qty > 0) || qty < o.minQty) return this.cancel(o, timeMs, 'insufficient_cash');
    }
    this.fill(pos, o.id, o.symbol, o.side, qty, price, feeRate, maker, timeMs, o.purpose, o.reason);
    if (o.purpose === 'entry' && o.exitPlan !== undefined && pos.qty !== 0) {
      if (pos.bracket === undefined) this.bracketCount++;
      pos.entryOrderId = o.id;
      const dir = pos.qty > 0 ? 1 : -1;
      // Watched from this price on when filled at the open; else from the next candle (we cannot know
      // whether the rest of this candle's range came before or after the fill).
      pos.bracket = new Bracket(
        dir,
        price,
        Math.abs(pos.qty),
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
      this.exit(pos, b, pos.qty * dir, open, false, timeMs, b.stopPurpose, false);
      return;
    }
    while (b.nextTp < b.tpLevels.length && o >= (b.tpLevels[b.nextTp] as number)) {
      if (this.takeProfit(pos, b, open, timeMs)) return;
    }
    if (worst <= stop) {
      const tpInRange = b.nextTp < b.tpLevels.length && best >= (b.tpLevels[b.nextTp] as number);
      if (tpInRange) this.slTpSameCandle++;
      this.exit(pos, b, pos.qty * dir, dir * stop, false, timeMs, b.stopPurpose, tpInRange);
      return;
    }
    while (b.nextTp < b.tpLevels.length && best >= (b.tpLevels[b.nextTp] as number)) {
      if (this.takeProfit(pos, b, dir * (b.tpLevels[b.nextTp] as number), timeMs)) return;
    }
    b.follow(best);
  }

  /** Fills the next take-profit level at `price`; true when that closed the position. */
  private takeProfit(pos: VenuePosition, b: Bracket, price: number, timeMs: number): boolean {
    const held = pos.qty * b.dir;
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
    const before = pos.qty;
    pos.qty += side === 'buy' ? qty : -qty;
    // Float dust left by partial exits counts as flat (the portfolio does the same).
    if (Math.abs(pos.qty) <= Math.abs(before) * 1e-9) pos.qty = 0;
    if (pos.qty === 0 || before > 0 !== pos.qty > 0) {
      if (pos.bracket !== undefined) this.bracketCount--;
      pos.bracket = undefined;
    }
    const fill: Fill = {
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
      ...(slTpSameCandle ? { slTpSameCandle: true as const } : {}),
    };
    this.emit(fill);
  }

  private cancel(o: Order, timeMs: number, reason: CancelReason): true {
    this.emit({ kind: 'cancelled', orderId: o.id, symbol: o.symbol, timeMs, reason });
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

/** A small, fast, seedable PRNG (mulberry32): uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
