import type { Exchange } from 'ccxt';
import { merge, Observable, type Subscriber } from 'rxjs';
import type { Candle } from '../domain/candle.js';
import { NotFoundError, UsageError } from '../domain/errors.js';
import { compareTradeIds, type Trade } from '../domain/trade.js';
import { sleep, untilAborted } from '../infra/abort.js';
import { backoffMs } from '../infra/rateLimiter.js';
import { candleFromOhlcv, tradeFromCcxt } from './ccxtMapping.js';
import {
  fromUnified,
  toUnified,
  type AdapterEvent,
  type ExchangeAdapter,
  type ExchangeInstrument,
} from './exchangeAdapter.js';

/** Trades ccxt keeps per symbol between two `watchTrades` calls. */
const TRADES_CACHE = 100_000;

export interface CcxtAdapterOptions {
  /** ccxt's exchange id: `kraken`, `binance`… (its `ccxt.pro` class). */
  readonly exchange: string;
  /** Overrides of ccxt's `urls` (deep-merged), e.g. a simulator's: `{ api: { public, ws: { publicV2 } } }`. */
  readonly urls?: Record<string, unknown>;
  readonly onEvent?: (event: AdapterEvent) => void;
  /** Reconnect backoff: base·2^(n−1) ms capped at max, ±20 %. Default 500 ms … 30 s. */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Clock for deciding whether the newest candle is closed. Default Date.now. */
  readonly now?: () => number;
}

/**
 * Any exchange ccxt supports, through ccxt.pro: `watchTrades` for the stream, `fetchTrades` to fill what a
 * reconnect missed, `fetchOHLCV` for 1m candles. ccxt's own rate limiter paces every request
 * (`enableRateLimit`); its WebSocket client keeps the connection alive (pings) and reconnects on the next
 * watch after an error, which this adapter retries with exponential backoff.
 */
export class CcxtAdapter implements ExchangeAdapter {
  private markets: Promise<ExchangeInstrument[]> | undefined;
  private readonly now: () => number;

