import type { Observable } from 'rxjs';
import type { Candle } from '../domain/candle.js';
import { NotFoundError } from '../domain/errors.js';
import { compareTradeIds, type Trade } from '../domain/trade.js';
import { silentLogger, type Logger } from '../infra/logger.js';
import type { OkxBook } from '../streams/okx/books.js';
import { okxTrades, type OkxTradesOptions } from '../streams/okx/okxTrades.js';
import { OkxRestClient } from '../streams/okx/rest.js';
import type { RestTrade } from '../streams/okx/schemas.js';
import { okxCandle } from '../streams/okx/okxCandle.js';
import {
  toUnified,
  type ExchangeAdapter,
  type ExchangeInstrument,
  type TradeStreamOptions,
} from './exchangeAdapter.js';

export interface OkxAdapterOptions {
  /** The public WebSocket, e.g. wss://ws.okx.com:8443/ws/v5/public (or the simulator's). */
  readonly wsUrl: string;
  readonly backupWsUrl?: string;
  /** REST base, e.g. https://www.okx.com (or the simulator's). */
  readonly restUrl: string;
  /** Per REST request: no answer within this long counts as a failure (then retried). Default 10 000. */
  readonly restTimeoutMs?: number;
  /** Also subscribe `books5` of the streamed symbols and hand each top of book here. */
  readonly onBook?: (book: OkxBook) => void;
  /** Ends every REST request and wait of this adapter at once (its owner stopping); close() does too. */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** Extra feed settings (keepalive, backoff...), mostly for tests. */
  readonly feed?: Partial<Omit<OkxTradesOptions, 'symbols' | 'wsUrl' | 'rest' | 'logger' | 'onEvent'>>;
}

/**
 * OKX through its native client (src/streams/okx): `okxTrades` for the stream (which never loses a trade,
 * backfills from history-trades, reports gaps with OKX's own 1m candles and resumes stored history), and
 * the REST client for instruments, trades and candles. Symbols are OKX's instrument ids (`BTC-USDT`), ours.
 */
export class OkxAdapter implements ExchangeAdapter {
  readonly id = 'okx';
  readonly resumes = true;
  private readonly abort = new AbortController();
  private readonly rest: OkxRestClient;
  private readonly log: Logger;

  constructor(private readonly options: OkxAdapterOptions) {
    this.log = options.logger ?? silentLogger;
    const signal =
      options.signal === undefined ? this.abort.signal : AbortSignal.any([options.signal, this.abort.signal]);
    this.rest = new OkxRestClient({
      baseUrl: options.restUrl,
      logger: this.log.child({ component: 'okx-rest' }),
      signal,
      ...(options.restTimeoutMs !== undefined ? { timeoutMs: options.restTimeoutMs } : {}),
    });
  }

  async instruments(): Promise<ExchangeInstrument[]> {
    const rows = await this.rest.instruments('SPOT');
    return rows.map((i) => ({
      symbol: i.instId,
      unified: toUnified(i.instId),
      exchangeId: i.instId,
      base: i.baseCcy ?? i.instId.split('-')[0] ?? '',
      quote: i.quoteCcy ?? i.instId.split('-')[1] ?? '',
      priceStep: i.tickSz === undefined ? undefined : Number(i.tickSz),
      sizeStep: i.lotSz === undefined ? undefined : Number(i.lotSz),
      active: i.state === 'live',
    }));
  }

  trades$(symbols: readonly string[], stream: TradeStreamOptions = {}): Observable<Trade> {
    const o = this.options;
    return okxTrades({
      ...o.feed,
      symbols,
      wsUrl: o.wsUrl,
      ...(o.backupWsUrl !== undefined ? { backupWsUrl: o.backupWsUrl } : {}),
      rest: this.rest,
      logger: this.log,
      ...(stream.onEvent !== undefined ? { onEvent: stream.onEvent } : {}),
      ...(o.onBook !== undefined ? { onBook: o.onBook } : {}),
      ...(stream.resumeFromMs !== undefined ? { resumeFromMs: stream.resumeFromMs } : {}),
    });
  }

  /** history-trades, newest page first, paged back until `sinceMs` (or one page of `limit`); oldest first. */
  async fetchTrades(symbol: string, sinceMs?: number, limit = 100): Promise<Trade[]> {
    const out: RestTrade[] = [];
    let after: string | undefined;
    for (;;) {
      const rows = await this.known(symbol, () =>
        this.rest.historyTrades(symbol, { ...(after !== undefined ? { after } : {}), limit: 100 }),
      );
      out.push(...rows.filter((r) => sinceMs === undefined || Number(r.ts) >= sinceMs));
      const oldest = rows[rows.length - 1];
      if (oldest === undefined || sinceMs === undefined || Number(oldest.ts) < sinceMs || out.length >= limit)
        break;
      after = oldest.tradeId;
    }
    const trades = out.map((r): Trade => ({
      symbol,
      tradeId: r.tradeId,
      tsMs: Number(r.ts),
      price: Number(r.px),
      size: Number(r.sz),
      side: r.side,
    }));
    trades.sort((a, b) => compareTradeIds(a.tradeId, b.tradeId));
    // The oldest `limit` after `sinceMs`, or the newest `limit` without it.
    return sinceMs === undefined ? trades.slice(-limit) : trades.slice(0, limit);
  }

  /** OKX's 1m candles (its `candles` endpoint: the newest ones), oldest first; the newest may be open. */
  async fetchCandles1m(symbol: string, sinceMs?: number, limit = 100): Promise<Candle[]> {
    const rows = await this.known(symbol, () =>
      this.rest.candles(symbol, '1m', {
        limit: Math.min(300, limit),
        ...(sinceMs !== undefined ? { before: sinceMs - 1 } : {}),
      }),
    );
    return rows
      .filter((r) => sinceMs === undefined || r.openTimeMs >= sinceMs)
      .sort((a, b) => a.openTimeMs - b.openTimeMs)
      .slice(0, limit)
      .map((r) => okxCandle(symbol, r, r.confirmed));
  }

  close(): Promise<void> {
    this.abort.abort();
    return Promise.resolve();
  }

  /** Runs a REST call for `symbol`; OKX's "instrument doesn't exist" becomes NotFoundError. */
  private async known<T>(symbol: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof Error && /51001|doesn't exist|does not exist/i.test(err.message)) {
        throw new NotFoundError(`okx has no spot market ${symbol}`, { cause: err });
      }
      throw err;
    }
  }
}
