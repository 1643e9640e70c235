import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  asyncScheduler,
  merge,
  Subject,
  takeUntil,
  tap,
  type Observable,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import type { Bus, BusStats } from '../bus/bus.js';
import { SYSTEM_CHANNEL } from '../bus/messages.js';
import type { Candle } from '../domain/candle.js';
import { UsageError } from '../domain/errors.js';
import { MINUTE_MS, TIMEFRAMES, type Timeframe } from '../domain/timeframe.js';
import type { Trade } from '../domain/trade.js';
import { silentLogger, type Logger } from '../infra/logger.js';
import { mergeExchangeCandles } from '../operators/mergeExchangeCandles.js';
import { resampleCandles } from '../operators/resampleCandles.js';
import { skipPartialStart } from '../operators/skipPartialStart.js';
import { DEFAULT_GRACE_MS, tradesToCandles } from '../operators/tradesToCandles.js';
import type { BatchWriter, BatchWriterStats } from '../sinks/batchWriter.js';
import { CandlePublisher } from '../sinks/busPublisher.js';
import { candleSink, rawTradeSink } from '../sinks/storeSinks.js';
import { CandleStore } from '../storage/candleStore.js';
import type { Database } from '../storage/database.js';
import type { OkxBook } from '../streams/okx/books.js';
import type { FeedHealth } from '../streams/okx/health.js';
import type { GapCandle, OkxFeedEvent, OkxTradesOptions } from '../streams/okx/okxTrades.js';
import { okxCandle } from '../streams/okx/okxCandle.js';
import type { ExchangeAdapter } from '../exchanges/exchangeAdapter.js';
import { OkxAdapter } from '../exchanges/okxAdapter.js';
import { planRestart, restartSeedRange, type RestartPlan } from './restartPlan.js';
import { DEFAULT_EXCHANGE } from '../domain/exchange.js';
import { dataPaths } from '../config/dataDir.js';

/** Late trades revise the 1m candles of the last this many minutes (and the higher candles they make). */
const REVISION_WINDOW = 60;

/** Per resumed symbol: its plan, and whether the live stream turned out to continue it without a hole. */
interface Resume {
  readonly plan: RestartPlan;
  state: 'pending' | 'awaiting-gap' | 'whole' | 'fresh';
}

export interface CollectorOptions {
  readonly symbols: readonly string[];
  /**
   * Where the trades come from. Default: OKX through its native client (an OkxAdapter on `wsUrl`,
   * `backupWsUrl`, `restUrl`, `restTimeoutMs`, `feed` and `orderBooks`), which the collector owns and closes.
   * Another adapter (Kraken through ccxt) is its creator's to close; stored history is continued only when
   * it `resumes`.
   */
  readonly adapter?: ExchangeAdapter;
  /** OKX's public WebSocket (required without `adapter`). */
  readonly wsUrl?: string;
  readonly backupWsUrl?: string;
  /** OKX's REST base (required without `adapter`). */
  readonly restUrl?: string;
  /** Per REST request: no answer within this long counts as a failure (then retried). Default 10 000. */
  readonly restTimeoutMs?: number;
  readonly db: Database;
  readonly bus: Bus;
  /** The `exchange` column: "okx", or "okx-sim" when collecting from the simulator. */
  readonly exchange?: string;
  /** Timeframes stored and published. Default all: 1m, 5m, 15m, 1h, 4h, 1d. */
  readonly timeframes?: readonly Timeframe[];
  /**
   * Also subscribe OKX `books5` of the symbols and put each top of book on `books$` (nothing is stored).
   * Default false: only a process serving the API shows books.
   */
  readonly orderBooks?: boolean;
  /** Also store every trade in `raw_trades`. Default false. */
  readonly rawTrades?: boolean;
  /** Where sinks spill during long database outages. Default ./data/spill. */
  readonly spillDir?: string;
  /** Where sinks put the rows the database refuses, with the reason. Default ./data/dead-letter. */
  readonly deadLetterDir?: string;
  /** Candles kept in memory during a database outage before spilling. Default 100 000. */
  readonly maxQueued?: number;
  /** Live: asyncScheduler (the default). A demo against the simulator may pass a ReplayClock. */
  readonly scheduler?: SchedulerLike;
  /** Grace after a minute's close before a quiet minute is closed by the clock. Default 2000 ms. */
  readonly graceMs?: number;
  readonly logger?: Logger;
  /**
   * Continue the stored history on start (default true): fetch what was missed since each symbol's newest
   * stored 1m candle from OKX REST, and complete the 5m…1d candles spanning the restart.
   */
  readonly resume?: boolean;
  /** Extra feed settings (keepalive, backoff...), mostly for tests. */
  readonly feed?: Partial<Omit<OkxTradesOptions, 'symbols' | 'wsUrl' | 'rest' | 'logger' | 'onEvent'>>;
}