  private constructor(
    private readonly ex: Exchange,
    private readonly options: CcxtAdapterOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get id(): string {
    return this.options.exchange;
  }

  /** Loads ccxt (lazily: it is large) and makes the exchange; plain ws:// URLs (a simulator) are allowed. */
  static async create(options: CcxtAdapterOptions): Promise<CcxtAdapter> {
    const ccxt = (await import('ccxt')).default;
    const pro = ccxt.pro as unknown as Record<string, (new (config: object) => Exchange) | undefined>;
    const Class = Object.hasOwn(pro, options.exchange) ? pro[options.exchange] : undefined;
    if (typeof Class !== 'function') {
      throw new UsageError(
        `--exchange ${options.exchange}: ccxt.pro has no such exchange (it knows e.g. kraken, binance, coinbase)`,
      );
    }
    // ccxt keeps the newest `tradesLimit` trades per symbol between two watches (default 1000): a busy
    // market outpaces that while the pipeline is busy, so keep far more.
    const ex = new Class({
      enableRateLimit: true,
      options: { tradesLimit: TRADES_CACHE },
      ...(options.urls !== undefined ? { urls: options.urls } : {}),
    });
    // ccxt refuses non-TLS WebSockets until this ran (its documented way to reach a local server).
    if (JSON.stringify(options.urls ?? {}).includes('"ws://')) await ex.loadHttpProxyAgent();
    return new CcxtAdapter(ex, options);
  }

  instruments(): Promise<ExchangeInstrument[]> {
    const loading =
      this.markets ??
      this.ex.loadMarkets().then((markets) =>
        Object.values(markets).flatMap((m): ExchangeInstrument[] =>
          m?.spot === true && m.id !== undefined
            ? [
                {
                  symbol: fromUnified(m.symbol),
                  unified: m.symbol,
                  exchangeId: m.id,
                  base: m.base,
                  quote: m.quote,
                  priceStep: m.precision.price,
                  sizeStep: m.precision.amount,
                  active: m.active !== false,
                },
              ]
            : [],
        ),
      );
    this.markets = loading;
    loading.catch(() => (this.markets = undefined));
    return loading;
  }

  trades$(symbols: readonly string[]): Observable<Trade> {
    return merge(...symbols.map((s) => this.symbolTrades(s)));
  }

  async fetchTrades(symbol: string, sinceMs?: number, limit?: number): Promise<Trade[]> {
    await this.known(symbol);
    const rows = await this.ex.fetchTrades(toUnified(symbol), sinceMs, limit);
    return rows
      .flatMap((t) => tradeFromCcxt(symbol, t) ?? [])
      .sort((a, b) => compareTradeIds(a.tradeId, b.tradeId));
  }

  async fetchCandles1m(symbol: string, sinceMs?: number, limit?: number): Promise<Candle[]> {
    await this.known(symbol);
    const rows = await this.ex.fetchOHLCV(toUnified(symbol), '1m', sinceMs, limit);
    const now = this.now();
    return rows.flatMap((r) => candleFromOhlcv(symbol, r, now) ?? []);
  }

  async close(): Promise<void> {
    await this.ex.close();
  }

  private async known(symbol: string): Promise<void> {
    const list = await this.instruments();
    if (!list.some((i) => i.symbol === symbol)) {
      throw new NotFoundError(`${this.id} has no spot market ${symbol} (${toUnified(symbol)})`);
    }
  }

  private symbolTrades(symbol: string): Observable<Trade> {
    return new Observable<Trade>((subscriber) => {
      const abort = new AbortController();
      void this.watchLoop(symbol, subscriber, abort.signal);
      return () => abort.abort();
    });
  }

  /**
   * Watches one symbol until unsubscribed: each trade once, in id order. After an error it waits (backoff),
   * watches again, and fills the hole from REST trades since the last one it passed on.
   */
  private async watchLoop(symbol: string, out: Subscriber<Trade>, signal: AbortSignal): Promise<void> {
    try {
      await this.known(symbol);
    } catch (err) {
      out.error(err);
      return;
    }
    const unified = toUnified(symbol);
    let last: Trade | undefined;
    let attempt = 0;
    let connected = false;
    let hole = false;
    const emit = (trades: readonly Trade[]): void => {
      for (const t of [...trades].sort((a, b) => compareTradeIds(a.tradeId, b.tradeId))) {
        if (last !== undefined && compareTradeIds(t.tradeId, last.tradeId) <= 0) continue;
        last = t;
        out.next(t);
      }
    };
    while (!signal.aborted) {
      try {
        const batch = await untilAborted(this.ex.watchTrades(unified), signal, `watching ${symbol}`);
        const trades = batch.flatMap((t) => tradeFromCcxt(symbol, t) ?? []);
        if (!connected || attempt > 0) {
          this.options.onEvent?.({ type: 'connected', symbol, reconnect: connected });
          connected = true;
          attempt = 0;
        }
        if (hole && last !== undefined) {
          const fromMs = last.tsMs;
          const missed = await untilAborted(
            this.fetchTrades(symbol, fromMs - 1000, 1000),
            signal,
            'backfill',
          );
          const before = last.tradeId;
          emit(
            missed.filter(
              (t) => trades.length === 0 || compareTradeIds(t.tradeId, trades[0]?.tradeId ?? '') < 0,
            ),
          );
          const filled = missed.filter((t) => compareTradeIds(t.tradeId, before) > 0).length;
          this.options.onEvent?.({ type: 'backfill', symbol, trades: filled, fromMs });
        }
        hole = false;
        emit(trades);
      } catch (err) {
        if (signal.aborted) return;
        attempt += 1;
        hole = true;
        const wait = backoffMs(
          attempt,
          this.options.backoff?.baseMs ?? 500,
          this.options.backoff?.maxMs ?? 30_000,
          0.2,
          Math.random,
        );
        this.options.onEvent?.({
          type: 'disconnected',
          symbol,
          reason: err instanceof Error ? err.message : String(err),
          retryInMs: wait,
        });
        try {
          await sleep(wait, signal);
        } catch {
          return;
        }
      }
    }
  }
}
