import type { z } from 'zod';
import { RxtradeError } from '../../domain/errors.js';
import { interruptedBy, linkSignals, sleep } from '../../infra/abort.js';
import { silentLogger, type Logger } from '../../infra/logger.js';
import { backoffMs, RateLimiter } from '../../infra/rateLimiter.js';
import {
  bookRowSchema,
  candleRowSchema,
  describeZodError,
  instrumentSchema,
  restEnvelopeSchema,
  restTradeSchema,
  tickerRowSchema,
  type BookRow,
  type CandleRow,
  type Instrument,
  type RestTrade,
  type TickerRow,
} from './schemas.js';

/** An answer from OKX that is an error (`code` ≠ "0", even with HTTP 200), or a body we cannot read. */
export class OkxRestError extends RxtradeError {
  constructor(
    readonly path: string,
    readonly okxCode: string,
    readonly httpStatus: number,
    message: string,
  ) {
    super('okx_rest', `OKX ${path}: ${message} (code ${okxCode}, HTTP ${httpStatus})`);
    this.name = 'OkxRestError';
  }
}

export interface OkxRestOptions {
  /** e.g. https://www.okx.com, or the simulator's http://127.0.0.1:PORT */
  readonly baseUrl: string;
  readonly logger?: Logger;
  /** Per request: no answer (headers and body) within this long counts as a network error. Default 10 000. */
  readonly timeoutMs?: number;
  /** Retries for rate limits (429 / 50011), 5xx, 50001/50026 and network errors. Default 6. */
  readonly maxRetries?: number;
  readonly backoffBaseMs?: number;
  readonly random?: () => number;
  /**
   * The clock the rate limits are counted on. Default Date.now; the simulator's when it runs faster than
   * real time (its limits are on its own clock).
   */
  readonly now?: () => number;
  /**
   * Aborts every request of this client, and every wait before one (rate-limit slot, backoff), at once:
   * its owner stopping. Calls then reject with InterruptedError.
   */
  readonly signal?: AbortSignal;
}

/** Per call: its own abort (a feed stopping, a deadline) and retry budget. */
export interface RestCall {
  readonly signal?: AbortSignal;
  /** Instead of the client's `maxRetries`, e.g. fewer where waiting matters more than completeness. */
  readonly maxRetries?: number;
}

/** Per-endpoint limits from OKX's documentation (requests per 2 s, per IP). */
const LIMITS: Record<string, number> = {
  '/api/v5/market/candles': 40,
  '/api/v5/market/history-candles': 20,
  '/api/v5/market/trades': 100,
  '/api/v5/market/history-trades': 20,
  '/api/v5/public/instruments': 20,
  '/api/v5/market/tickers': 20,
  '/api/v5/market/books': 40,
};
const RETRYABLE_CODES = new Set(['50011', '50001', '50026', '50013']);

export interface TradesSince {
  /** Trades with id > the given id, oldest first, individual (one per exchange trade). */
  readonly trades: RestTrade[];
  /** False when REST history ended before reaching the given id: trades in between are lost to REST. */
  readonly complete: boolean;
}

/**
 * OKX v5 public REST: instruments, candles, history-candles, history-trades. Rate limits are honoured
 * before sending (a sliding window per endpoint) and after (429 / 50011 back off with jitter and retry).
 * Every request has a timeout, and every request and wait ends at once when the client's or the call's
 * AbortSignal fires (InterruptedError), leaving no timer behind.
 */
export class OkxRestClient {
  private readonly limiters = new Map<string, RateLimiter>();
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly backoffBaseMs: number;
  private readonly random: () => number;
  rateLimitedCount = 0;

  constructor(private readonly options: OkxRestOptions) {
    this.log = options.logger ?? silentLogger;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxRetries = options.maxRetries ?? 6;
    this.backoffBaseMs = options.backoffBaseMs ?? 500;
    this.random = options.random ?? Math.random;
  }

  async instruments(instType = 'SPOT', instId?: string, call: RestCall = {}): Promise<Instrument[]> {
    return this.getRows('/api/v5/public/instruments', { instType, instId }, instrumentSchema, call);
  }

  /** Every instrument's 24 h ticker of one type. */
  async tickers(instType = 'SPOT', call: RestCall = {}): Promise<TickerRow[]> {
    return this.getRows('/api/v5/market/tickers', { instType }, tickerRowSchema, call);
  }

