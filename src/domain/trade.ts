import { InvalidDataError } from './errors.js';

/** Side of the taker (the aggressor); `unknown` when the source does not say. */
export type TradeSide = 'buy' | 'sell' | 'unknown';

/** One executed trade as the exchange reported it. Times are integer epoch milliseconds. */
export interface Trade {
  readonly symbol: string;
  /** The exchange's trade id, as given. Ordered numerically when it is all digits (see compareTradeIds). */
  readonly tradeId: string;
  readonly tsMs: number;
  readonly price: number;
  readonly size: number;
  readonly side: TradeSide;
  /**
   * How many exchange trades this record stands for (default 1). OKX's `trades` channel pushes one record
   * per taker order: `tradeId` is the last id and `count` trades (ids tradeId−count+1 … tradeId) at one price.
   */
  readonly count?: number;
}

/**
 * Order of two trade ids: shorter first, then by character codes. For ids made of digits without leading
 * zeros (every exchange we speak to) that is numeric order, without parsing; other ids get a stable order.
 */
export function compareTradeIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Time order of trades: by `tsMs`, ties broken by trade id. */
export function compareTrades(a: Trade, b: Trade): number {
  return a.tsMs - b.tsMs || compareTradeIds(a.tradeId, b.tradeId);
}

/** The reason a trade is impossible, or undefined when it is fine. Cheap enough for hot paths. */
export function tradeProblem(t: Trade): string | undefined {
  if (!Number.isSafeInteger(t.tsMs)) return `timestamp ${t.tsMs} is not an integer epoch-ms time`;
  if (!(t.price > 0) || t.price === Infinity) return `price ${t.price} is not a positive finite number`;
  if (!(t.size >= 0) || t.size === Infinity) return `size ${t.size} is not a finite number ≥ 0`;
  if (t.symbol.length === 0) return 'symbol is empty';
  if (t.count !== undefined && !(Number.isSafeInteger(t.count) && t.count >= 1))
    return `count ${t.count} is not an integer ≥ 1`;
  return undefined;
}

/** Throws InvalidDataError naming the problem and the trade when `t` is impossible; returns it otherwise. */
export function validateTrade(t: Trade): Trade {
  const problem = tradeProblem(t);
  if (problem !== undefined) {
    throw new InvalidDataError(`invalid trade ${t.symbol || '?'} #${t.tradeId}: ${problem}`);
  }
  return t;
}
