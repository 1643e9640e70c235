import * as z from 'zod';
import { InvalidDataError } from '../errors.js';
import { once } from '../once.js';

/**
 * The saved state of a TradingEngine (`engine.snapshot()`, `TradingEngine.restore(state, …)`): plain JSON,
 * so it can go through `JSON.stringify`, a jsonb column or a message and come back exact (numbers print
 * as their shortest round-trip form; what would be NaN or ±∞ in memory is `null` here).
 *
 * It holds what the engine needs to go on as if it had never stopped: the account (cash, every holding
 * with its last price and time, average entry, entry fees, realized P&L, fees, trade counts), what the risk
 * manager remembers (the order-id counter, pending entries and the cash they hold, pending exits), and
 * the venue (resting orders, each position's exits — stop, take-profit levels done and left, trailing
 * activation, best price and level — and the slippage generator). Not in it: the configuration (risk,
 * fees, slippage model: given again at restore, so a bot can change them) and the strategy's indicators
 * (a bot warms them up again on stored candles).
 *
 * Versioned by `v`; a change of meaning gets a new version and a migration here.
 */

export const ENGINE_STATE_VERSION = 1;

/** The snapshot's schema, built on first use (see once): only a bot restoring an engine parses one. */
export const engineStateSchema = once(buildEngineStateSchema);

function buildEngineStateSchema() {
  const finite = z.number().finite();
  const nonNegative = finite.nonnegative();
  const positive = finite.positive();
  const time = z.number().int();
  const symbol = z.string().min(1);
  const orderId = z.number().int().nonnegative();

  const holdingSchema = z.strictObject({
    symbol,
    /** Signed: > 0 long, < 0 short, 0 flat. */
    qty: finite,
    avgEntryPrice: nonNegative,
    entryTimeMs: time,
    entryFees: finite,
    /** null: never priced. */
    lastPrice: positive.nullable(),
    lastPriceTimeMs: time.nullable(),
  });

  const bookSchema = z.strictObject({
    initialCash: nonNegative,
    cash: finite,
    realizedPnl: finite,
    feesPaid: nonNegative,
    closedTrades: z.number().int().nonnegative(),
    winningTrades: z.number().int().nonnegative(),
    /** Every symbol the book has seen, in that order. */
    holdings: z.array(holdingSchema),
    /** Symbols of the open positions, in the order they were opened. */
    open: z.array(symbol),
  });

  const riskSchema = z.strictObject({
    /** The id the next order gets. */
    nextOrderId: z.number().int().positive(),
    pendingEntries: z.array(z.strictObject({ symbol, orderId, cost: nonNegative })),
    pendingExits: z.array(z.strictObject({ symbol, orderId })),
    /** Cash promised to pending entries. */
    reserved: finite,
  });

  const exitPlanSchema = z.strictObject({
    stopLoss: positive.optional(),
    takeProfits: z.array(z.strictObject({ distance: positive, fraction: positive })).readonly(),
    trailing: z.strictObject({ activation: nonNegative, offset: positive }).optional(),
  });

  const orderSchema = z.strictObject({
    kind: z.literal('order'),
    id: orderId,
    symbol,
    side: z.enum(['buy', 'sell']),
    type: z.enum(['market', 'limit', 'stop']),
    qty: positive,
    limitPrice: positive.optional(),
    stopPrice: positive.optional(),
    purpose: z.enum(['entry', 'exit']),
    createdTimeMs: time,
    reason: z.string(),
    maxCost: nonNegative.optional(),
    qtyStep: nonNegative,
    minQty: nonNegative,
    exitPlan: exitPlanSchema.optional(),
    expiresAtMs: time.optional(),
  });

  const bracketSchema = z.strictObject({
    symbol,
    /** The entry order the exits belong to (their fills carry its id). */
    entryOrderId: orderId,
    side: z.enum(['long', 'short']),
    /** null: no stop-loss. */
    stopLossPrice: positive.nullable(),
    /** Every level of the plan, nearest first; qty null: all that is left. */
    takeProfits: z.array(z.strictObject({ price: positive, qty: nonNegative.nullable() })),
    /** How many of them are done (filled or skipped). */
    takeProfitsDone: z.number().int().nonnegative(),
    /** null: no trailing stop. */
    trailingActivationPrice: positive.nullable(),
    trailingOffset: nonNegative,
    /** Whether the trailing stop is following the best price yet. */
    trailing: z.boolean(),
    /** The best price since the entry (the highest for a long). */
    bestPrice: positive,
    /** The trailing stop's level; null until it is trailing. */
    trailingStopPrice: finite.nullable(),
    qtyStep: nonNegative,
    minQty: nonNegative,
    /** Exits are watched on prices from this time on. */
    activeFromMs: time,
  });

  const venueSchema = z.strictObject({
    /** Orders waiting for a price, in submission order. */
    pendingOrders: z.array(orderSchema),
    brackets: z.array(bracketSchema),
    slTpSameCandle: z.number().int().nonnegative(),
    /** The random slippage generator (null: fixed slippage). */
    slippageRng: z
      .strictObject({ seed: z.number().int(), state: z.number().int().min(0).max(0xffffffff) })
      .nullable(),
  });

  return z.strictObject({
    v: z.literal(ENGINE_STATE_VERSION),
    /** Close time of the last candle whose prices the engine used (fills, exits, marks); null: none yet. */
    pricedToMs: time.nullable(),
    /** Close time of the last candle a decision was taken on; null: none yet. */
    decidedToMs: time.nullable(),
    book: bookSchema,
    risk: riskSchema,
    venue: venueSchema,
  });
}

