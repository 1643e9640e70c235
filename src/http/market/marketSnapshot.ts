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
  /** Close time of the newest candle the feed produced (the feed's clock: a fast replay runs ahead). */
  readonly lastCandleMs?: number;
  /** When (this process's wall clock, epoch ms) the last closed candle arrived from the feed. */
  readonly lastCandleSeenMs?: number;
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
  private lastCandleSeenMs: number | undefined;

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

  /** A closed candle arrived from the feed at `seenAtMs` (wall clock). */
  noteCandle(closeTimeMs: number, seenAtMs: number = Date.now()): void {
    if (this.lastCandleMs === undefined || closeTimeMs > this.lastCandleMs) this.lastCandleMs = closeTimeMs;
    if (this.lastCandleSeenMs === undefined || seenAtMs > this.lastCandleSeenMs)
      this.lastCandleSeenMs = seenAtMs;
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

  feedStatus(): FeedStatus {
    return {
      connected: this.connected,
      ...(this.lastCandleMs !== undefined ? { lastCandleMs: this.lastCandleMs } : {}),
      ...(this.lastCandleSeenMs !== undefined ? { lastCandleSeenMs: this.lastCandleSeenMs } : {}),
    };
  }
}
