import { linkSignals, sleep } from '../../infra/abort.js';
import type { Logger } from '../../infra/logger.js';
import { backoffWith } from '../../infra/rateLimiter.js';
import type { HealthTracker } from './health.js';
import type { OkxTradesOptions } from './okxFeedTypes.js';
import type { RestCall } from './rest.js';
import type { RestTrade, WsTrade } from './schemas.js';
import type { TradeSequencer } from './tradeSequencer.js';

/** REST retries inside one backfill attempt: the attempts themselves retry too, with the live stream waiting. */
const BACKFILL_REST_RETRIES = 2;
const BACKFILL_ATTEMPTS = 3;
const BACKFILL_BACKOFF = { baseMs: 1_000, maxMs: 30_000, jitter: 0.2 };

export interface BackfillContext {
  readonly options: OkxTradesOptions;
  readonly log: Logger;
  readonly health: HealthTracker;
  readonly random: () => number;
  /** Aborted when the feed stops: every request, backoff and wait ends at once. */
  readonly signal: AbortSignal;
  /** False once the symbol was dropped (unknown to OKX). */
  hasSymbol(instId: string): boolean;
  reportGap(instId: string, fromMs: number, toMs: number): Promise<void>;
}

/**
 * Missed trades from OKX REST history while a symbol's pushes wait (`TradeSequencer`): after a reconnect or
 * a hole in the ids, and from where a restarted collector's history ends. Failed attempts back off
 * (`backfillBackoff`); REST that cannot serve them within 3 attempts or `backfillTimeoutMs` makes the missed
 * trades a gap, and the live stream goes on.
 */
export class TradeBackfill {
  constructor(private readonly ctx: BackfillContext) {}

  async run(s: TradeSequencer, fromId: number, reason: string): Promise<void> {
    const emitted = await this.fetch(s, fromId);
    if (this.ctx.signal.aborted || emitted === 'stopped') return;
    if (emitted === 'failed') return this.giveUp(s);
    this.ctx.health.backfilledTrades += emitted;
    if (emitted > 0) {
      this.ctx.log.info(
        { symbol: s.instId, trades: emitted, reason },
        'backfilled missed trades from OKX REST',
      );
      this.ctx.options.onEvent?.({ type: 'backfill', symbol: s.instId, trades: emitted, reason });
    }
    await this.drain(s);
  }

