import type { Observable } from 'rxjs';
import type { Candle } from '../domain/candle.js';
import type { Trade } from '../domain/trade.js';

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

/** What an adapter's feed reports beside trades: connection changes and the trades it refetched over REST. */
export type AdapterEvent =
  | { readonly type: 'connected'; readonly symbols: readonly string[]; readonly reconnect: boolean }
  | {
      readonly type: 'disconnected';
      readonly symbols: readonly string[];
      readonly reason: string;
      readonly retryInMs: number;
    }
  | { readonly type: 'backfill'; readonly symbol: string; readonly trades: number; readonly fromMs: number };

/**
 * Public trades and candles of one exchange, whatever its protocol: symbols are ours (`BTC-USDT`), mapped
 * to the exchange's ids inside. The stream reconnects by itself (with backoff) and fills what it missed
 * meanwhile from REST; requests respect the exchange's rate limits.
 */
export interface ExchangeAdapter {
  /** The exchange (ccxt's id: `kraken`, `binance`). */
  readonly id: string;
  /** Every spot instrument listed. */
  instruments(): Promise<ExchangeInstrument[]>;
  /**
   * The symbols' public trades as they happen (cold: subscribing connects, unsubscribing disconnects),
   * each trade once, in order per symbol. Errors only for an unknown symbol.
   */
  trades$(symbols: readonly string[]): Observable<Trade>;
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
