import type { z } from 'zod';
import { RxtradeError } from '../../domain/errors.js';
import { silentLogger, type Logger } from '../../infra/logger.js';
import { backoffMs, RateLimiter } from '../../infra/rateLimiter.js';
import {
  candleRowSchema,
  describeZodError,
  instrumentSchema,
  restEnvelopeSchema,
  restTradeSchema,
  type CandleRow,
  type Instrument,
  type RestTrade,
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
  readonly timeoutMs?: number;
  /** Retries for rate limits (429 / 50011), 5xx, 50001/50026 and network errors. Default 6. */
  readonly maxRetries?: number;
  readonly backoffBaseMs?: number;
  readonly random?: () => number;
}

/** Per-endpoint limits from OKX's documentation (requests per 2 s, per IP). */
const LIMITS: Record<string, number> = {
  '/api/v5/market/candles': 40,
  '/api/v5/market/history-candles': 20,
  '/api/v5/market/trades': 100,
  '/api/v5/market/history-trades': 20,
  '/api/v5/public/instruments': 20,
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

  async instruments(instType = 'SPOT', instId?: string): Promise<Instrument[]> {
    return this.getRows('/api/v5/public/instruments', { instType, instId }, instrumentSchema);
  }

  /** One page of history-trades, newest first. `after`/`before` are exclusive tradeId cursors (type 1). */
  async historyTrades(
    instId: string,
    page: { after?: string; before?: string; limit?: number } = {},
  ): Promise<RestTrade[]> {
    return this.getRows(
      '/api/v5/market/history-trades',
      { instId, type: '1', after: page.after, before: page.before, limit: String(page.limit ?? 100) },
      restTradeSchema,
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
  ): Promise<TradesSince> {
    const collected: RestTrade[] = [];
    // With `beforeTradeId` (what the WebSocket already delivered starts there) only the hole is fetched.
    let after: string | undefined = beforeTradeId === undefined ? undefined : String(beforeTradeId);
    for (let page = 0; page < maxPages; page++) {
      const rows = await this.historyTrades(instId, after === undefined ? {} : { after });
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

  /** One page of candles (latest 1,440 bars), newest first. */
  async candles(
    instId: string,
    bar: string,
    page: { after?: number; before?: number; limit?: number } = {},
  ): Promise<CandleRow[]> {
    return this.candlePage('/api/v5/market/candles', instId, bar, page);
  }

  async historyCandles(
    instId: string,
    bar: string,
    page: { after?: number; before?: number; limit?: number } = {},
  ): Promise<CandleRow[]> {
    return this.candlePage('/api/v5/market/history-candles', instId, bar, page);
  }

  /** Confirmed bars with `fromMs ≤ open time < toMs`, oldest first, paging history-candles backwards. */
  async historyCandlesRange(instId: string, bar: string, fromMs: number, toMs: number): Promise<CandleRow[]> {
    const out: CandleRow[] = [];
    let after = toMs;
    for (let guard = 0; guard < 10_000; guard++) {
      const rows = await this.historyCandles(instId, bar, { after, limit: 100 });
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
    );
  }

  private async getRows<S extends z.ZodType>(
    path: string,
    params: Record<string, string | undefined>,
    row: S,
  ): Promise<z.output<S>[]> {
    const data = await this.get(path, params);
    if (!Array.isArray(data)) throw new OkxRestError(path, '?', 200, 'the answer has no data array');
    return data.map((item, i) => {
      const parsed = row.safeParse(item);
      if (!parsed.success) {
        throw new OkxRestError(path, '?', 200, `row ${i} is malformed: ${describeZodError(parsed.error)}`);
      }
      return parsed.data;
    });
  }

  private async get(path: string, params: Record<string, string | undefined>): Promise<unknown> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') query.set(k, v);
    const url = `${this.options.baseUrl.replace(/\/$/, '')}${path}?${query.toString()}`;
    const limiter = this.limiter(path);
    for (let attempt = 1; ; attempt++) {
      await limiter.acquire();
      let status = 0;
      let code = '?';
      let message: string;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
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
        if (err instanceof OkxRestError && status < 500 && status !== 429) throw err;
        message = err instanceof Error ? err.message : String(err);
      }
      const rateLimited = status === 429 || code === '50011';
      if (rateLimited) {
        this.rateLimitedCount += 1;
        limiter.penalize(2_000);
      }
      const retryable = rateLimited || status >= 500 || status === 0 || RETRYABLE_CODES.has(code);
      if (!retryable || attempt > this.maxRetries) throw new OkxRestError(path, code, status, message);
      const wait = backoffMs(attempt, this.backoffBaseMs, 30_000, 0.2, this.random);
      this.log.warn(
        { path, code, status, attempt, waitMs: wait },
        rateLimited ? 'OKX rate limit hit: backing off' : `OKX request failed: ${message}; retrying`,
      );
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  private limiter(path: string): RateLimiter {
    let l = this.limiters.get(path);
    if (l === undefined) {
      l = new RateLimiter(LIMITS[path] ?? 10, 2_000);
      this.limiters.set(path, l);
    }
    return l;
  }
}
