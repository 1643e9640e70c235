/**
 * The messages of the trading core: what the risk manager decides (Order, Denied), what the simulated
 * venue does (Fill, OrderCancelled) and what the portfolio book reports (PortfolioSnapshot, RoundTrip);
 * `tradeStrategy` carries them on its steps. Every message has a `kind`. Times are integer epoch milliseconds; prices in quote currency, quantities
 * in base units, always positive (the direction is in `side`).
 */

/** Direction of an order or a fill. */
export type OrderSide = 'buy' | 'sell';

/** Direction of a position. Only `long` (spot) is opened today; the accounting already handles `short`. */
export type PositionSide = 'long' | 'short';

/**
 * - `market`: fills at the next price (next candle's open, next trade).
 * - `limit`: buy at `limitPrice` or lower / sell at it or higher (maker fee).
 * - `stop`: becomes a market order once the price trades through `stopPrice` (taker fee).
 */
export type OrderType = 'market' | 'limit' | 'stop';

/** Why a fill happened. `entry`/`exit` come from signals, the others from the position's exit plan. */
export type FillPurpose = 'entry' | 'exit' | 'stop_loss' | 'take_profit' | 'trailing_stop';

/** One take-profit level of an exit plan, resolved to fractions. */
export interface TakeProfitLevel {
  /** Price distance from the entry price, as a fraction (0.015 = 1.5 %). */
  readonly distance: number;
  /** Fraction of the quantity first entered that this level closes (0.3 = 30 %). */
  readonly fraction: number;
}

/**
 * The protective exits that ride with an entry order. The venue turns them into price levels from the
 * actual fill price and watches them on every later price; distances are fractions (0.02 = 2 %).
 */
export interface ExitPlan {
  readonly stopLoss?: number;
  /** Ascending by distance. A level's quantity is rounded down to `qtyStep`; the last level reached closes the rest when the fractions add up to 1. */
  readonly takeProfits: readonly TakeProfitLevel[];
  /** Once the price has moved `activation` in favour, a stop follows the best price at `offset` behind it. */
  readonly trailing?: { readonly activation: number; readonly offset: number };
}

export interface Order {
  readonly kind: 'order';
  /** Sequential per risk manager: orders are reproducible run to run. */
  readonly id: number;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly qty: number;
  readonly limitPrice?: number;
  readonly stopPrice?: number;
  /** `entry` opens or adds to a position, `exit` only reduces one (capped at what is held). */
  readonly purpose: 'entry' | 'exit';
  /** When it was decided (the close time of the candle the signal came from). It never fills on a price before that. */
  readonly createdTimeMs: number;
  /** The signal's reason, carried to the fill for the trades table. */
  readonly reason: string;
  /** Spot: the most quote currency (fees included) this order may spend; the quantity is cut down to fit at fill time. */
  readonly maxCost?: number;
  /** Quantity increment the venue rounds cut-down or partial-exit quantities down to (0: none). */
  readonly qtyStep: number;
  /** Smallest quantity the venue may fill for this position's exits (partial take-profits below it are skipped). */
  readonly minQty: number;
  /** Protective exits for the position this entry opens. */
  readonly exitPlan?: ExitPlan;
  /** Limit and stop orders still unfilled at this time are cancelled (`expired`). */
  readonly expiresAtMs?: number;
}

export type DeniedReason =
  | 'invalid_price'
  | 'position_open'
  | 'no_position'
  | 'max_open_positions'
  | 'below_minimum'
  | 'insufficient_cash';

/** A signal the risk manager refused. A domain event, never an exception. */
export interface Denied {
  readonly kind: 'denied';
  readonly symbol: string;
  /** The signal's decision time. */
  readonly timeMs: number;
  readonly action: 'buy' | 'sell';
  readonly reason: DeniedReason;
  /** One line a person can read, with the numbers. */
  readonly message: string;
}

export interface Fill {
  readonly kind: 'fill';
  readonly orderId: number;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly qty: number;
  /** Execution price, slippage included. */
  readonly price: number;
  /** Fee paid in quote currency: `feeRate × qty × price`. */
  readonly fee: number;
  readonly liquidity: 'maker' | 'taker';
  /** When the price occurred: a trade's time, or the open time of the candle it filled in. */
  readonly timeMs: number;
  readonly purpose: FillPurpose;
  readonly reason: string;
  /** Set on a stop-loss that shared its candle with a take-profit level (assumed to have come first). */
  readonly slTpSameCandle?: true;
}

export type CancelReason = 'expired' | 'insufficient_cash' | 'no_position';

export interface OrderCancelled {
  readonly kind: 'cancelled';
  readonly orderId: number;
  readonly symbol: string;
  readonly timeMs: number;
  readonly reason: CancelReason;
}

/** An open position. Immutable: the portfolio replaces it on every fill. */
export interface Position {
  readonly symbol: string;
  readonly side: PositionSide;
  /** Open quantity, > 0. */
  readonly qty: number;
  /** Quantity-weighted average of the entry fill prices (fees excluded). */
  readonly avgEntryPrice: number;
  /** Time of the first entry fill. */
  readonly entryTimeMs: number;
  /** Entry fees not yet attributed to a round trip (shared out pro rata as the position is reduced). */
  readonly entryFees: number;
}

/**
 * The account after a candle. `equity = cash + Σ signed qty × last price` and
 * `equity = initialCash + realizedPnl + unrealizedPnl − feesPaid`.
 */
export interface PortfolioSnapshot {
  readonly kind: 'snapshot';
  /** Close time of the candle just marked. */
  readonly timeMs: number;
  readonly symbol: string;
  /** That candle's close. */
  readonly price: number;
  readonly cash: number;
  readonly equity: number;
  /** Σ signed qty × last price over the open positions. */
  readonly positionsValue: number;
  /** Gross P&L of the quantity closed so far (fees excluded). */
  readonly realizedPnl: number;
  /** Gross P&L of the open quantity at the last prices (fees excluded). */
  readonly unrealizedPnl: number;
  readonly feesPaid: number;
  /** Round trips closed so far (a partial exit is one). */
  readonly closedTrades: number;
  /** Those with a net pnl > 0. */
  readonly winningTrades: number;
  /** The open positions; the same array object until a fill changes them. */
  readonly positions: readonly Position[];
}

/**
 * A closed round trip (or the part of one a partial exit closed). `pnl` is net of the exit fill's fee and
 * the entry fee's share for `qty`, so Σ pnl equals the equity change once flat. `fees` is that fee total.
 */
export interface RoundTrip {
  readonly kind: 'round_trip';
  readonly symbol: string;
  readonly side: PositionSide;
  readonly entryTimeMs: number;
  readonly exitTimeMs: number;
  readonly entryPrice: number;
  readonly exitPrice: number;
  readonly qty: number;
  readonly pnl: number;
  readonly fees: number;
  /** `pnl / (entryPrice × qty)`. */
  readonly returnPct: number;
  readonly exitPurpose: FillPurpose;
}

export type RiskDecision = Order | Denied;
export type VenueEvent = Fill | OrderCancelled;
