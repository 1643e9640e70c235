import { Observable, type Subscriber } from 'rxjs';
import WebSocket, { type RawData } from 'ws';
import { InterruptedError, UsageError } from '../../domain/errors.js';
import { tradeProblem, type Trade } from '../../domain/trade.js';
import { linkSignals, sleep } from '../../infra/abort.js';
import { silentLogger, type Logger } from '../../infra/logger.js';
import { backoffMs, RateLimiter } from '../../infra/rateLimiter.js';
import { bookOfPush, wsBooks5PushSchema, type OkxBook } from './books.js';
import { HealthTracker, type FeedHealth } from './health.js';
import type { OkxRestClient, RestCall, TradesSince } from './rest.js';
import {
  describeZodError,
  wsEventSchema,
  wsTradesPushSchema,
  type RestTrade,
  type WsTrade,
} from './schemas.js';

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
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number; readonly jitter?: number };
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

/** REST retries inside one backfill attempt: the attempts themselves retry too, with the live stream waiting. */
const BACKFILL_REST_RETRIES = 2;
const BACKFILL_ATTEMPTS = 3;
/** How long a gap waits for OKX's candles covering it (the symbol's pushes wait meanwhile). */
const GAP_CANDLES_WAIT_MS = 10_000;

/**
 * OKX public trades for many symbols over one WebSocket, as one stream that never loses a trade.
 *
 * Every frame is parsed with a schema; a malformed one is counted, logged (the first one with a sample),
 * and dropped. Keepalive as OKX asks (`ping` after silence, reconnect without `pong`); reconnects back off
 * exponentially with jitter, at most 3 new connections a second, resubscribe everything and switch to the
 * backup URL after repeated failures. A 64008 notice opens and subscribes a new connection before the old
 * one is dropped.
 *
 * Per symbol the output is in trade-id order with no gap and no duplicate: OKX trade ids are consecutive
 * per instrument and each push covers ids `tradeId − count + 1 … tradeId`, so a push that does not follow
 * the last id emitted reveals missed trades. After any reconnect or stall, and on any such gap, the missed
 * trades are fetched with REST history-trades (paging back with `after` to the last id seen) while new
 * pushes wait; duplicates (from a reconnect overlap or a double push) are dropped. When REST history does
 * not reach back far enough, a `gap` event names the symbol and time range and carries OKX's 1m candles
 * for it. An unknown symbol (checked at start, or 60018 from the server) gives a `symbol-error` event and
 * the other symbols go on. The stream errors only when no symbol is left.
 */
export function okxTrades(options: OkxTradesOptions): Observable<Trade> {
  if (options.symbols.length === 0) throw new UsageError('okxTrades: give at least one symbol');
  return new Observable<Trade>((subscriber) => {
    const feed = new TradeFeed(options, subscriber);
    void feed.start();
    return () => feed.stop();
  });
}

interface SymbolState {
  readonly instId: string;
  /** Highest trade id emitted; undefined before the first trade. */
  lastId: number | undefined;
  lastTsMs: number;
  backfilling: boolean;
  buffered: WsTrade[];
  /** Consecutive backfills that could not close a gap the WebSocket shows (REST lagging behind). */
  stubbornGaps: number;
  /** Sizes of the last trades emitted one by one, to split an aggregated push that overlaps them. */
  readonly recentSizes: Map<number, number>;
  /** After a backfill REST could not serve, with no push waiting: the missed trades start here. */
  gapFromMs?: number;
  /** Until the first push: resume from here (see OkxTradesOptions.resumeFromMs). */
  resumeFromMs?: number;
}

