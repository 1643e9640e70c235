import { Observable, type Subscriber } from 'rxjs';
import type { RawData } from 'ws';
import { InterruptedError, UsageError } from '../../domain/errors.js';
import { tradeProblem, type Trade } from '../../domain/trade.js';
import { silentLogger, type Logger } from '../../infra/logger.js';
import { reportTradeGap, type GapReportContext } from './gapReport.js';
import { bookOfPush, wsBooks5PushSchema } from './books.js';
import { HealthTracker, type FeedHealth } from './health.js';
import { checkInstruments } from './instrumentCheck.js';
import { OkxConnections } from './okxConnections.js';
import type { OkxTradesOptions } from './okxFeedTypes.js';
import type { RestCall } from './rest.js';
import { describeZodError, wsEventSchema, wsTradesPushSchema, type WsTrade } from './schemas.js';
import { TradeBackfill } from './tradeBackfill.js';
import { TradeSequencer } from './tradeSequencer.js';
import type { Connection } from './wsConnection.js';

export type { GapCandle, OkxFeedEvent, OkxTradesOptions } from './okxFeedTypes.js';

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

/** The composition: connections, frame parsing, a sequencer and backfill per symbol, start-up check, health. */
class TradeFeed {
  private readonly log: Logger;
  private readonly symbols = new Map<string, TradeSequencer>();
  private readonly health = new HealthTracker(Date.now);
  /** Aborted by stop(): every REST request, backoff and wait of the feed ends at once. */
  private readonly abort = new AbortController();
  private readonly connections: OkxConnections;
  private readonly backfill: TradeBackfill;
  private readonly gaps: GapReportContext;
  private stopped = false;
  private checking = false;
  private healthTimer: ReturnType<typeof setInterval> | undefined;
  private loggedMalformed = false;

  constructor(
    private readonly options: OkxTradesOptions,
    private readonly subscriber: Subscriber<Trade>,
  ) {
    this.log = (options.logger ?? silentLogger).child({ component: 'okx-feed' });
    const random = options.random ?? Math.random;
    const { log, health } = this;
    const signal = this.abort.signal;
    this.gaps = {
      rest: options.rest,
      signal,
      log,
      health,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    };
    this.connections = new OkxConnections({
      options,
      log,
      health,
      random,
      signal,
      symbols: () => this.symbols,
      onMessage: (conn, data, binary) => this.onMessage(conn, data, binary),
    });
    this.backfill = new TradeBackfill({
      options,
      log,
      health,
      random,
      signal,
      hasSymbol: (instId) => this.symbols.has(instId),
      reportGap: (instId, fromMs, toMs) => reportTradeGap(this.gaps, instId, fromMs, toMs),
    });
    for (const instId of options.symbols) {
      const sequencer: TradeSequencer = new TradeSequencer(
        instId,
        {
          emit: (trade, raw) => this.emit(trade, raw),
          duplicate: () => (this.health.duplicatesDropped += 1),
          gap: (fromMs, toMs) => void reportTradeGap(this.gaps, instId, fromMs, toMs),
          backfill: (fromId, reason) => void this.backfill.run(sequencer, fromId, reason),
          resume: (head, fromMs) => void this.backfill.resume(sequencer, head, fromMs),
        },
        options.resumeFromMs?.get(instId),
      );
      this.symbols.set(instId, sequencer);
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
    void this.connections.connect();
    if (!checked) void this.checkBehind();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort(new InterruptedError('the OKX feed stopped'));
    clearInterval(this.healthTimer);
    this.connections.close();
  }

  snapshot(): FeedHealth {
    return this.health.snapshot(
      this.connections.isOpen,
      this.connections.url,
      this.options.rest.rateLimitedCount,
    );
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
        if (event.arg?.channel === 'books5') {
          this.connections.takeBookRequest(event.id);
          return;
        }
        this.connections.takeRequest(event.id);
        const instId = event.arg?.instId;
        const s = instId === undefined ? undefined : this.symbols.get(instId);
        if (instId === undefined || s === undefined) return;
        // Anything missed while we were away comes from REST; pushes wait meanwhile.
        if (this.connections.subscribed(conn, instId)) s.requestBackfill('reconnect');
        return;
      }
      case 'error': {
        if (this.connections.takeBookRequest(event.id)) {
          this.log.warn(
            { code: event.code, msg: event.msg, url: conn.url },
            'OKX refused a books5 subscription: no order book for it (its trades go on)',
          );
          return;
        }
        const requested = this.connections.takeRequest(event.id);
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
        this.connections.notice(conn, event.code);
        return;
      default:
        return;
    }
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

  private onTrade(d: WsTrade): void {
    const s = this.symbols.get(d.instId);
    if (s === undefined) return;
    this.health.latency(Number(d.ts));
    s.push(d);
  }

  private emit(trade: Trade, raw: unknown): void {
    const problem = tradeProblem(trade);
    if (problem !== undefined) return this.malformed(`impossible trade: ${problem}`, JSON.stringify(raw));
    this.health.tradesEmitted += 1;
    this.subscriber.next(trade);
  }

  // ---- start-up and health -------------------------------------------------------------------------------

  /** Drops the symbols OKX does not list; why it could not check, or undefined when it did. */
  private checkInstruments(call: RestCall, timeoutMs: number): Promise<string | undefined> {
    const ctx = { rest: this.options.rest, signal: this.abort.signal, log: this.log };
    return checkInstruments(ctx, this.symbols.keys(), call, timeoutMs, (instId, message) =>
      this.symbolError(instId, 'unknown_symbol', message),
    );
  }

  /** After a start without an answer from REST: checks again, with retries, while the stream runs. */
  private async checkBehind(): Promise<void> {
    const failure = await this.checkInstruments({}, this.options.checkTimeoutMs ?? 60_000);
    if (failure !== undefined && !this.stopped) {
      this.log.warn({ err: failure }, 'cannot check symbols against OKX instruments; going on unchecked');
    }
  }

  private reportHealth(): void {
    const health = this.snapshot();
    this.log.info({ ...health }, 'OKX feed health');
    this.options.onEvent?.({ type: 'health', health });
  }
}
