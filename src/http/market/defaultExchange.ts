import { exchangesWithSymbol } from '../../../backtests/index.js';
import { DEFAULT_EXCHANGE } from '../../domain/exchange.js';
import type { Queryable } from '../../storage/database.js';

/** How long the exchange chosen for a symbol is remembered. */
export const DEFAULT_EXCHANGE_TTL_MS = 10_000;

/**
 * The exchange whose candles `/api/market/:symbol/history` shows when the request names none: `okx` when it
 * has the symbol, else the first that has. Finding out walks every exchange of `market_data` (a probe that
 * costs more than a 1000-candle read on PGlite), so a symbol's answer is remembered for `ttlMs`; a symbol
 * with no candles at all is not remembered (its first candles are seen at once).
 */
export class DefaultExchange {
  private readonly known = new Map<string, { readonly exchange: string; readonly untilMs: number }>();

  constructor(
    private readonly db: Queryable,
    private readonly ttlMs = DEFAULT_EXCHANGE_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async of(symbol: string): Promise<string> {
    const hit = this.known.get(symbol);
    if (hit !== undefined && hit.untilMs > this.now()) return hit.exchange;
    const found = await exchangesWithSymbol(this.db, symbol);
    const exchange = found.includes(DEFAULT_EXCHANGE) ? DEFAULT_EXCHANGE : (found[0] ?? DEFAULT_EXCHANGE);
    if (found.length > 0) this.known.set(symbol, { exchange, untilMs: this.now() + this.ttlMs });
    else this.known.delete(symbol);
    return exchange;
  }
}
