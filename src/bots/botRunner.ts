import type { SchedulerLike, Subscription } from 'rxjs';
import type { Bus } from '../bus/bus.js';
import { signalsChannel, statusChannel, type BusMessage } from '../bus/messages.js';
import type { Candle } from '../domain/candle.js';
import type { Signal } from '../domain/signal.js';
import type { Logger } from '../infra/logger.js';
import type { BotCandleRecord, RecordCandleResult } from '../storage/botRecords.js';
import type { BotStore } from '../storage/botStore.js';
import type { CandleStore } from '../storage/candleStore.js';
import type { StrategyRegistry } from '../strategies/registry.js';
import type { BotConfig } from './botConfig.js';
import { BotPipeline, parseBotState, warmupFromMs, type BotCandleOutcome } from './botPipeline.js';
import type { CandleFeed } from './candleFeed.js';

/**
 * Most records one write takes: a backlog of a day of 1m candles goes in a few statements, each of a
 * bounded size (a record is ~1–2 KB of JSON, mostly the engine snapshot).
 */
export const MAX_RECORDS_PER_WRITE = 256;

export interface BotRunnerDeps {
  readonly store: BotStore;
  /**
   * Writes a bot's records (in close-time order) in one statement (default: `store.recordCandle` one after
   * the other; the manager batches them across bots).
   */
  readonly record?: (botKey: string, steps: readonly BotCandleRecord[]) => Promise<RecordCandleResult[]>;
  readonly candles: CandleStore;
  /** The exchange `candles` reads. */
  readonly exchange: string;
  readonly feed: CandleFeed;
  readonly bus: Bus;
  readonly registry: StrategyRegistry;
  readonly scheduler: SchedulerLike;
  readonly logger: Logger;
}

export interface BotRunnerEvents {
  /** The pipeline broke (data, storage, a bug): the runner has stopped itself. */
  readonly error: (err: unknown) => void;
  /** A candle's record is committed (after its messages are published). */
  readonly recorded?: (outcome: BotCandleOutcome) => void;
}

/**
 * One bot on the live feed: warm-up on stored candles, catch-up on the candles stored since its last
 * record, then the live candles of its symbol — each through its BotPipeline, and each candle's record
 * committed (BotStore.recordCandles) before the next one's, then published (`signals:{bot_id}`: signals and
 * fills; `status:{bot_id}`: performance). Records made while a write is in flight wait in `backlog` and go
 * together in the next write (at most MAX_RECORDS_PER_WRITE): when the database is slower than the candles
 * for a while, the backlog is written in a few statements instead of one per candle, so it drains instead
 * of growing in memory (what the soak's memory rule caught at 240× on a busy machine).
 *
 * A runner is single-use: a restart is a new runner from the stored state.
 */
export class BotRunner {
  private pipeline: BotPipeline | undefined;
  private live: Subscription | undefined;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private failed = false;
  /** Close time of the last candle fed to the pipeline. */
  private fedToMs = Number.NEGATIVE_INFINITY;
  /** Close time of the last candle whose record is committed (or that needed none). */
  doneToMs = Number.NEGATIVE_INFINITY;
  /** Scheduler time of the last progress (start, a candle committed): the supervisor's heartbeat. */
  lastProgressAtMs: number;
  /** Records waiting to be committed, and since when the runner has had some. */
  private pending = 0;
  private busySinceMs = 0;
  /** Records made but not handed to a write yet, oldest first. */
  private backlog: BotCandleOutcome[] = [];
  /** A write of the backlog is queued and has not started yet. */
  private writeQueued = false;
  private readonly startedAtMs: number;
  /** Candles fed, records committed, fills written. */
  readonly counts = { candles: 0, records: 0, fills: 0 };

  constructor(
    readonly config: BotConfig,
    private readonly deps: BotRunnerDeps,
    private readonly events: BotRunnerEvents,
    /** While true, new entries are held (see BotPipeline). */
    private readonly paused: () => boolean,
  ) {
    this.lastProgressAtMs = deps.scheduler.now();
    this.startedAtMs = this.lastProgressAtMs;
  }

  /** True once warm-up and catch-up are fed and live candles flow straight in. */
  get started(): boolean {
    return this.pipeline !== undefined;
  }

