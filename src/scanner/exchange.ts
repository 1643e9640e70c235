import type { Candle } from '../domain/candle.js';

/** One spot market's 24 h ticker, with its instrument: what the universe filters read. */
export interface MarketTicker {
  /** ccxt's unified form, `BTC/USDT`. */
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  /** 24 h volume in quote currency. */
  readonly volume24h: number;
  readonly bid: number;
  readonly ask: number;
  readonly last: number;
}

export interface BookTop {
  readonly bids: readonly (readonly [number, number])[];
  readonly asks: readonly (readonly [number, number])[];
}

/**
 * Public market data of one exchange, as the scanner needs it (symbols in ccxt's unified form, mapped to
 * the exchange's ids by each implementation). Implementations respect the exchange's rate limits.
 */
export interface ScanExchange {
  /** What rows are stored under (`okx`, `okx-sim`, `kraken`). */
  readonly name: string;
  /** Every spot market with a ticker. */
  tickers(signal?: AbortSignal): Promise<MarketTicker[]>;
  /** The newest closed 1m candles (at most `limit`, ≤ 300) closing at or before `untilMs` (default: now), oldest first. */
  candles(symbol: string, limit: number, untilMs?: number, signal?: AbortSignal): Promise<Candle[]>;
  /** The order book's 5 best levels a side (undefined when the exchange has none). */
  book(symbol: string, signal?: AbortSignal): Promise<BookTop | undefined>;
  /**
   * The symbols the scanner follows from now on (after each universe evaluation): an exchange that streams
   * their trades (ccxt's) watches these. Optional: a REST-only exchange reads candles on demand.
   */
  track?(symbols: readonly string[]): void;
}