  /**
   * Emits the trades from `fromMs` up to the first push `head` from REST history (a gap with OKX's candles
   * where history does not reach), then the pushes that waited.
   */
  async resume(s: TradeSequencer, head: WsTrade, fromMs: number): Promise<void> {
    const { options, log } = this.ctx;
    const headTs = Number(head.ts);
    const headFirst = Number(head.tradeId) - Number(head.count ?? 1) + 1;
    const report = (outcome: 'trades' | 'gap' | 'skipped', trades: number): void =>
      options.onEvent?.({ type: 'resume', symbol: s.instId, fromMs, outcome, trades });
    if (headTs < fromMs || headTs - fromMs > (options.resumeLimitMs ?? 2 * 86_400_000)) {
      log.warn(
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
    const got = await this.withRetries(
      s,
      'resuming from OKX REST history failed: the missed trades are a gap',
      (call) => options.rest.tradesFromTime(s.instId, fromMs, headFirst, options.resumeMaxPages ?? 300, call),
    );
    if (this.ctx.signal.aborted || !this.ctx.hasSymbol(s.instId)) return;
    const trades = got?.trades ?? [];
    s.resumedFrom(fromMs);
    if (got?.complete === true) {
      report('trades', trades.length);
    } else {
      report('gap', trades.length);
      await this.ctx.reportGap(
        s.instId,
        fromMs,
        trades.length > 0 ? Number((trades[0] as RestTrade).ts) : headTs,
      );
      if (this.ctx.signal.aborted) return;
    }
    s.emitResumed(trades, head);
    this.ctx.health.backfilledTrades += trades.length;
    log.info(
      {
        symbol: s.instId,
        from: new Date(fromMs).toISOString(),
        trades: trades.length,
        complete: got?.complete,
      },
      'resumed after the stored history from OKX REST',
    );
    await this.drain(s);
  }

  /** Emits the trades after `fromId` from REST history; how many, or 'failed' when REST could not serve them. */
  private async fetch(s: TradeSequencer, fromId: number): Promise<number | 'failed' | 'stopped'> {
    const got = await this.withRetries(
      s,
      'backfill from OKX REST failed: going on with the live stream; the missed trades are a gap',
      async (call) => {
        // Pushes that waited meanwhile start where the hole ends: fetch only the hole.
        const since = await this.ctx.options.rest.tradesSince(
          s.instId,
          fromId,
          s.holeEnd(fromId),
          undefined,
          call,
        );
        if (this.ctx.signal.aborted || !this.ctx.hasSymbol(s.instId)) return 'stopped';
        return since;
      },
      'backfill from OKX REST failed; retrying',
    );
    if (got === 'stopped' || this.ctx.signal.aborted) return 'stopped';
    if (got === undefined) return 'failed';
    const first = got.trades[0];
    if (!got.complete && first !== undefined)
      await this.ctx.reportGap(s.instId, s.lastTsMs, Number(first.ts));
    return s.emitBackfilled(got.trades);
  }

  /**
   * `attempt` with backoff between failures; undefined after BACKFILL_ATTEMPTS failed attempts or
   * `backfillTimeoutMs` (logged as `failed`), or when the feed stopped.
   */
  private async withRetries<T>(
    s: TradeSequencer,
    failed: string,
    attempt: (call: RestCall) => Promise<T>,
    retrying?: string,
  ): Promise<T | undefined> {
    const { options, log } = this.ctx;
    const deadline = linkSignals([this.ctx.signal], options.backfillTimeoutMs ?? 30_000);
    const call: RestCall = { signal: deadline.signal, maxRetries: BACKFILL_REST_RETRIES };
    try {
      for (let n = 1; ; n++) {
        try {
          return await attempt(call);
        } catch (err) {
          if (this.ctx.signal.aborted) return undefined;
          if (n >= BACKFILL_ATTEMPTS || deadline.signal.aborted) {
            log.error({ symbol: s.instId, attempts: n, err: String(err) }, failed);
            return undefined;
          }
          const wait = backoffWith(n, options.backfillBackoff, BACKFILL_BACKOFF, this.ctx.random);
          if (retrying !== undefined)
            log.error({ symbol: s.instId, attempt: n, waitMs: wait, err: String(err) }, retrying);
          await sleep(wait, deadline.signal).catch(() => undefined);
        }
      }
    } finally {
      deadline.dispose();
    }
  }

  /** REST cannot fill the hole: report it as a gap and let the waiting pushes through. */
  private async giveUp(s: TradeSequencer): Promise<void> {
    const fromMs = s.lastTsMs;
    const head = s.abandonBackfill();
    if (head !== undefined) {
      await this.ctx.reportGap(s.instId, fromMs, Number(head.ts));
      s.continueBefore(head);
    }
    if (!this.ctx.signal.aborted) await this.drain(s);
  }

  /** Replays the pushes that waited during a backfill; a gap REST could not close is retried, then reported. */
  private async drain(s: TradeSequencer): Promise<void> {
    const plan = s.endBackfill();
    switch (plan.kind) {
      case 'retry':
        // REST can lag the WebSocket by a moment: wait a little and look again.
        await sleep(plan.delayMs, this.ctx.signal).catch(() => undefined);
        if (!this.ctx.signal.aborted) void this.run(s, s.lastId as number, 'gap still open');
        return;
      case 'remainder':
        this.ctx.log.warn(
          { symbol: s.instId, tradeId: plan.head.tradeId, lastId: s.lastId },
          'REST had only part of an aggregated push: emitting the rest of it',
        );
        s.emitRemainder(plan.head);
        break;
      case 'gap':
        await this.ctx.reportGap(s.instId, plan.fromMs, plan.toMs);
        s.continueBefore(plan.head);
        break;
      case 'replay':
        break;
    }
    s.replay(plan.waiting);
  }
}