  /** How long (scheduler ms) the runner has had work waiting without progress; 0 when idle. */
  stalledFor(nowMs: number): number {
    if (this.ended) return 0;
    if (this.pipeline === undefined) return nowMs - this.startedAtMs;
    if (this.pending === 0) return 0;
    return nowMs - Math.max(this.busySinceMs, this.lastProgressAtMs);
  }

  /** Loads the bot's state, warms up, catches up, and goes live. Rejects when it cannot start. */
  async start(): Promise<void> {
    const { store, candles, feed } = this.deps;
    const c = this.config;
    const row = await store.loadBot(c.botId);
    const saved =
      row?.engineState === undefined || row.engineState === null ? undefined : parseBotState(row.engineState);
    // Live candles arriving while history loads wait here.
    const waiting: Candle[] = [];
    this.live = feed.candles(c.symbol).subscribe((candle) => {
      if (this.pipeline === undefined) waiting.push(candle);
      else this.feed(candle);
    });
    const strategy = this.deps.registry.create(c.strategyName, c.parameters, c.source);
    const resumeMs = saved?.engine.pricedToMs ?? undefined;
    // A fresh bot warms up on the newest candles there are (the demo's simulated clock runs ahead of ours).
    const newest = Math.max(
      (await candles.newestCloseTimeMs(c.symbol, '1m')) ?? Number.NEGATIVE_INFINITY,
      feed.lastCloseMs(c.symbol),
    );
    const anchor = resumeMs ?? (Number.isFinite(newest) ? newest : this.deps.scheduler.now());
    const fromMs = warmupFromMs(strategy, anchor);
    const stored = await candles.range(c.symbol, '1m', fromMs, Number.MAX_SAFE_INTEGER);
    const history = mergeCandles(stored, feed.recent(c.symbol), fromMs);
    const lastHistoryMs = history[history.length - 1]?.closeTimeMs ?? Number.NEGATIVE_INFINITY;
    const tradeFromMs = Math.max(lastHistoryMs, row?.lastCandleMs ?? Number.NEGATIVE_INFINITY) + 1;
    if (this.stopped) {
      this.live.unsubscribe();
      return;
    }
    this.pipeline = new BotPipeline(c, this.deps.registry, {
      ...(saved !== undefined ? { saved } : { tradeFromMs }),
      paused: this.paused,
    });
    this.deps.logger.info(
      {
        bot: c.botId,
        resumedFrom: resumeMs === undefined ? undefined : new Date(resumeMs).toISOString(),
        history: history.length,
      },
      saved !== undefined ? 'bot restored' : 'bot started',
    );
    for (const candle of history) this.feed(candle);
    for (const candle of waiting) this.feed(candle);
    this.lastProgressAtMs = this.deps.scheduler.now();
  }

  /** Stops taking candles and waits for the record being written (later ones are left to the catch-up). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.live?.unsubscribe();
    this.pipeline?.close();
    await this.queue.catch(() => undefined);
  }

  /** Resolves when the records of the candles fed so far are committed (or given up). */
  async idle(): Promise<void> {
    // A write may queue the rest of a long backlog after itself: wait until nothing more was queued.
    for (let q = this.queue; ; q = this.queue) {
      await q;
      if (q === this.queue) return;
    }
  }

  /** True once stopped or failed. */
  get ended(): boolean {
    return this.stopped || this.failed;
  }

  /** Close time of the newest candle fed in (history or live). */
  get fedTo(): number {
    return this.fedToMs;
  }

