import type { BackoffOptions } from '../../infra/rateLimiter.js';
import type { Logger } from '../../infra/logger.js';
import type { FeedHealth } from './health.js';
import type { OkxRestClient } from './rest.js';
import type { OkxBook } from './books.js';

/** What the feed reports besides trades: for logs, counters, the API, and gap repair downstream. */
export type OkxFeedEvent =
  | { readonly type: 'connected'; readonly url: string; readonly reconnect: boolean }
  | { readonly type: 'disconnected'; readonly url: string; readonly reason: string }
  | {
      readonly type: 'symbol-error';
      readonly symbol: string;
      readonly code: string;
      readonly message: string;
    }
  | { readonly type: 'backfill'; readonly symbol: string; readonly trades: number; readonly reason: string }
  | {
      /**
       * A resumed symbol (see `resumeFromMs`), reported before any of its trades: `trades` — REST history
       * reached back to `fromMs` and every trade since is emitted; `gap` — it did not, a `gap` event from
       * `fromMs` follows with OKX's candles; `skipped` — the live stream is not within `resumeLimitMs` after
       * `fromMs` (or is older): a fresh start.
       */
      readonly type: 'resume';
      readonly symbol: string;
      readonly fromMs: number;
      readonly outcome: 'trades' | 'gap' | 'skipped';
      readonly trades: number;
    }
  | {
      /** Trades between these times are lost to us (REST history did not reach them); 1m candles from OKX cover them. */
      readonly type: 'gap';
      readonly symbol: string;
      readonly fromMs: number;
      readonly toMs: number;
      readonly candles: readonly GapCandle[];
    }
  | { readonly type: 'health'; readonly health: FeedHealth };

export interface GapCandle {
  readonly openTimeMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

export interface OkxTradesOptions {
  readonly symbols: readonly string[];
  /** The public WebSocket, e.g. wss://ws.okx.com:8443/ws/v5/public */
  readonly wsUrl: string;
  /** Used after `failoverAfter` failed connection attempts in a row, alternating with wsUrl. */
  readonly backupWsUrl?: string;
  readonly failoverAfter?: number;
  readonly rest: OkxRestClient;
  readonly logger?: Logger;
  readonly onEvent?: (event: OkxFeedEvent) => void;
  /**
   * When given, `books5` of every symbol is subscribed too (on the same connection) and each push comes
   * here, parsed (a malformed one is counted and dropped like a malformed trade frame). A book that cannot
   * be subscribed is logged; the trades go on.
   */
  readonly onBook?: (book: OkxBook) => void;
  /** Send `ping` after this much silence (OKX closes at 30 s). Default 20 s. */
  readonly pingAfterMs?: number;
  /** Reconnect when no `pong` (or anything) arrives this long after a ping. Default 10 s. */
  readonly pongTimeoutMs?: number;
  /** Reconnect backoff: base·2^(n−1) capped at max, ± jitter. Defaults 1 s, 60 s, 0.2. */
  readonly backoff?: BackoffOptions;
  readonly healthEveryMs?: number;
  /**
   * Check the symbols against /api/v5/public/instruments. Default true. The WebSocket waits for the check
   * at most `checkWaitMs` (default 2000, one request): when REST is down or slow it connects with every
   * symbol and the check goes on behind it (with retries, up to `checkTimeoutMs`, default 60 000), dropping
   * a symbol only once it is proven unknown.
   */
  readonly checkInstruments?: boolean;
  readonly checkWaitMs?: number;
  readonly checkTimeoutMs?: number;
  /**
   * A backfill that REST cannot serve (down, hanging) is given up after 3 failed attempts or this long
   * (default 30 000), whichever comes first: the missed trades become a `gap` and the live stream goes on.
   */
  readonly backfillTimeoutMs?: number;
  /** Between failed backfill (and resume) attempts: base·2^(n−1) capped at max, ± jitter. Defaults 1 s, 30 s, 0.2. */
  readonly backfillBackoff?: BackoffOptions;
  /**
   * Per symbol, where a restarted collector's stored history ends (the close time of its newest 1m candle):
   * the first push is held back while the trades since then come from REST history (a `resume` event says
   * how it went; where history does not reach, a `gap` event carries OKX's 1m candles from there).
   */
  readonly resumeFromMs?: ReadonlyMap<string, number>;
  /** Resume only when the first push is at most this much later than `resumeFromMs`. Default 2 days. */
  readonly resumeLimitMs?: number;
  /** History-trades pages (100 trades each) a resume may read before the rest becomes a gap. Default 300. */
  readonly resumeMaxPages?: number;
  readonly random?: () => number;
}