export interface CollectorStats {
  readonly trades: number;
  readonly candles: number;
  readonly lateTrades: number;
  readonly skippedPartial: number;
  readonly gapCandles: number;
  /** Per symbol resumed on start: `whole` (continued without a hole), `fresh`, or still `pending`. */
  readonly resumed: Readonly<Record<string, string>>;
  readonly symbolErrors: Readonly<Record<string, string>>;
  readonly health: FeedHealth | undefined;
  readonly candleSink: BatchWriterStats;
  readonly rawTradeSink: BatchWriterStats | undefined;
  readonly bus: BusStats;
  readonly publishLatencyMs: { readonly p50: number; readonly p99: number; readonly count: number };
}

/**
 * The live market-data composition root: OKX trades → 1m candles → 5m…1d → `market_data` (batched COPY
 * upserts that survive outages) and `market:{symbol}` on the bus. Every closed candle is also on
 * `candles$` (hot, shared) for bots and the dashboard.
 */
export class Collector {
  private readonly candleSubject = new Subject<Candle>();
  /** Closed candles as they are stored and published (hot: subscribe before `start`). */
  readonly candles$: Observable<Candle> = this.candleSubject.asObservable();
  private readonly tradeSubject = new Subject<Trade>();
  /** Every trade from the feed as it arrives (hot): the API's recent trades of a symbol. */
  readonly trades$: Observable<Trade> = this.tradeSubject.asObservable();
  private readonly bookSubject = new Subject<OkxBook>();
  /** With `orderBooks`: each `books5` push of the symbols, parsed (hot): the API's order book. */
  readonly books$: Observable<OkxBook> = this.bookSubject.asObservable();
  private readonly log: Logger;
  private readonly root: Logger;
  private readonly candles: BatchWriter<Candle>;
  private readonly raw: BatchWriter<Trade> | undefined;
  private readonly publisher: CandlePublisher;
  private subscription: Subscription | undefined;
  private started = false;
  private stopped = false;
  /** OKX's own 1m candles for minutes whose trades were lost: merged into the 1m stream. */
  private readonly exchangeCandles = new Subject<Candle>();
  private readonly resumes = new Map<string, Resume>();
  private counts = { trades: 0, candles: 0, lateTrades: 0, skippedPartial: 0, gapCandles: 0 };
  private readonly symbolErrors: Record<string, string> = {};
  private health: FeedHealth | undefined;
  private finished!: Promise<void>;
  /** Aborted by stop(): REST requests and their waits end at once instead of keeping the process alive. */
  private readonly abort = new AbortController();
  /** Emits on stop(): ends the feed, so what it delivered is turned into candles before the pipeline stops. */
  private readonly stopping = new Subject<void>();