class TradeFeed {
  private readonly log: Logger;
  private readonly symbols = new Map<string, SymbolState>();
  private readonly requestSymbol = new Map<string, string>();
  /** Ids of the `books5` subscribe requests not yet answered: their errors never drop a symbol. */
  private readonly bookRequests = new Set<string>();
  private readonly health = new HealthTracker(Date.now);
  private readonly connections = new RateLimiter(3, 1_000);
  /** Aborted by stop(): every REST request, backoff and wait of the feed ends at once. */
  private readonly abort = new AbortController();
  private readonly random: () => number;
  private current: Connection | undefined;
  private incoming: Connection | undefined;
  private failures = 0;
  private attempts = 0;
  private useBackup = false;
  private stopped = false;
  private everConnected = false;
  private checking = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private healthTimer: ReturnType<typeof setInterval> | undefined;
  private requestSeq = 0;
  private connectionSeq = 0;
  private loggedMalformed = false;

  constructor(
    private readonly options: OkxTradesOptions,
    private readonly subscriber: Subscriber<Trade>,
  ) {
    this.log = (options.logger ?? silentLogger).child({ component: 'okx-feed' });
    this.random = options.random ?? Math.random;
    for (const instId of options.symbols) {
      this.symbols.set(instId, {
        instId,
        lastId: undefined,
        lastTsMs: 0,
        backfilling: false,
        buffered: [],
        stubbornGaps: 0,
        recentSizes: new Map(),
        ...(options.resumeFromMs?.has(instId) ? { resumeFromMs: options.resumeFromMs.get(instId) } : {}),
      });
    }
  }

  async start(): Promise<void> {
    let checked = true;
    if (this.options.checkInstruments ?? true) {
      // A quick first look (one request, a short deadline) decides what to subscribe; it never holds
      // the live stream back longer than that.
      this.checking = true;
      const failure = await this.checkInstruments({ maxRetries: 0 }, this.options.checkWaitMs ?? 2_000);
      checked = failure === undefined;
      this.checking = false;
    }
    if (this.stopped) return;
    if (this.symbols.size === 0) {
      this.subscriber.error(
        new UsageError(`okxTrades: none of the symbols exists on OKX (${this.options.symbols.join(', ')})`),
      );
      return;
    }
    const every = this.options.healthEveryMs ?? 30_000;
    this.healthTimer = setInterval(() => this.reportHealth(), every);
    this.healthTimer.unref?.();
    void this.connect();
    if (!checked) void this.checkBehind();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort(new InterruptedError('the OKX feed stopped'));
    clearTimeout(this.reconnectTimer);
    clearInterval(this.healthTimer);
    this.current?.close();
    this.incoming?.close();
  }

  snapshot(): FeedHealth {
    return this.health.snapshot(
      this.current?.isOpen ?? false,
      this.current?.url,
      this.options.rest.rateLimitedCount,
    );
  }

  // ---- connections -------------------------------------------------------------------------------------

  private async connect(handover = false): Promise<void> {
    try {
      await this.connections.acquire(this.abort.signal);
    } catch {
      return; // stopped while waiting for a connection slot
    }
    if (this.stopped) return;
    const backup = this.options.backupWsUrl;
    const url = this.useBackup && backup !== undefined ? backup : this.options.wsUrl;
    const conn = new Connection(url, ++this.connectionSeq, {
      pingAfterMs: this.options.pingAfterMs ?? 20_000,
      pongTimeoutMs: this.options.pongTimeoutMs ?? 10_000,
      onOpen: () => this.subscribeAll(conn),
      onMessage: (data, binary) => this.onMessage(conn, data, binary),
      onStall: () =>
        this.log.warn({ url, connection: conn.id }, 'no pong from OKX: the connection stalled; reconnecting'),
      onClose: (reason) => this.onClose(conn, reason),
    });
    if (handover) this.incoming = conn;
    else this.current = conn;
  }

  private subscribeAll(conn: Connection): void {
    for (const instId of this.symbols.keys()) {
      const id = `${conn.id}x${++this.requestSeq}`;
      this.requestSymbol.set(id, instId);
      conn.send(JSON.stringify({ id, op: 'subscribe', args: [{ channel: 'trades', instId }] }));
      if (this.options.onBook !== undefined) {
        const bookId = `${conn.id}b${++this.requestSeq}`;
        this.bookRequests.add(bookId);
        conn.send(JSON.stringify({ id: bookId, op: 'subscribe', args: [{ channel: 'books5', instId }] }));
      }
    }
  }