  /** The order book's best `depth` levels a side. */
  async books(instId: string, depth = 5, call: RestCall = {}): Promise<BookRow | undefined> {
    const rows = await this.getRows(
      '/api/v5/market/books',
      { instId, sz: String(depth) },
      bookRowSchema,
      call,
    );
    return rows[0];
  }

  /** One page of history-trades, newest first. `after`/`before` are exclusive tradeId cursors (type 1). */
  async historyTrades(
    instId: string,
    page: { after?: string; before?: string; limit?: number } = {},
    call: RestCall = {},
  ): Promise<RestTrade[]> {
    return this.getRows(
      '/api/v5/market/history-trades',
      { instId, type: '1', after: page.after, before: page.before, limit: String(page.limit ?? 100) },
      restTradeSchema,
      call,
    );
  }

  /**
   * Every trade after `lastTradeId` (and before `beforeTradeId` when given), paging backwards with `after`
   * until it is reached. Stops after `maxPages` (then `complete` is false, like history running out).
   */
  async tradesSince(
    instId: string,
    lastTradeId: number,
    beforeTradeId?: number,
    maxPages = 500,
    call: RestCall = {},
  ): Promise<TradesSince> {
    const collected: RestTrade[] = [];
    // With `beforeTradeId` (what the WebSocket already delivered starts there) only the hole is fetched.
    let after: string | undefined = beforeTradeId === undefined ? undefined : String(beforeTradeId);
    for (let page = 0; page < maxPages; page++) {
      const rows = await this.historyTrades(instId, after === undefined ? {} : { after }, call);
      if (rows.length === 0) break;
      for (const row of rows) {
        if (Number(row.tradeId) <= lastTradeId) return { trades: collected.reverse(), complete: true };
        collected.push(row);
      }
      after = (rows[rows.length - 1] as RestTrade).tradeId;
    }
    const oldest = collected[collected.length - 1];
    const complete = oldest === undefined || Number(oldest.tradeId) === lastTradeId + 1;
    return { trades: collected.reverse(), complete };
  }

  /**
   * Every trade with `fromMs ≤ ts` and id < `beforeTradeId`, oldest first, paging history-trades backwards
   * from `beforeTradeId`: what a restarted collector missed between its newest stored minute and the first
   * push of the live stream. `complete` is true once a trade older than `fromMs` was seen; false when REST
   * history ended first or after `maxPages` pages (the trades before the oldest returned are lost to REST).
   */
  async tradesFromTime(
    instId: string,
    fromMs: number,
    beforeTradeId: number,
    maxPages = 500,
    call: RestCall = {},
  ): Promise<TradesSince> {
    const collected: RestTrade[] = [];
    let after = String(beforeTradeId);
    for (let page = 0; page < maxPages; page++) {
      const rows = await this.historyTrades(instId, { after }, call);
      if (rows.length === 0) break;
      for (const row of rows) {
        if (Number(row.ts) < fromMs) return { trades: collected.reverse(), complete: true };
        collected.push(row);
      }
      after = (rows[rows.length - 1] as RestTrade).tradeId;
    }
    return { trades: collected.reverse(), complete: false };
  }

  /** One page of candles (latest 1,440 bars), newest first. */
  async candles(
    instId: string,
    bar: string,
    page: { after?: number; before?: number; limit?: number } = {},
    call: RestCall = {},
  ): Promise<CandleRow[]> {
    return this.candlePage('/api/v5/market/candles', instId, bar, page, call);
  }

  async historyCandles(
    instId: string,
    bar: string,
    page: { after?: number; before?: number; limit?: number } = {},
    call: RestCall = {},
  ): Promise<CandleRow[]> {
    return this.candlePage('/api/v5/market/history-candles', instId, bar, page, call);
  }

  /** Confirmed bars with `fromMs ≤ open time < toMs`, oldest first, paging history-candles backwards. */
  async historyCandlesRange(
    instId: string,
    bar: string,
    fromMs: number,
    toMs: number,
    call: RestCall = {},
  ): Promise<CandleRow[]> {
    const out: CandleRow[] = [];
    let after = toMs;
    for (let guard = 0; guard < 10_000; guard++) {
      const rows = await this.historyCandles(instId, bar, { after, limit: 100 }, call);
      if (rows.length === 0) break;
      for (const row of rows)
        if (row.openTimeMs >= fromMs && row.openTimeMs < toMs && row.confirmed) out.push(row);
      const oldest = (rows[rows.length - 1] as CandleRow).openTimeMs;
      if (oldest <= fromMs) break;
      after = oldest;
    }
    return out.sort((a, b) => a.openTimeMs - b.openTimeMs);
  }