  constructor(private readonly options: CollectorOptions) {
    if (options.adapter === undefined && (options.wsUrl === undefined || options.restUrl === undefined)) {
      throw new UsageError('collector: give an exchange adapter, or OKX wsUrl and restUrl');
    }
    this.root = options.logger ?? silentLogger;
    this.log = this.root.child({ component: 'collector' });
    const exchange = options.exchange ?? DEFAULT_EXCHANGE;
    const spillDir = options.spillDir ?? dataPaths().spill;
    const deadLetterDir = options.deadLetterDir ?? dataPaths().deadLetter;
    const key = spillKey(exchange, options.symbols);
    this.candles = candleSink(options.db, {
      exchange,
      spillPath: join(spillDir, `candles-${key}.jsonl`),
      deadLetterPath: join(deadLetterDir, `candles-${key}.jsonl`),
      ...(options.maxQueued !== undefined ? { maxQueued: options.maxQueued } : {}),
      logger: this.log,
    });
    this.raw = options.rawTrades
      ? rawTradeSink(options.db, {
          exchange,
          spillPath: join(spillDir, `raw-trades-${key}.jsonl`),
          deadLetterPath: join(deadLetterDir, `raw-trades-${key}.jsonl`),
          logger: this.log,
        })
      : undefined;
    this.publisher = new CandlePublisher(options.bus);
  }

  /** Connects and runs until `stop`. `done` settles when the feed ends (it errors only when no symbol is left). */
  start(): void {
    if (this.started) throw new UsageError('collector already started');
    this.started = true;
    this.finished = this.planRestarts().then((plans) => (this.stopped ? undefined : this.run(plans)));
    this.finished.catch(() => undefined);
  }

  /** Per symbol with stored 1m candles: how to continue them (nothing when resuming is off or fails). */
  private async planRestarts(): Promise<Map<string, RestartPlan>> {
    const plans = new Map<string, RestartPlan>();
    const o = this.options;
    const timeframes = o.timeframes ?? TIMEFRAMES;
    if (o.resume === false || o.adapter?.resumes === false) return plans;
    const store = new CandleStore(o.db, o.exchange ?? DEFAULT_EXCHANGE);
    try {
      for (const symbol of o.symbols) {
        const newest = await store.newestCloseTimeMs(symbol, '1m');
        if (newest === undefined) continue;
        const range = restartSeedRange(newest, timeframes);
        const stored = await store.range(symbol, '1m', range.fromMs, range.toMs);
        const plan = planRestart(symbol, newest, stored, timeframes);
        if (plan !== undefined) plans.set(symbol, plan);
      }
    } catch (err) {
      this.log.warn(
        { err: String(err) },
        'cannot read the stored candles: starting without continuing them (the minutes missed stay missing)',
      );
      return new Map();
    }
    for (const plan of plans.values()) this.resumes.set(plan.symbol, { plan, state: 'pending' });
    return plans;
  }