  private onClose(conn: Connection, reason: string): void {
    const wasHealthy = conn.acked.size > 0;
    for (const id of this.requestSymbol.keys())
      if (id.startsWith(`${conn.id}x`)) this.requestSymbol.delete(id);
    for (const id of this.bookRequests) if (id.startsWith(`${conn.id}b`)) this.bookRequests.delete(id);
    if (conn === this.incoming) {
      this.incoming = undefined;
      if (!this.stopped)
        this.log.warn({ url: conn.url, reason }, 'the replacement connection closed before taking over');
      return;
    }
    if (conn !== this.current) return;
    this.current = undefined;
    if (this.stopped) return;
    this.log.warn({ url: conn.url, reason, connection: conn.id }, 'OKX connection closed');
    this.options.onEvent?.({ type: 'disconnected', url: conn.url, reason });
    if (this.incoming?.isOpen) {
      this.promote();
      return;
    }
    if (wasHealthy) this.attempts = 0;
    else this.failures += 1;
    if (this.options.backupWsUrl !== undefined && this.failures >= (this.options.failoverAfter ?? 3)) {
      this.useBackup = !this.useBackup;
      this.failures = 0;
      this.log.warn(
        { url: this.useBackup ? this.options.backupWsUrl : this.options.wsUrl },
        'switching OKX URL',
      );
    }
    this.attempts += 1;
    const b = this.options.backoff ?? {};
    const wait = backoffMs(this.attempts, b.baseMs ?? 1_000, b.maxMs ?? 60_000, b.jitter ?? 0.2, this.random);
    this.health.reconnects += 1;
    this.reconnectTimer = setTimeout(() => void this.connect(), wait);
  }

  /** The replacement connection has every subscription: it becomes current and the old one is dropped. */
  private promote(): void {
    const old = this.current;
    this.current = this.incoming;
    this.incoming = undefined;
    old?.close();
    this.log.info({ url: this.current?.url }, 'switched to the new OKX connection');
  }

  // ---- frames ------------------------------------------------------------------------------------------