export type EngineState = z.output<ReturnType<typeof buildEngineStateSchema>>;
export type BookState = EngineState['book'];
export type HoldingState = BookState['holdings'][number];
export type RiskState = EngineState['risk'];
export type VenueState = EngineState['venue'];
export type BracketState = VenueState['brackets'][number];

/**
 * Checks a stored snapshot: its shape (strict: an unknown key is an error) and that its parts agree with
 * each other. Throws InvalidDataError naming the first bad key (`engine snapshot: venue.brackets.0.side: …`).
 */
export function parseEngineState(input: unknown): EngineState {
  if (typeof input === 'object' && input !== null && 'v' in input && input.v !== ENGINE_STATE_VERSION) {
    throw new InvalidDataError(
      `engine snapshot: v: version ${JSON.stringify(input.v)} is not one this rxtrade reads (${ENGINE_STATE_VERSION}); ` +
        'start the bot from a fresh engine or use the rxtrade version that wrote it',
    );
  }
  const parsed = engineStateSchema().safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue === undefined || issue.path.length === 0 ? '(the snapshot)' : issue.path.join('.');
    throw new InvalidDataError(`engine snapshot: ${path}: ${issue?.message ?? 'invalid'}`);
  }
  const s = parsed.data;
  const held = new Map(s.book.holdings.map((h) => [h.symbol, h.qty]));
  const bad = (path: string, what: string): InvalidDataError =>
    new InvalidDataError(`engine snapshot: ${path}: ${what}`);
  if (held.size !== s.book.holdings.length) throw bad('book.holdings', 'a symbol appears twice');
  s.book.open.forEach((sym, i) => {
    if (!((held.get(sym) ?? 0) !== 0))
      throw bad(`book.open.${i}`, `${sym} has no open holding in book.holdings`);
  });
  const openCount = s.book.holdings.filter((h) => h.qty !== 0).length;
  if (new Set(s.book.open).size !== openCount) {
    throw bad('book.open', `lists ${s.book.open.length} positions, book.holdings has ${openCount} open`);
  }
  s.venue.brackets.forEach((b, i) => {
    const qty = held.get(b.symbol) ?? 0;
    if (qty === 0 || qty > 0 !== (b.side === 'long')) {
      throw bad(`venue.brackets.${i}.side`, `no open ${b.side} ${b.symbol} position in book.holdings`);
    }
    if (b.takeProfitsDone > b.takeProfits.length) {
      throw bad(
        `venue.brackets.${i}.takeProfitsDone`,
        `${b.takeProfitsDone} of ${b.takeProfits.length} levels`,
      );
    }
  });
  const resting = new Set(s.venue.pendingOrders.map((o) => o.id));
  for (const [key, list] of [
    ['pendingEntries', s.risk.pendingEntries],
    ['pendingExits', s.risk.pendingExits],
  ] as const) {
    list.forEach((p, i) => {
      if (!resting.has(p.orderId)) {
        throw bad(`risk.${key}.${i}.orderId`, `order ${p.orderId} is not in venue.pendingOrders`);
      }
    });
  }
  return s;
}
