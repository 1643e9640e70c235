import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { asyncScheduler, Subject, tap, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { Bus, BusStats } from '../bus/bus.js';
import { SYSTEM_CHANNEL } from '../bus/messages.js';
import type { Candle } from '../domain/candle.js';
import { MINUTE_MS, TIMEFRAMES, type Timeframe } from '../domain/timeframe.js';
import type { Trade } from '../domain/trade.js';
import { silentLogger, type Logger } from '../infra/logger.js';
import { resampleCandles } from '../operators/resampleCandles.js';
import { skipPartialStart } from '../operators/skipPartialStart.js';
import { tradesToCandles } from '../operators/tradesToCandles.js';
import type { BatchWriter, BatchWriterStats } from '../sinks/batchWriter.js';
import { CandlePublisher } from '../sinks/busPublisher.js';
import { candleSink, rawTradeSink } from '../sinks/storeSinks.js';
import type { Database } from '../storage/database.js';
import type { FeedHealth } from '../streams/okx/health.js';
import {
  okxTrades,
  type GapCandle,
  type OkxFeedEvent,
  type OkxTradesOptions,
} from '../streams/okx/okxTrades.js';
import { OkxRestClient } from '../streams/okx/rest.js';

/**
 * Exchange 1m candles for minutes whose trades we could not get (REST history did not reach back) take
 * this revision, so they win over the zero-volume candles the live pipeline closed for those minutes by
 * the clock, whichever is written first.
 */
export const EXCHANGE_CANDLE_REVISION = 1000;

export interface CollectorOptions {
  readonly symbols: readonly string[];
  readonly wsUrl: string;
  readonly backupWsUrl?: string;
  readonly restUrl: string;
  readonly db: Database;
  readonly bus: Bus;
  /** The `exchange` column: "okx", or "okx-sim" when collecting from the simulator. */
  readonly exchange?: string;
  /** Timeframes stored and published. Default all: 1m, 5m, 15m, 1h, 4h, 1d. */
  readonly timeframes?: readonly Timeframe[];
  /** Also store every trade in `raw_trades`. Default false. */
  readonly rawTrades?: boolean;
  /** Where sinks spill during long database outages. Default ./data/spill. */
  readonly spillDir?: string;
  /** Candles kept in memory during a database outage before spilling. Default 100 000. */
  readonly maxQueued?: number;
  /** Live: asyncScheduler (the default). A demo against the simulator may pass a ReplayClock. */
  readonly scheduler?: SchedulerLike;
  /** Grace after a minute's close before a quiet minute is closed by the clock. Default 2000 ms. */
  readonly graceMs?: number;
  readonly logger?: Logger;
  /** Extra feed settings (keepalive, backoff...), mostly for tests. */
  readonly feed?: Partial<Omit<OkxTradesOptions, 'symbols' | 'wsUrl' | 'rest' | 'logger' | 'onEvent'>>;
}

export interface CollectorStats {
  readonly trades: number;
  readonly candles: number;
  readonly lateTrades: number;
  readonly skippedPartial: number;
  readonly gapCandles: number;
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
  private readonly log: Logger;
  private readonly root: Logger;
  private readonly candles: BatchWriter<Candle>;
  private readonly raw: BatchWriter<Trade> | undefined;
  private readonly publisher: CandlePublisher;
  private subscription: Subscription | undefined;
  private counts = { trades: 0, candles: 0, lateTrades: 0, skippedPartial: 0, gapCandles: 0 };
  private readonly symbolErrors: Record<string, string> = {};
  private health: FeedHealth | undefined;
  private finished!: Promise<void>;

  constructor(private readonly options: CollectorOptions) {
    this.root = options.logger ?? silentLogger;
    this.log = this.root.child({ component: 'collector' });
    const exchange = options.exchange ?? 'okx';
    const spillDir = options.spillDir ?? './data/spill';
    this.candles = candleSink(options.db, {
      exchange,
      spillPath: join(spillDir, `candles-${spillKey(exchange, options.symbols)}.jsonl`),
      ...(options.maxQueued !== undefined ? { maxQueued: options.maxQueued } : {}),
      logger: this.log,
    });
    this.raw = options.rawTrades
      ? rawTradeSink(options.db, {
          exchange,
          spillPath: join(spillDir, `raw-trades-${spillKey(exchange, options.symbols)}.jsonl`),
          logger: this.log,
        })
      : undefined;
    this.publisher = new CandlePublisher(options.bus);
  }

  /** Connects and runs until `stop`. `done` settles when the feed ends (it errors only when no symbol is left). */
  start(): void {
    if (this.subscription !== undefined) throw new Error('collector already started');
    const o = this.options;
    const scheduler = o.scheduler ?? asyncScheduler;
    const timeframes = o.timeframes ?? TIMEFRAMES;
    const rest = new OkxRestClient({
      baseUrl: o.restUrl,
      logger: this.root.child({ component: 'okx-rest' }),
    });
    const trades$ = okxTrades({
      ...o.feed,
      symbols: o.symbols,
      wsUrl: o.wsUrl,
      ...(o.backupWsUrl !== undefined ? { backupWsUrl: o.backupWsUrl } : {}),
      rest,
      logger: this.root,
      onEvent: (e) => this.onFeedEvent(e),
    }).pipe(
      tap((t) => {
        this.counts.trades += 1;
        this.raw?.add(t);
      }),
    );
    const candles$ = trades$.pipe(
      tradesToCandles(
        {
          graceMs: o.graceMs ?? 2000,
          reviseLateTrades: true,
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
      resampleCandles(timeframes.includes('1m') ? timeframes : ['1m', ...timeframes]),
      skipPartialStart(() => (this.counts.skippedPartial += 1)),
    );
    this.finished = new Promise<void>((resolve, reject) => {
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
    this.finished.catch(() => undefined);
    this.log.info({ symbols: o.symbols, timeframes, exchange: o.exchange ?? 'okx' }, 'collector started');
  }

  /** Settles when the feed ends by itself; rejects with the error that stopped it. */
  get done(): Promise<void> {
    return this.finished;
  }

  /** Stops the feed and flushes the sinks (what the database cannot take in time goes to the spill files). */
  async stop(timeoutMs = 5000): Promise<void> {
    this.subscription?.unsubscribe();
    this.candleSubject.complete();
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
      case 'gap':
        this.onGap(event.symbol, event.fromMs, event.toMs, event.candles);
        return;
    }
  }

  /** Minutes whose trades are lost: store and publish the exchange's own 1m candles for them. */
  private onGap(symbol: string, fromMs: number, toMs: number, candles: readonly GapCandle[]): void {
    this.system(
      'feed-gap',
      `${symbol}: trades ${new Date(fromMs).toISOString()} … ${new Date(toMs).toISOString()} unavailable; using OKX 1m candles`,
    );
    if (!(this.options.timeframes ?? TIMEFRAMES).includes('1m')) return;
    for (const g of candles) {
      this.counts.gapCandles += 1;
      this.emit({
        symbol,
        timeframe: '1m',
        closeTimeMs: g.openTimeMs + MINUTE_MS,
        open: g.open,
        high: g.high,
        low: g.low,
        close: g.close,
        volume: g.volume,
        tradesCount: 0,
        closed: true,
        revision: EXCHANGE_CANDLE_REVISION,
      });
    }
  }

  private system(event: string, detail: string): void {
    this.log.info({ event, detail }, event);
    void this.options.bus.publish(SYSTEM_CHANNEL, { type: 'system', tsMs: Date.now(), event, detail });
  }
}

/**
 * Names a collector's spill files by exchange and symbol set, so two collectors for different symbols never
 * share (and replay or delete) each other's file, while a restart with the same symbols finds its own.
 */
export function spillKey(exchange: string, symbols: readonly string[]): string {
  const set = [...new Set(symbols)].sort().join('_');
  const readable = `${exchange}-${set}`.replace(/[^A-Za-z0-9_-]/g, '_');
  if (readable.length <= 80) return readable;
  return `${exchange.replace(/[^A-Za-z0-9_-]/g, '_')}-${createHash('sha256').update(set).digest('hex').slice(0, 16)}`;
}