  private onMessage(conn: Connection, data: RawData, binary: boolean): void {
    this.health.message();
    if (binary) return this.malformed('a binary frame', '');
    const text = data.toString();
    if (text === 'pong') return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.malformed('not JSON', text);
    }
    if (typeof json !== 'object' || json === null) return this.malformed('not a JSON object', text);
    if ('event' in json) {
      const event = wsEventSchema.safeParse(json);
      if (!event.success) return this.malformed(describeZodError(event.error), text);
      return this.onEvent(conn, event.data);
    }
    if ('arg' in json && (json.arg as { channel?: unknown } | null)?.channel === 'books5') {
      const book = wsBooks5PushSchema.safeParse(json);
      if (!book.success) return this.malformed(describeZodError(book.error), text);
      if (this.symbols.has(book.data.arg.instId)) this.options.onBook?.(bookOfPush(book.data));
      return;
    }
    const push = wsTradesPushSchema.safeParse(json);
    if (!push.success) return this.malformed(describeZodError(push.error), text);
    for (const trade of push.data.data) this.onTrade(trade);
  }

  private onEvent(conn: Connection, event: ReturnType<typeof wsEventSchema.parse>): void {
    switch (event.event) {
      case 'subscribe': {
        if (event.id !== undefined) this.requestSymbol.delete(event.id);
        if (event.arg?.channel === 'books5') {
          if (event.id !== undefined) this.bookRequests.delete(event.id);
          return;
        }
        const instId = event.arg?.instId;
        if (instId === undefined || !this.symbols.has(instId)) return;
        conn.acked.add(instId);
        if (conn.acked.size === 1) this.onConnected(conn);
        if (conn === this.incoming) {
          // A handover: the old connection still delivers until this one has every subscription.
          if (conn.acked.size >= this.symbols.size) this.promote();
          return;
        }
        const s = this.symbols.get(instId) as SymbolState;
        // Anything missed while we were away comes from REST; pushes wait meanwhile.
        if (s.lastId !== undefined) this.backfill(s, 'reconnect');
        return;
      }
      case 'error': {
        if (event.id !== undefined && this.bookRequests.delete(event.id)) {
          this.log.warn(
            { code: event.code, msg: event.msg, url: conn.url },
            'OKX refused a books5 subscription: no order book for it (its trades go on)',
          );
          return;
        }
        const requested = event.id !== undefined ? this.requestSymbol.get(event.id) : undefined;
        if (event.id !== undefined) this.requestSymbol.delete(event.id);
        const instId = requested ?? /instId:\s*([^\s,]+)\s+doesn't exist/.exec(event.msg ?? '')?.[1];
        if (event.code === '60018' && instId !== undefined && this.symbols.has(instId)) {
          this.symbolError(instId, 'unknown_symbol', `OKX does not know ${instId}: ${event.msg ?? ''}`);
          return;
        }
        this.log.error({ code: event.code, msg: event.msg, url: conn.url }, 'OKX WebSocket error event');
        return;
      }
      case 'notice':
        this.log.warn(
          { code: event.code, msg: event.msg, url: conn.url },
          'OKX service notice: moving to a new connection',
        );
        if (event.code === '64008' && conn === this.current && this.incoming === undefined)
          void this.connect(true);
        return;
      default:
        return;
    }
  }

  private onConnected(conn: Connection): void {
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.failures = 0;
    this.log.info({ url: conn.url, connection: conn.id, reconnect }, 'subscribed to OKX trades');
    this.options.onEvent?.({ type: 'connected', url: conn.url, reconnect });
  }

  private malformed(problem: string, sample: string): void {
    this.health.malformedFrames += 1;
    if (!this.loggedMalformed) {
      this.loggedMalformed = true;
      this.log.warn(
        { problem, sample: sample.slice(0, 200) },
        'malformed frame from OKX dropped (further ones are counted in the health line: malformedFrames)',
      );
    }
  }

  private symbolError(instId: string, code: string, message: string): void {
    // The instruments check and the WebSocket (60018) may both say so: report it once.
    if (!this.symbols.delete(instId)) return;
    this.health.symbolErrors += 1;
    this.log.error({ symbol: instId, code }, message);
    this.options.onEvent?.({ type: 'symbol-error', symbol: instId, code, message });
    // During the start-up check, start() reports the empty list itself, with the symbols it was given.
    if (this.symbols.size === 0 && !this.checking) {
      this.subscriber.error(new UsageError(`okxTrades: no symbol left (${message})`));
    }
  }

  // ---- per-symbol merge ----------------------------------------------------------------------------------

  private onTrade(d: WsTrade): void {
    const s = this.symbols.get(d.instId);
    if (s === undefined) return;
    this.health.latency(Number(d.ts));
    if (s.backfilling) s.buffered.push(d);
    else this.accept(s, d);
  }

  private accept(s: SymbolState, d: WsTrade): void {
    const id = Number(d.tradeId);
    const count = d.count === undefined ? 1 : Number(d.count);
    const first = id - count + 1;
    if (s.gapFromMs !== undefined) {
      const from = s.gapFromMs;
      s.gapFromMs = undefined;
      void this.reportGap(s, from, Number(d.ts));
    }
    if (s.lastId === undefined && s.resumeFromMs !== undefined) {
      // The first push after a restart: what was missed since the stored history ends comes first.
      s.buffered.push(d);
      s.backfilling = true;
      void this.resume(s, d);
    } else if (s.lastId === undefined || (first === s.lastId + 1 && count >= 1)) {
      this.emit(s, d, count);
    } else if (id <= s.lastId) {
      this.health.duplicatesDropped += 1;
    } else if (d.count === undefined) {
      // Older servers do not say how many trades a push aggregates: we cannot see gaps from ids alone.
      this.emit(s, d, 1);
    } else {
      // Either ids are missing before this push, or REST gave us part of it one trade at a time and the
      // rest (ids lastId+1 … tradeId) is still owed: both are fetched from REST while pushes wait.
      s.buffered.push(d);
      this.backfill(s, `gap: ids ${s.lastId + 1}…${first - 1 > s.lastId ? first - 1 : id} missing`);
    }
  }

  /** The part of an aggregated push not yet emitted, when REST delivered its first trades one by one. */
  private emitRemainder(s: SymbolState, d: WsTrade): void {
    const id = Number(d.tradeId);
    const lastId = s.lastId as number;
    let emittedSize = 0;
    for (let k = id - Number(d.count) + 1; k <= lastId; k++) emittedSize += s.recentSizes.get(k) ?? 0;
    const remainder = { ...d, sz: String(Math.max(0, Number(d.sz) - emittedSize)) };
    this.log.warn(
      { symbol: s.instId, tradeId: d.tradeId, lastId },
      'REST had only part of an aggregated push: emitting the rest of it',
    );
    this.emit(s, remainder, id - lastId);
  }

  private emit(s: SymbolState, d: WsTrade | RestTrade, count: number): void {
    const trade: Trade = {
      symbol: s.instId,
      tradeId: d.tradeId,
      tsMs: Number(d.ts),
      price: Number(d.px),
      size: Number(d.sz),
      side: d.side,
      ...(count !== 1 ? { count } : {}),
    };
    s.lastId = Number(d.tradeId);
    s.lastTsMs = trade.tsMs;
    if (count === 1) {
      s.recentSizes.set(s.lastId, trade.size);
      if (s.recentSizes.size > 512) s.recentSizes.delete(s.recentSizes.keys().next().value as number);
    }
    const problem = tradeProblem(trade);
    if (problem !== undefined) return this.malformed(`impossible trade: ${problem}`, JSON.stringify(d));
    this.health.tradesEmitted += 1;
    this.subscriber.next(trade);
  }

  private backfill(s: SymbolState, reason: string): void {
    if (s.backfilling || s.lastId === undefined) return;
    s.backfilling = true;
    void this.runBackfill(s, s.lastId, reason);
  }

  private async runBackfill(s: SymbolState, fromId: number, reason: string): Promise<void> {
    const emitted = await this.fetchBackfill(s, fromId);
    if (this.stopped || emitted === 'stopped') return;
    if (emitted === 'failed') return this.giveUpBackfill(s);
    this.health.backfilledTrades += emitted;
    if (emitted > 0) {
      this.log.info({ symbol: s.instId, trades: emitted, reason }, 'backfilled missed trades from OKX REST');
      this.options.onEvent?.({ type: 'backfill', symbol: s.instId, trades: emitted, reason });
    }
    await this.drain(s);
  }

  /**
   * Emits the trades after `fromId` from REST history; how many, or 'failed' when REST could not serve them
   * (BACKFILL_ATTEMPTS failed attempts, or `backfillTimeoutMs`), or 'stopped'.
   */
  private async fetchBackfill(s: SymbolState, fromId: number): Promise<number | 'failed' | 'stopped'> {
    const deadline = linkSignals([this.abort.signal], this.options.backfillTimeoutMs ?? 30_000);
    const call: RestCall = { signal: deadline.signal, maxRetries: BACKFILL_REST_RETRIES };
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          // Pushes that waited meanwhile start where the hole ends: fetch only the hole.
          const waiting = s.buffered.reduce(
            (m, d) => Math.min(m, Number(d.tradeId) - Number(d.count ?? 1) + 1),
            Infinity,
          );
          const { trades, complete } = await this.options.rest.tradesSince(
            s.instId,
            fromId,
            waiting > fromId + 1 && waiting !== Infinity ? waiting : undefined,
            undefined,
            call,
          );
          if (this.stopped || !this.symbols.has(s.instId)) return 'stopped';
          const first = trades[0];
          if (!complete && first !== undefined) await this.reportGap(s, s.lastTsMs, Number(first.ts));
          let emitted = 0;
          for (const t of trades) {
            if (Number(t.tradeId) > (s.lastId as number)) {
              this.emit(s, t, 1);
              emitted += 1;
            }
          }
          return emitted;
        } catch (err) {
          if (this.stopped) return 'stopped';
          if (attempt >= BACKFILL_ATTEMPTS || deadline.signal.aborted) {
            this.log.error(
              { symbol: s.instId, attempts: attempt, err: String(err) },
              'backfill from OKX REST failed: going on with the live stream; the missed trades are a gap',
            );
            return 'failed';
          }
          const wait = backoffMs(attempt, 1_000, 30_000, 0.2, this.random);
          this.log.error(
            { symbol: s.instId, attempt, waitMs: wait, err: String(err) },
            'backfill from OKX REST failed; retrying',
          );
          await sleep(wait, deadline.signal).catch(() => undefined);
        }
      }
    } finally {
      deadline.dispose();
    }
  }

  /**
   * Emits the trades from `s.resumeFromMs` up to the first push `head` from REST history (a gap with OKX's
   * candles where history does not reach), then the pushes that waited.
   */
  private async resume(s: SymbolState, head: WsTrade): Promise<void> {
    const fromMs = s.resumeFromMs as number;
    s.resumeFromMs = undefined;
    const headTs = Number(head.ts);
    const headFirst = Number(head.tradeId) - Number(head.count ?? 1) + 1;
    const report = (outcome: 'trades' | 'gap' | 'skipped', trades: number): void =>
      this.options.onEvent?.({ type: 'resume', symbol: s.instId, fromMs, outcome, trades });
    if (headTs < fromMs || headTs - fromMs > (this.options.resumeLimitMs ?? 2 * 86_400_000)) {
      this.log.warn(
        {
          symbol: s.instId,
          storedUntil: new Date(fromMs).toISOString(),
          live: new Date(headTs).toISOString(),
        },
        'not resuming: the live stream is not shortly after the stored history',
      );
      report('skipped', 0);
      return this.drain(s);
    }
    let got: TradesSince | undefined;
    const deadline = linkSignals([this.abort.signal], this.options.backfillTimeoutMs ?? 30_000);
    try {
      for (let attempt = 1; got === undefined; attempt++) {
        try {
          got = await this.options.rest.tradesFromTime(
            s.instId,
            fromMs,
            headFirst,
            this.options.resumeMaxPages ?? 300,
            { signal: deadline.signal, maxRetries: BACKFILL_REST_RETRIES },
          );
        } catch (err) {
          if (this.stopped) return;
          if (attempt >= BACKFILL_ATTEMPTS || deadline.signal.aborted) {
            this.log.error(
              { symbol: s.instId, attempts: attempt, err: String(err) },
              'resuming from OKX REST history failed: the missed trades are a gap',
            );
            break;
          }
          await sleep(backoffMs(attempt, 1_000, 30_000, 0.2, this.random), deadline.signal).catch(
            () => undefined,
          );
        }
      }
    } finally {
      deadline.dispose();
    }
    if (this.stopped || !this.symbols.has(s.instId)) return;
    const trades = got?.trades ?? [];
    s.lastTsMs = fromMs;
    if (got?.complete === true) {
      report('trades', trades.length);
    } else {
      report('gap', trades.length);
      await this.reportGap(s, fromMs, trades.length > 0 ? Number((trades[0] as RestTrade).ts) : headTs);
      if (this.stopped) return;
    }
    for (const t of trades) this.emit(s, t, 1);
    this.health.backfilledTrades += trades.length;
    this.log.info(
      {
        symbol: s.instId,
        from: new Date(fromMs).toISOString(),
        trades: trades.length,
        complete: got?.complete,
      },
      'resumed after the stored history from OKX REST',
    );
    // Nothing between the stored history and the first push: the push follows on.
    if (s.lastId === undefined) s.lastId = headFirst - 1;
    await this.drain(s);
  }

  /**
   * REST cannot fill the hole: report it as a gap and let the waiting pushes through. With no push waiting
   * yet, the hole ends where the next push starts: the next one is taken as a new start after the gap.
   */
  private async giveUpBackfill(s: SymbolState): Promise<void> {
    const head = s.buffered.reduce<WsTrade | undefined>(
      (m, d) => (m === undefined || Number(d.tradeId) < Number(m.tradeId) ? d : m),
      undefined,
    );
    if (head === undefined) {
      s.gapFromMs = s.lastTsMs;
      s.lastId = undefined;
    } else {
      await this.reportGap(s, s.lastTsMs, Number(head.ts));
      s.lastId = Number(head.tradeId) - Number(head.count ?? 1);
    }
    if (!this.stopped) await this.drain(s);
  }

  /** Replays the pushes that waited during a backfill; a gap REST could not close is retried, then reported. */
  private async drain(s: SymbolState): Promise<void> {
    const waiting = s.buffered.sort((a, b) => Number(a.tradeId) - Number(b.tradeId));
    s.buffered = [];
    s.backfilling = false;
    const head = waiting.find((d) => s.lastId === undefined || Number(d.tradeId) > s.lastId);
    const gapAfterBackfill =
      head !== undefined &&
      head.count !== undefined &&
      s.lastId !== undefined &&
      Number(head.tradeId) - Number(head.count) + 1 !== s.lastId + 1;
    if (gapAfterBackfill) {
      s.stubbornGaps += 1;
      if (s.stubbornGaps <= 5) {
        // REST can lag the WebSocket by a moment: wait a little and look again.
        s.buffered = waiting;
        s.backfilling = true;
        await sleep(200 * s.stubbornGaps, this.abort.signal).catch(() => undefined);
        if (!this.stopped) void this.runBackfill(s, s.lastId as number, 'gap still open');
        return;
      }
      if (Number(head.tradeId) - Number(head.count) + 1 <= (s.lastId as number)) {
        this.emitRemainder(s, head);
      } else {
        await this.reportGap(s, s.lastTsMs, Number(head.ts));
        s.lastId = Number(head.tradeId) - Number(head.count);
      }
    }
    s.stubbornGaps = 0;
    for (const d of waiting) {
      if (s.backfilling) s.buffered.push(d);
      else this.accept(s, d);
    }
  }

  private async reportGap(s: SymbolState, fromMs: number, toMs: number): Promise<void> {
    this.health.gaps += 1;
    let candles: GapCandle[] = [];
    const fromMinute = fromMs - (fromMs % 60_000);
    const deadline = linkSignals([this.abort.signal], GAP_CANDLES_WAIT_MS);
    try {
      // Bounded (the live stream of this symbol waits for it), and abandoned when the feed stops.
      candles = await this.options.rest.historyCandlesRange(
        s.instId,
        '1m',
        fromMinute,
        toMs - (toMs % 60_000) + 60_000,
        { signal: deadline.signal, maxRetries: 1 },
      );
    } catch (err) {
      if (this.stopped) return;
      this.log.error({ symbol: s.instId, err: String(err) }, 'could not fetch candles for a trade gap');
    } finally {
      deadline.dispose();
    }
    this.log.error(
      {
        symbol: s.instId,
        from: new Date(fromMs).toISOString(),
        to: new Date(toMs).toISOString(),
        candles: candles.length,
      },
      'trades lost: OKX REST history does not reach back to the last trade seen',
    );
    this.options.onEvent?.({ type: 'gap', symbol: s.instId, fromMs, toMs, candles });
  }

  // ---- start-up and health -------------------------------------------------------------------------------

  /** After a start without an answer from REST: checks again, with retries, while the stream runs. */
  private async checkBehind(): Promise<void> {
    const failure = await this.checkInstruments({}, this.options.checkTimeoutMs ?? 60_000);
    if (failure !== undefined && !this.stopped) {
      this.log.warn({ err: failure }, 'cannot check symbols against OKX instruments; going on unchecked');
    }
  }

  /**
   * Drops the symbols OKX does not list. Returns why it could not check (no answer within `timeoutMs`, an
   * error), or undefined when it did.
   */
  private async checkInstruments(call: RestCall, timeoutMs: number): Promise<string | undefined> {
    const byType = new Map<string, string[]>();
    for (const instId of this.symbols.keys()) {
      const type = instId.endsWith('-SWAP') ? 'SWAP' : 'SPOT';
      byType.set(type, [...(byType.get(type) ?? []), instId]);
    }
    const deadline = linkSignals([this.abort.signal], timeoutMs);
    try {
      for (const [type, ids] of byType) {
        let known: Set<string>;
        try {
          const rows = await this.options.rest.instruments(type, undefined, {
            ...call,
            signal: deadline.signal,
          });
          known = new Set(rows.map((i) => i.instId));
        } catch (err) {
          if (!this.stopped) this.log.debug({ err: String(err) }, 'no answer from OKX instruments');
          return String(err);
        }
        if (this.stopped) return undefined;
        for (const instId of ids) {
          if (!known.has(instId)) {
            this.symbolError(
              instId,
              'unknown_symbol',
              `${instId} is not an OKX ${type} instrument (/api/v5/public/instruments)`,
            );
          }
        }
      }
      return undefined;
    } finally {
      deadline.dispose();
    }
  }

  private reportHealth(): void {
    const health = this.snapshot();
    this.log.info({ ...health }, 'OKX feed health');
    this.options.onEvent?.({ type: 'health', health });
  }
}