  private feed(candle: Candle): void {
    if (this.stopped || this.failed || this.pipeline === undefined) return;
    if (candle.closeTimeMs <= this.fedToMs) return;
    this.fedToMs = candle.closeTimeMs;
    let outcome: BotCandleOutcome | undefined;
    try {
      outcome = this.pipeline.onCandle(candle);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.counts.candles++;
    const closeMs = candle.closeTimeMs;
    if (outcome === undefined) {
      // Warm-up: nothing to store; still progress once what came before is stored.
      this.queue = this.queue.then(() => {
        if (closeMs > this.doneToMs) this.doneToMs = closeMs;
      });
      return;
    }
    if (this.pending++ === 0) this.busySinceMs = this.deps.scheduler.now();
    this.backlog.push(outcome);
    this.queueWrite();
  }

  /** Queues a write of the backlog after what is queued, unless one is queued and has not started yet. */
  private queueWrite(): void {
    if (this.writeQueued) return;
    this.writeQueued = true;
    this.queue = this.queue.then(() => this.writeBacklog());
  }

  /** Writes the oldest records waiting (all of them, up to MAX_RECORDS_PER_WRITE) in one call, then publishes them. */
  private async writeBacklog(): Promise<void> {
    this.writeQueued = false;
    // Once stopped, records not yet written are dropped: the stored state is an earlier candle's, and the
    // next start catches up from there on the stored candles (a stop never waits for a backlog).
    if (this.failed || this.stopped) return;
    const batch = this.backlog.splice(0, MAX_RECORDS_PER_WRITE);
    if (this.backlog.length > 0) this.queueWrite();
    const last = batch[batch.length - 1];
    if (last === undefined) return;
    try {
      const steps = batch.map((o) => o.record);
      const results = await (this.deps.record !== undefined
        ? this.deps.record(this.config.botId, steps)
        : this.recordOneByOne(steps));
      for (const r of results) {
        this.counts.records++;
        this.counts.fills += r.fillsWritten;
      }
      if (last.record.closeTimeMs > this.doneToMs) this.doneToMs = last.record.closeTimeMs;
      this.pending -= batch.length;
      this.lastProgressAtMs = this.deps.scheduler.now();
      for (const o of batch) {
        this.publish(o);
        this.events.recorded?.(o);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private async recordOneByOne(steps: readonly BotCandleRecord[]): Promise<RecordCandleResult[]> {
    const results: RecordCandleResult[] = [];
    for (const step of steps) results.push(await this.deps.store.recordCandle(this.config.botId, step));
    return results;
  }

  private fail(err: unknown): void {
    if (this.failed || this.stopped) return;
    this.failed = true;
    this.live?.unsubscribe();
    this.pipeline?.close();
    this.events.error(err);
  }

  private publish(o: BotCandleOutcome): void {
    const { bus } = this.deps;
    const botId = this.config.botId;
    const signals = signalsChannel(botId);
    for (const s of o.signals) void bus.publish(signals, signalMessage(botId, s));
    for (const f of o.record.fills) {
      const m: BusMessage = {
        type: 'fill',
        botId,
        tsMs: f.timeMs,
        symbol: this.config.symbol,
        side: f.side,
        price: f.price,
        qty: f.qty,
        fee: f.fee,
        ...(f.pnl !== undefined ? { pnl: f.pnl } : {}),
        balanceAfter: f.balanceAfter,
        orderId: f.orderId,
        seq: f.seq,
        ...(f.reason !== undefined ? { reason: f.reason } : {}),
      };
      void bus.publish(signals, m);
    }
    const p = o.record.performance;
    void bus.publish(statusChannel(botId), {
      type: 'performance',
      botId,
      tsMs: o.record.closeTimeMs,
      totalValue: p.totalValue,
      cash: p.cash,
      cryptoValue: p.cryptoValue,
      totalTrades: p.totalTrades,
      winningTrades: p.winningTrades,
      totalFees: p.totalFees,
    });
  }
}

function signalMessage(botId: string, s: Signal): BusMessage {
  const indicators: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(s.indicators)) {
    indicators[k] = v !== undefined && Number.isFinite(v) ? v : null;
  }
  return {
    type: 'signal',
    botId,
    tsMs: s.closeTimeMs,
    action: s.action,
    price: s.price,
    confidence: Math.min(1, Math.max(0, Number.isFinite(s.confidence) ? s.confidence : 0)),
    reason: s.reason,
    symbol: s.symbol,
    indicators,
  };
}

/** Stored and recently seen candles from `fromMs` on, one per close time (the stored one wins), in order. */
function mergeCandles(stored: readonly Candle[], recent: readonly Candle[], fromMs: number): Candle[] {
  const byTime = new Map<number, Candle>();
  for (const c of recent) if (c.closeTimeMs >= fromMs) byTime.set(c.closeTimeMs, c);
  for (const c of stored) byTime.set(c.closeTimeMs, c);
  return [...byTime.values()].sort((a, b) => a.closeTimeMs - b.closeTimeMs);
}