  private run(plans: ReadonlyMap<string, RestartPlan>): Promise<void> {
    const o = this.options;
    const scheduler = o.scheduler ?? asyncScheduler;
    const timeframes = o.timeframes ?? TIMEFRAMES;
    const adapter = o.adapter ?? this.okxAdapter();
    const feed$ = adapter.trades$(o.symbols, {
      onEvent: (e) => this.onFeedEvent(e),
      resumeFromMs: new Map([...plans.values()].map((p) => [p.symbol, p.resumeFromMs])),
    });
    const trades$ = feed$.pipe(
      // stop() completes the stream rather than only unsubscribing it: tradesToCandles then sends the
      // revisions of late trades it has taken in but not yet sent (it sends them at the end of a burst).
      takeUntil(this.stopping),
      tap((t) => {
        this.counts.trades += 1;
        this.raw?.add(t);
        this.tradeSubject.next(t);
      }),
    );
    /** The resumed plan of a symbol whose live stream continues its stored history without a hole. */
    const whole = (symbol: string): RestartPlan | undefined => {
      const r = this.resumes.get(symbol);
      return r?.state === 'whole' ? r.plan : undefined;
    };
    const fromTrades$ = trades$.pipe(
      tradesToCandles(
        {
          graceMs: o.graceMs ?? DEFAULT_GRACE_MS,
          reviseLateTrades: true,
          revisionWindow: REVISION_WINDOW,
          onLateTrade: (late) => {
            this.counts.lateTrades += 1;
            if (this.counts.lateTrades <= 10 || this.counts.lateTrades % 1000 === 0) {
              this.log.warn(
                {
                  symbol: late.trade.symbol,
                  tradeId: late.trade.tradeId,
                  candle: late.candleCloseTimeMs,
                  revised: late.revised,
                },
                'late trade for an emitted candle',
              );
            }
          },
        },
        scheduler,
      ),
    );
    const candles$ = merge(fromTrades$, this.exchangeCandles).pipe(
      mergeExchangeCandles({ continues: (symbol) => whole(symbol)?.storedEnd }),
      resampleCandles(timeframes.includes('1m') ? timeframes : ['1m', ...timeframes], {
        seed: (symbol) => whole(symbol)?.seed ?? [],
        // A minute revised by late trades revises its 5m…1d candles too, however few timeframes are kept.
        holdMs: REVISION_WINDOW * MINUTE_MS,
      }),
      skipPartialStart({
        onSkip: () => (this.counts.skippedPartial += 1),
        wholeFromMs: (symbol) => whole(symbol)?.wholeFromMs,
      }),
    );
    const finished = new Promise<void>((resolve, reject) => {
      this.subscription = candles$.subscribe({
        next: (c) => {
          if (!timeframes.includes(c.timeframe)) return;
          this.emit(c);
        },
        error: (err: unknown) => {
          this.log.error({ err }, 'market data feed stopped');
          reject(err instanceof Error ? err : new Error(String(err)));
        },
        complete: resolve,
      });
    });
    this.log.info(
      { symbols: o.symbols, timeframes, exchange: o.exchange ?? DEFAULT_EXCHANGE },
      'collector started',
    );
    return finished;
  }

  /** The default adapter: OKX through its native client, on the collector's URLs, aborted by stop(). */
  private okxAdapter(): OkxAdapter {
    const o = this.options;
    return new OkxAdapter({
      wsUrl: o.wsUrl as string,
      restUrl: o.restUrl as string,
      ...(o.backupWsUrl !== undefined ? { backupWsUrl: o.backupWsUrl } : {}),
      ...(o.restTimeoutMs !== undefined ? { restTimeoutMs: o.restTimeoutMs } : {}),
      ...(o.feed !== undefined ? { feed: o.feed } : {}),
      ...(o.orderBooks === true ? { onBook: (b: OkxBook) => this.bookSubject.next(b) } : {}),
      signal: this.abort.signal,
      logger: this.root,
    });
  }

  /** Settles when the feed ends by itself; rejects with the error that stopped it. */
  get done(): Promise<void> {
    return this.finished;
  }

