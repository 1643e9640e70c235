/** The latest top of book of a symbol (OKX `books5`): best first on both sides. */
export interface OrderBookTop {
  readonly symbol: string;
  readonly tsMs: number;
  /** `[price, size]`, highest bid first. */
  readonly bids: readonly (readonly [number, number])[];
  /** `[price, size]`, lowest ask first. */
  readonly asks: readonly (readonly [number, number])[];
}

export interface MarketTrade {
  readonly tsMs: number;
  readonly price: number;
  readonly size: number;
  readonly side: 'buy' | 'sell';
  readonly tradeId: string;
}

export interface FeedStatus {
  readonly connected: boolean;
  /** Close time of the last candle the feed produced. */
  readonly lastCandleMs?: number;
}

/**
 * What the API reads of the live feed: the latest order book and recent trades per symbol, and whether the
 * feed is connected. The feed side writes into an implementation (`InMemoryMarketSnapshot`).
 */
export interface MarketSnapshot {
  orderbook(symbol: string): OrderBookTop | undefined;
  /** The most recent trades of `symbol`, newest first, at most `limit`. */
  trades(symbol: string, limit: number): MarketTrade[];
  feedStatus(): FeedStatus;
}

/** Trades kept per symbol. */
export const TRADES_KEPT = 500;

/**
 * A MarketSnapshot the feed fills: `updateBook` with each books5 frame, `addTrade` with each trade,
 * `setConnected` on (dis)connection and `noteCandle` with each closed candle. Keeps the last
 * `TRADES_KEPT` trades per symbol in a ring.
 */
export class InMemoryMarketSnapshot implements MarketSnapshot {
  private readonly books = new Map<string, OrderBookTop>();
  private readonly rings = new Map<string, { items: MarketTrade[]; next: number }>();
  private connected = false;
  private lastCandleMs: number | undefined;

  constructor(private readonly kept = TRADES_KEPT) {}

  updateBook(book: OrderBookTop): void {
    this.books.set(book.symbol, book);
  }

  addTrade(symbol: string, trade: MarketTrade): void {
    let ring = this.rings.get(symbol);
    if (ring === undefined) this.rings.set(symbol, (ring = { items: [], next: 0 }));
    if (ring.items.length < this.kept) ring.items.push(trade);
    else ring.items[ring.next] = trade;
    ring.next = (ring.next + 1) % this.kept;
  }

  setConnected(connected: boolean): void {
    this.connected = connected;
  }

  noteCandle(closeTimeMs: number): void {
    if (this.lastCandleMs === undefined || closeTimeMs > this.lastCandleMs) this.lastCandleMs = closeTimeMs;
  }

  orderbook(symbol: string): OrderBookTop | undefined {
    return this.books.get(symbol);
  }

  trades(symbol: string, limit: number): MarketTrade[] {
    const ring = this.rings.get(symbol);
    if (ring === undefined) return [];
    const n = ring.items.length;
    const out: MarketTrade[] = [];
    // The newest is just before `next`.
    for (let k = 1; k <= Math.min(limit, n); k++) {
      out.push(ring.items[(ring.next - k + n) % n] as MarketTrade);
    }
    return out;
  }

  feedStatus(): { connected: boolean; lastCandleMs?: number } {
    return {
      connected: this.connected,
      ...(this.lastCandleMs !== undefined ? { lastCandleMs: this.lastCandleMs } : {}),
    };
  }
}
