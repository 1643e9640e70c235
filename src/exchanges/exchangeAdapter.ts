import type { Observable } from 'rxjs';
import type { Candle } from '../domain/candle.js';
import type { Trade } from '../domain/trade.js';
import type { OkxFeedEvent } from '../streams/okx/okxFeedTypes.js';

/** One spot instrument of an exchange, in both forms: ours (`BTC-USDT`) and ccxt's unified (`BTC/USDT`). */
export interface ExchangeInstrument {
  /** Our symbol, `BTC-USDT`: what trades, candles and rows carry. */
  readonly symbol: string;
  /** ccxt's unified symbol, `BTC/USDT`. */
  readonly unified: string;
  /** The exchange's own id, `XBTUSDT` on Kraken. */
  readonly exchangeId: string;
  readonly base: string;
  readonly quote: string;
  readonly priceStep: number | undefined;
  readonly sizeStep: number | undefined;
  readonly active: boolean;
}

/**
 * What a trade stream reports beside its trades. The vocabulary is the native OKX client's, which uses all
 * of it (health, gaps with the exchange's 1m candles, resumed history); ccxt's adapter reports `connected`,
 * `disconnected` and `backfill`. `url` is the WebSocket the event is about (through ccxt: `kraken (ccxt.pro)`).
 */
export type FeedEvent = OkxFeedEvent;

/** Per stream: what the caller wants beside the trades. */
export interface TradeStreamOptions {
  /** Told about connections, backfills, gaps… as they happen. */
  readonly onEvent?: (event: FeedEvent) => void;
  /**
   * Per symbol: continue from this time (its newest stored minute), with the trades since from the
   * exchange's REST history, reported with a `resume` event. Adapters without `resumes` ignore it.
   */
  readonly resumeFromMs?: ReadonlyMap<string, number>;
}

/**
 * Public trades and candles of one exchange, whatever its protocol: symbols are ours (`BTC-USDT`), mapped
 * to the exchange's ids inside. The stream reconnects by itself (with backoff) and fills what it missed
 * meanwhile from REST; requests respect the exchange's rate limits.
 */
export interface ExchangeAdapter {
  /** The exchange (ccxt's id: `okx`, `kraken`, `binance`). */
  readonly id: string;
  /** Whether `trades$` honours `resumeFromMs` (continuing stored candles across a restart). */
  readonly resumes: boolean;
  /** Every spot instrument listed. */
  instruments(): Promise<ExchangeInstrument[]>;
  /**
   * The symbols' public trades as they happen (cold: subscribing connects, unsubscribing disconnects),
   * each trade once, in order per symbol. Errors when it cannot go on (OKX: no symbol left; ccxt: an
   * unknown symbol).
   */
  trades$(symbols: readonly string[], options?: TradeStreamOptions): Observable<Trade>;
  /** Recent trades, oldest first: after `sinceMs` when given, at most `limit`. */
  fetchTrades(symbol: string, sinceMs?: number, limit?: number): Promise<Trade[]>;
  /** 1m candles, oldest first: opening at or after `sinceMs` when given, at most `limit` (the last may be open). */
  fetchCandles1m(symbol: string, sinceMs?: number, limit?: number): Promise<Candle[]>;
  close(): Promise<void>;
}

/** `BTC-USDT` → `BTC/USDT`. */
export function toUnified(symbol: string): string {
  return symbol.replace('-', '/');
}

/** `BTC/USDT` → `BTC-USDT` (a settle suffix such as `:USDT` is dropped: spot only). */
export function fromUnified(unified: string): string {
  return (unified.split(':')[0] ?? unified).replace('/', '-');
}