  private candlePage(
    path: string,
    instId: string,
    bar: string,
    page: { after?: number; before?: number; limit?: number },
    call: RestCall,
  ): Promise<CandleRow[]> {
    return this.getRows(
      path,
      {
        instId,
        bar,
        after: page.after === undefined ? undefined : String(page.after),
        before: page.before === undefined ? undefined : String(page.before),
        limit: page.limit === undefined ? undefined : String(page.limit),
      },
      candleRowSchema,
      call,
    );
  }

  private async getRows<S extends z.ZodType>(
    path: string,
    params: Record<string, string | undefined>,
    row: S,
    call: RestCall,
  ): Promise<z.output<S>[]> {
    const data = await this.get(path, params, call);
    if (!Array.isArray(data)) throw new OkxRestError(path, '?', 200, 'the answer has no data array');
    return data.map((item, i) => {
      const parsed = row.safeParse(item);
      if (!parsed.success) {
        throw new OkxRestError(path, '?', 200, `row ${i} is malformed: ${describeZodError(parsed.error)}`);
      }
      return parsed.data;
    });
  }

  private async get(
    path: string,
    params: Record<string, string | undefined>,
    call: RestCall,
  ): Promise<unknown> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') query.set(k, v);
    const url = `${this.options.baseUrl.replace(/\/$/, '')}${path}?${query.toString()}`;
    const limiter = this.limiter(path);
    // The client's signal (its owner stopping) and the call's: either one ends the call at once.
    const stop = linkSignals([this.options.signal, call.signal]);
    try {
      return await this.attempts(path, url, limiter, stop.signal, call.maxRetries ?? this.maxRetries);
    } finally {
      stop.dispose();
    }
  }

  private async attempts(
    path: string,
    url: string,
    limiter: RateLimiter,
    stop: AbortSignal,
    maxRetries: number,
  ): Promise<unknown> {
    const what = `OKX ${path}`;
    for (let attempt = 1; ; attempt++) {
      await limiter.acquire(stop);
      let status = 0;
      let code = '?';
      let message: string;
      const request = linkSignals([stop], this.timeoutMs);
      try {
        const res = await fetch(url, { signal: request.signal });
        status = res.status;
        const text = await res.text();
        let body: z.output<typeof restEnvelopeSchema>;
        try {
          body = restEnvelopeSchema.parse(JSON.parse(text));
        } catch {
          throw new OkxRestError(path, '?', status, `unreadable answer: ${text.slice(0, 120)}`);
        }
        code = body.code;
        if (code === '0' && status === 200) return body.data;
        message = body.msg || `HTTP ${status}`;
      } catch (err) {
        if (stop.aborted) throw interruptedBy(stop, what);
        if (err instanceof OkxRestError && status < 500 && status !== 429) throw err;
        message = request.timedOut ? `no answer within ${this.timeoutMs} ms` : describeFetchError(err);
      } finally {
        request.dispose();
      }
      const rateLimited = status === 429 || code === '50011';
      if (rateLimited) {
        this.rateLimitedCount += 1;
        limiter.penalize(2_000);
      }
      const retryable = rateLimited || status >= 500 || status === 0 || RETRYABLE_CODES.has(code);
      if (!retryable || attempt > maxRetries) throw new OkxRestError(path, code, status, message);
      const wait = backoffMs(attempt, this.backoffBaseMs, 30_000, 0.2, this.random);
      this.log.warn(
        { path, code, status, attempt, waitMs: wait },
        rateLimited ? 'OKX rate limit hit: backing off' : `OKX request failed: ${message}; retrying`,
      );
      await sleep(wait, stop).catch(() => Promise.reject(interruptedBy(stop, what)));
    }
  }

  private limiter(path: string): RateLimiter {
    let l = this.limiters.get(path);
    if (l === undefined) {
      l = new RateLimiter(LIMITS[path] ?? 10, 2_000, this.options.now ?? Date.now);
      this.limiters.set(path, l);
    }
    return l;
  }
}

/** fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND…) is in its cause. */
function describeFetchError(err: unknown): string {
  // Duck-typed: fetch's errors may come from another realm (a test VM), where instanceof Error is false.
  const e = err as { message?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const cause = e?.cause;
  const detail =
    typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  return detail !== '' && !message.includes(detail) ? `${message} (${detail})` : message;
}