interface ConnectionHandlers {
  readonly pingAfterMs: number;
  readonly pongTimeoutMs: number;
  onOpen(): void;
  onMessage(data: RawData, binary: boolean): void;
  onStall(): void;
  onClose(reason: string): void;
}

/** One WebSocket with OKX's keepalive: `ping` after silence, and a stall (terminate) when nothing answers. */
class Connection {
  readonly acked = new Set<string>();
  private readonly ws: WebSocket;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    readonly url: string,
    readonly id: number,
    private readonly h: ConnectionHandlers,
  ) {
    this.ws = new WebSocket(url, { handshakeTimeout: 10_000 });
    this.ws.on('open', () => {
      this.touch();
      h.onOpen();
    });
    this.ws.on('message', (data, binary) => {
      this.touch();
      h.onMessage(data, binary);
    });
    this.ws.on('error', () => undefined); // 'close' follows with the reason
    this.ws.on('close', (code, reason) =>
      this.finish(`closed ${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}`),
    );
    this.ws.on('unexpected-response', (_req, res) => {
      this.finish(`server answered the upgrade with HTTP ${res.statusCode}`);
      this.ws.terminate();
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  send(text: string): void {
    if (this.isOpen) this.ws.send(text);
  }

  close(): void {
    if (this.closed) return;
    this.finish('closed by us');
    this.ws.terminate();
  }

  private touch(): void {
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.ping(), this.h.pingAfterMs);
  }

  private ping(): void {
    this.send('ping');
    this.pongTimer = setTimeout(() => {
      this.h.onStall();
      this.finish('stalled: no pong');
      this.ws.terminate();
    }, this.h.pongTimeoutMs);
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.pongTimer);
    this.h.onClose(reason);
  }
}