  /** Stops the feed and flushes the sinks (what the database cannot take in time goes to the spill files). */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    // The feed and OKX's gap candles end first, so the candles of what was received go out, then the rest.
    this.stopping.next();
    this.stopping.complete();
    this.exchangeCandles.complete();
    this.subscription?.unsubscribe();
    this.candleSubject.complete();
    this.tradeSubject.complete();
    this.bookSubject.complete();
    await Promise.all([this.candles.close(timeoutMs), this.raw?.close(timeoutMs)]);
    this.log.info({ ...this.counts, stored: this.candles.stats().written }, 'collector stopped');
  }

  /** Resolves when every candle emitted so far is committed. */
  async flushed(): Promise<void> {
    await Promise.all([this.candles.drain(), this.raw?.drain()]);
  }

  stats(): CollectorStats {
    return {
      ...this.counts,
      resumed: Object.fromEntries([...this.resumes].map(([symbol, r]) => [symbol, r.state])),
      symbolErrors: { ...this.symbolErrors },
      health: this.health,
      candleSink: this.candles.stats(),
      rawTradeSink: this.raw?.stats(),
      bus: this.options.bus.stats(),
      publishLatencyMs: this.publisher.latency(),
    };
  }

  private emit(candle: Candle): void {
    this.counts.candles += 1;
    this.candles.add(candle);
    this.publisher.publish(candle);
    this.candleSubject.next(candle);
  }

  private onFeedEvent(event: OkxFeedEvent): void {
    switch (event.type) {
      case 'health':
        this.health = event.health;
        return;
      case 'symbol-error':
        this.symbolErrors[event.symbol] = `${event.code}: ${event.message}`;
        this.system('symbol-error', `${event.symbol}: ${event.message} (${event.code})`);
        return;
      case 'connected':
        this.system(event.reconnect ? 'feed-reconnected' : 'feed-connected', event.url);
        return;
      case 'disconnected':
        this.system('feed-disconnected', `${event.url}: ${event.reason}`);
        return;
      case 'backfill':
        this.log.info(
          { symbol: event.symbol, trades: event.trades, reason: event.reason },
          'backfilled trades',
        );
        return;
      case 'resume': {
        const r = this.resumes.get(event.symbol);
        if (r === undefined) return;
        r.state = event.outcome === 'trades' ? 'whole' : event.outcome === 'gap' ? 'awaiting-gap' : 'fresh';
        this.log.info(
          {
            symbol: event.symbol,
            from: new Date(event.fromMs).toISOString(),
            outcome: event.outcome,
            trades: event.trades,
          },
          event.outcome === 'skipped'
            ? 'not continuing the stored candles: the live stream is not shortly after them'
            : 'continuing the stored candles',
        );
        return;
      }
      case 'gap':
        this.onGap(event.symbol, event.fromMs, event.toMs, event.candles);
        return;
    }
  }

  /**
   * Minutes whose trades are lost: OKX's own 1m candles for them join the 1m stream (stored, published, and
   * resampled into 5m…1d), winning over what we built from the trades we saw.
   */
  private onGap(symbol: string, fromMs: number, toMs: number, candles: readonly GapCandle[]): void {
    this.system(
      'feed-gap',
      `${symbol}: trades ${new Date(fromMs).toISOString()} … ${new Date(toMs).toISOString()} unavailable; using OKX 1m candles`,
    );
    const exchange = candles.map((g) => okxCandle(symbol, g));
    this.counts.gapCandles += exchange.length;
    const r = this.resumes.get(symbol);
    if (r?.state === 'awaiting-gap') {
      // A resume REST history did not reach: whole only if OKX's candles cover every minute up to the
      // first trade we have (the minute it is in included: our candle of it misses the trades before it).
      const have = new Set(exchange.map((c) => c.closeTimeMs));
      let covered = true;
      for (let t = fromMs + MINUTE_MS; t <= toMs - (toMs % MINUTE_MS) + MINUTE_MS; t += MINUTE_MS) {
        if (!have.has(t)) covered = false;
      }
      r.state = covered ? 'whole' : 'fresh';
      if (!covered) {
        // A fresh start after them: the stream's first minute is partial, so they are stored on their own.
        if ((this.options.timeframes ?? TIMEFRAMES).includes('1m')) for (const c of exchange) this.emit(c);
        return;
      }
    }
    for (const c of exchange) this.exchangeCandles.next(c);
  }

  private system(event: string, detail: string): void {
    this.log.info({ event, detail }, event);
    void this.options.bus.publish(SYSTEM_CHANNEL, { type: 'system', tsMs: Date.now(), event, detail });
  }
}

/**
 * Names a collector's spill and dead-letter files by exchange and symbol set, so two collectors for
 * different symbols never share (and replay or delete) each other's file, while a restart with the same
 * symbols finds its own.
 */
export function spillKey(exchange: string, symbols: readonly string[]): string {
  const set = [...new Set(symbols)].sort().join('_');
  const readable = `${exchange}-${set}`.replace(/[^A-Za-z0-9_-]/g, '_');
  if (readable.length <= 80) return readable;
  return `${exchange.replace(/[^A-Za-z0-9_-]/g, '_')}-${createHash('sha256').update(set).digest('hex').slice(0, 16)}`;
}
