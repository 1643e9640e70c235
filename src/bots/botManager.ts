import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { asyncScheduler, interval, type SchedulerLike, type Subscription } from 'rxjs';
import type { Bus } from '../bus/bus.js';
import { statusChannel, SYSTEM_CHANNEL } from '../bus/messages.js';
import { ConflictError, NotFoundError, RxtradeError, UsageError } from '../domain/errors.js';
import { silentLogger, type Logger } from '../infra/logger.js';
import type { Database } from '../storage/database.js';
import { BotStore, type BotStatus, type BotSummary, type PageOptions } from '../storage/botStore.js';
import type {
  BotPositionRecord,
  StoredFill,
  StoredPerformance,
  StoredSignal,
} from '../storage/botRecords.js';
import { CandleStore } from '../storage/candleStore.js';
import { watchBotConfigs, type BotConfigEvent, type WatchBotConfigsOptions } from '../streams/botConfigs.js';
import { defaultStrategyRegistry, type StrategyRegistry } from '../strategies/registry.js';
import { botConfigDocument, botIdOf, strategyFileRef, validateBotFile, type BotConfig } from './botConfig.js';
import { botsFolder, resolveStrategyFile } from './botConfigFiles.js';
import type { BotControl, BotView } from './botControl.js';
import type { BotCandleOutcome } from './botPipeline.js';
import { BotRunner } from './botRunner.js';
import { RecordBatcher } from './recordBatcher.js';
import type { CandleFeed } from './candleFeed.js';

const HOUR_MS = 3_600_000;

export interface BotManagerOptions {
  readonly db: Database;
  readonly bus: Bus;
  /** The shared per-symbol candle streams (from the in-process collector or from the bus). */
  readonly feed: CandleFeed;
  /** The `exchange` whose stored candles warm bots up and catch them up (the collector's). */
  readonly exchange: string;
  /** Holds `bots/` (and `strategies/`). */
  readonly configDir: string;
  /** Times restarts, heartbeat checks and config rescans (default asyncScheduler; tests: virtual time). */
  readonly scheduler?: SchedulerLike;
  readonly logger?: Logger;
  readonly registry?: StrategyRegistry;
  /** Default a BotStore on `db` (tests pass a faulty twin to inject failures). */
  readonly store?: BotStore;
  /** Config folder watching (debounce, rescans, fs.watch). */
  readonly watch?: Omit<WatchBotConfigsOptions, 'scheduler' | 'registry'>;
  /** Restarts allowed per rolling hour after pipeline errors; the next error sets `error`. Default 3. */
  readonly maxRestartsPerHour?: number;
  /** Wait before a restart (default 1000 ms). */
  readonly restartDelayMs?: number;
  /** Heartbeat check period (default 30 s). */
  readonly heartbeatEveryMs?: number;
  /** A bot with work waiting and no progress for this long is restarted (default 90 s). */
  readonly stallAfterMs?: number;
  /**
   * Write the records of one candle close of all bots in one statement (default true); false: one
   * `recordCandle` per bot (tests that inject faults per bot).
   */
  readonly batchRecords?: boolean;
  /** Every record committed, for displays (the CLI prints fills). */
  readonly onRecorded?: (botId: string, outcome: BotCandleOutcome) => void;
}

interface Entry {
  readonly botId: string;
  config: BotConfig | undefined;
  /** The file the bot came from (its config, or the bad file that put it in error). */
  file: string | undefined;
  /** The bad file's message while the bot's file cannot be used. */
  fileError: string | undefined;
  status: BotStatus;
  message: string | undefined;
  runner: BotRunner | undefined;
  /** Scheduler times of the supervisor's restarts. */
  restarts: number[];
  restartTimer: Subscription | undefined;
}

/**
 * The bots of one rxtrade instance: the live composition root beside the collector. It reads the config
 * folder (and follows its changes), keeps each bot's status in `bots`, runs every active or paused bot as
 * a BotRunner on the shared candle feed, supervises them, and is the BotControl the API and CLI use.
 *
 * Supervision: a bot whose pipeline errors is restarted from its last stored state (after
 * `restartDelayMs`), at most `maxRestartsPerHour` times in a rolling hour of scheduler time; the next
 * error puts it in `error`, announced on `status:{bot_id}` and `system:events`. Every `heartbeatEveryMs`
 * a bot that has had work waiting without progress for `stallAfterMs` is restarted the same way.
 * A bot's failure stops only that bot.
 */
export class BotManager implements BotControl {
  private readonly store: BotStore;
  private readonly candles: CandleStore;
  private readonly scheduler: SchedulerLike;
  private readonly log: Logger;
  private readonly registry: StrategyRegistry;
  private readonly entries = new Map<string, Entry>();
  /** Config events and control calls, one at a time in order. */
  private ops: Promise<unknown> = Promise.resolve();
  private watching: Subscription | undefined;
  private heartbeat: Subscription | undefined;
  private closed = false;
  private readonly maxRestarts: number;
  private readonly restartDelayMs: number;
  private readonly stallAfterMs: number;
  private readonly batcher: RecordBatcher | undefined;

  constructor(private readonly options: BotManagerOptions) {
    this.store = options.store ?? new BotStore(options.db);
    this.candles = new CandleStore(options.db, options.exchange);
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.log = (options.logger ?? silentLogger).child({ component: 'bots' });
    this.registry = options.registry ?? defaultStrategyRegistry();
    this.maxRestarts = options.maxRestartsPerHour ?? 3;
    this.restartDelayMs = options.restartDelayMs ?? 1000;
    this.stallAfterMs = options.stallAfterMs ?? 90_000;
    this.batcher = options.batchRecords === false ? undefined : new RecordBatcher(this.store);
  }

  /**
   * Reads the config folder and brings every bot to its state (new enabled bots start; active and paused
   * ones are restored and catch up), then follows the folder. Resolves once the folder's first reading is
   * applied.
   */
  open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      this.watching = watchBotConfigs(this.options.configDir, {
        ...this.options.watch,
        scheduler: this.scheduler,
        registry: this.registry,
      }).subscribe({
        next: (e) => {
          const done = this.enqueue(() => this.onConfigEvent(e));
          if (e.kind === 'ready') {
            done.then(
              () => {
                ready = true;
                resolve();
              },
              (err: unknown) => reject(err as Error),
            );
          }
        },
        error: (err: unknown) => {
          this.log.error({ err }, 'cannot read the config folder');
          if (!ready) reject(err as Error);
        },
      });
      const every = this.options.heartbeatEveryMs ?? 30_000;
      this.heartbeat = interval(every, this.scheduler).subscribe(() => this.checkHeartbeats());
    });
  }

  /**
   * Stops every runner, letting each commit what it has processed. Statuses stay as they are in `bots`, so
   * the next start restores the same bots.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.watching?.unsubscribe();
    this.heartbeat?.unsubscribe();
    await this.ops.catch(() => undefined);
    await Promise.all(
      [...this.entries.values()].map(async (e) => {
        e.restartTimer?.unsubscribe();
        const r = e.runner;
        e.runner = undefined;
        await r?.stop();
      }),
    );
  }

  /** Resolves when every bot has committed the records of the candles it was given so far (tests). */
  async settled(): Promise<void> {
    await this.ops.catch(() => undefined);
    await Promise.all([...this.entries.values()].map((e) => e.runner?.idle()));
  }

  /** The running bots' runners (status lines, benchmarks). */
  runners(): ReadonlyMap<string, BotRunner> {
    const m = new Map<string, BotRunner>();
    for (const e of this.entries.values()) if (e.runner !== undefined) m.set(e.botId, e.runner);
    return m;
  }

  // ---- BotControl -------------------------------------------------------------------------------------

  async list(): Promise<BotView[]> {
    const [rows, stats] = await Promise.all([this.store.listBots(), this.store.performanceStats()]);
    const views = rows.map((r) => this.view(r, stats.get(r.botKey)));
    const known = new Set(rows.map((r) => r.botKey));
    for (const e of this.entries.values()) if (!known.has(e.botId)) views.push(this.bareView(e));
    return views.sort((a, b) => a.botKey.localeCompare(b.botKey));
  }

  async get(botId: string): Promise<BotView | undefined> {
    return (await this.list()).find((v) => v.botKey === botId);
  }

  create(document: unknown): Promise<BotView> {
    return this.enqueue(async () => {
      const botId = botIdOf(document);
      if (botId === undefined) {
        throw new UsageError(
          'bot_id: required, 1 to 64 lower-case letters, digits, "_" or "-", starting with a letter or digit',
        );
      }
      const file = join(botsFolder(this.options.configDir), `${botId}.json`);
      if (this.entries.has(botId) || (await this.store.loadBot(botId)) !== undefined) {
        throw new ConflictError(`bot "${botId}" already exists`);
      }
      if (await exists(file)) throw new ConflictError(`${file} already exists`);
      const config = await this.validate(document, file);
      await mkdir(botsFolder(this.options.configDir), { recursive: true });
      await writeFile(file, documentText(document));
      await this.apply(config, file, 'api');
      return this.mustView(botId);
    });
  }

  updateConfig(botId: string, document: unknown): Promise<BotView> {
    return this.enqueue(async () => {
      const e = await this.known(botId);
      const id = botIdOf(document);
      if (id !== botId) {
        throw new UsageError(`bot_id: the document's bot_id must be "${botId}" (got ${JSON.stringify(id)})`);
      }
      const file = e.file ?? join(botsFolder(this.options.configDir), `${botId}.json`);
      const config = await this.validate(document, file);
      await mkdir(botsFolder(this.options.configDir), { recursive: true });
      await writeFile(file, documentText(document));
      await this.apply(config, file, 'api');
      return this.mustView(botId);
    });
  }

  start(botId: string): Promise<BotView> {
    return this.enqueue(async () => {
      const e = await this.known(botId);
      if (e.status === 'active' || e.status === 'paused') {
        throw new ConflictError(
          `bot "${botId}" is already ${e.status}${e.status === 'paused' ? ' (resume it)' : ''}`,
        );
      }
      if (e.config === undefined) {
        throw new ConflictError(
          `bot "${botId}" has no usable configuration: ${e.fileError ?? e.message ?? 'no config file'}`,
        );
      }
      e.restarts = [];
      await this.setStatus(e, 'active');
      await this.run(e);
      return this.mustView(botId);
    });
  }

  stop(botId: string): Promise<BotView> {
    return this.enqueue(async () => {
      const e = await this.known(botId);
      if (e.status === 'inactive') throw new ConflictError(`bot "${botId}" is not running`);
      await this.halt(e);
      await this.setStatus(e, 'inactive', 'stopped');
      return this.mustView(botId);
    });
  }

  pause(botId: string): Promise<BotView> {
    return this.enqueue(async () => {
      const e = await this.known(botId);
      if (e.status !== 'active') {
        throw new ConflictError(
          `bot "${botId}" is ${e.status}, not active: only an active bot can be paused`,
        );
      }
      await this.setStatus(e, 'paused', 'paused: managing open positions, opening none');
      return this.mustView(botId);
    });
  }

  resume(botId: string): Promise<BotView> {
    return this.enqueue(async () => {
      const e = await this.known(botId);
      if (e.status !== 'paused') throw new ConflictError(`bot "${botId}" is ${e.status}, not paused`);
      await this.setStatus(e, 'active');
      return this.mustView(botId);
    });
  }

  async signals(botId: string, page: PageOptions): Promise<StoredSignal[]> {
    await this.stored(botId);
    return this.store.signals(botId, page);
  }

  async trades(botId: string, page: PageOptions): Promise<StoredFill[]> {
    await this.stored(botId);
    return this.store.trades(botId, page);
  }

  async performance(botId: string, page: PageOptions): Promise<StoredPerformance[]> {
    await this.stored(botId);
    return this.store.performance(botId, page);
  }

  async positions(botId: string): Promise<BotPositionRecord[]> {
    await this.stored(botId);
    return this.store.positions(botId);
  }

  // ---- config events ----------------------------------------------------------------------------------

  private async onConfigEvent(e: BotConfigEvent): Promise<void> {
    if (this.closed) return;
    switch (e.kind) {
      case 'config':
        await this.apply(e.config, e.file, e.initial ? 'file' : 'reload', e.initial);
        return;
      case 'error':
        await this.onBadFile(e.file, e.botId, e.message);
        return;
      case 'removed':
        if (e.botId !== undefined) await this.onRemoved(e.botId, e.file);
        return;
      case 'ready':
        await this.onReady();
        return;
    }
  }

  /**
   * Applies a valid configuration: records it (config_history when it changed), then brings the bot to
   * the status the file and its history call for, restarting it on the new settings when it runs.
   */
  private async apply(
    config: BotConfig,
    file: string,
    reason: 'file' | 'reload' | 'api',
    initial = false,
  ): Promise<void> {
    const e = this.entry(config.botId);
    if (e.config?.contentHash === config.contentHash && e.fileError === undefined && !initial) return;
    const previous = e.config;
    const before = await this.store.loadBot(config.botId);
    const reset = !initial && config.reset && before !== undefined;
    await this.store.applyConfig(config, reset ? 'reset' : reason);
    e.config = config;
    e.file = file;
    e.fileError = undefined;
    const stored: BotStatus = before?.status ?? 'inactive';
    let status: BotStatus;
    if (!config.enabled) status = 'inactive';
    else if (before === undefined) status = 'active';
    else if (initial)
      status = stored === 'error' && before.configHash !== config.contentHash ? 'active' : stored;
    else if (stored === 'error') status = 'active';
    else if (stored === 'inactive')
      status = previous !== undefined && !previous.enabled ? 'active' : 'inactive';
    else status = stored;
    await this.halt(e);
    if (reset) await this.store.resetBot(config.botId);
    if (status === 'error') {
      e.status = 'error';
      e.message = before?.statusMessage;
      return;
    }
    e.restarts = [];
    await this.setStatus(
      e,
      status,
      status === 'paused'
        ? (before?.statusMessage ?? 'paused')
        : reason === 'file'
          ? undefined
          : `config applied (${reason})`,
    );
    if (status === 'active' || status === 'paused') await this.run(e);
  }

  /** After the first reading: a bot the database has running but no file names any more is stopped. */
  private async onReady(): Promise<void> {
    for (const row of await this.store.listBots()) {
      if (row.status !== 'active' && row.status !== 'paused') continue;
      const e = this.entries.get(row.botKey);
      if (e?.config !== undefined || e?.fileError !== undefined) continue;
      await this.setStatus(
        this.entry(row.botKey),
        'inactive',
        `no config file for it in ${botsFolder(this.options.configDir)}`,
      );
    }
  }

  private async onBadFile(file: string, botId: string | undefined, message: string): Promise<void> {
    this.log.error({ file, bot: botId }, message);
    void this.options.bus.publish(SYSTEM_CHANNEL, {
      type: 'system',
      tsMs: this.now(),
      event: 'bot-config-error',
      detail: message,
    });
    if (botId === undefined) return;
    const e = this.entry(botId);
    e.file = file;
    e.fileError = message;
    await this.halt(e);
    e.config = undefined;
    if ((await this.store.loadBot(botId)) !== undefined) await this.setStatus(e, 'error', message);
    else {
      e.status = 'error';
      e.message = message;
      this.publishStatus(e);
    }
  }

  private async onRemoved(botId: string, file: string): Promise<void> {
    const e = this.entries.get(botId);
    if (e === undefined || (e.file !== undefined && e.file !== file)) return;
    await this.halt(e);
    e.config = undefined;
    e.fileError = undefined;
    if ((await this.store.loadBot(botId)) !== undefined) {
      await this.setStatus(e, 'inactive', `${file} was removed`);
    } else this.entries.delete(botId);
  }

  // ---- running and supervising ------------------------------------------------------------------------

  /** Starts a runner for the bot (from its stored state); a failure to start counts as a pipeline error. */
  private async run(e: Entry): Promise<void> {
    const config = e.config;
    if (config === undefined || this.closed) return;
    const runner = new BotRunner(
      config,
      {
        store: this.store,
        ...(this.batcher !== undefined ? { record: this.batcher.record.bind(this.batcher) } : {}),
        candles: this.candles,
        exchange: this.options.exchange,
        feed: this.options.feed,
        bus: this.options.bus,
        registry: this.registry,
        scheduler: this.scheduler,
        logger: this.log,
      },
      {
        error: (err) => this.onRunnerError(e, runner, err),
        recorded: (o) => this.options.onRecorded?.(e.botId, o),
      },
      () => e.status === 'paused',
    );
    e.runner = runner;
    try {
      await runner.start();
    } catch (err) {
      this.onRunnerError(e, runner, err);
    }
  }

  /** Stops the bot's runner (and a pending restart), waiting for its records to be committed. */
  private async halt(e: Entry): Promise<void> {
    e.restartTimer?.unsubscribe();
    e.restartTimer = undefined;
    const r = e.runner;
    e.runner = undefined;
    await r?.stop();
  }

  private onRunnerError(e: Entry, runner: BotRunner, err: unknown): void {
    if (e.runner !== runner || this.closed) return;
    e.runner = undefined;
    void runner.stop();
    const message = err instanceof Error ? err.message : String(err);
    this.log.error(
      { bot: e.botId, err, stack: err instanceof Error ? err.stack : undefined },
      'bot pipeline failed',
    );
    if (e.status !== 'active' && e.status !== 'paused') return;
    const now = this.scheduler.now();
    e.restarts = e.restarts.filter((t) => t > now - HOUR_MS);
    if (e.restarts.length >= this.maxRestarts) {
      const why = `failed ${e.restarts.length + 1} times within an hour, last: ${message}`;
      void this.enqueue(async () => {
        await this.setStatus(e, 'error', why);
        void this.options.bus.publish(SYSTEM_CHANNEL, {
          type: 'system',
          tsMs: this.now(),
          event: 'bot-error',
          detail: `${e.botId}: ${why}`,
        });
      }).catch((x: unknown) => this.log.error({ err: x, bot: e.botId }, 'cannot record the bot error'));
      return;
    }
    e.restarts.push(now);
    const count = e.restarts.length;
    void this.store
      .recordRestart(e.botId, now, message)
      .catch((x: unknown) => this.log.warn({ err: x, bot: e.botId }, 'cannot record the restart'));
    void this.options.bus.publish(statusChannel(e.botId), {
      type: 'status',
      botId: e.botId,
      tsMs: this.now(),
      status: e.status,
      message: `restarting (${count} of ${this.maxRestarts} this hour) after: ${message}`,
    });
    e.restartTimer = this.scheduler.schedule(() => {
      e.restartTimer = undefined;
      void this.enqueue(async () => {
        if (e.runner === undefined && (e.status === 'active' || e.status === 'paused')) await this.run(e);
      }).catch((x: unknown) => this.log.error({ err: x, bot: e.botId }, 'restart failed'));
    }, this.restartDelayMs);
  }

  /**
   * A bot that has had work waiting (starting, records to commit) without progress for `stallAfterMs`, or
   * whose feed is `stallAfterMs` of market time ahead of what it took in, is restarted as after an error.
   */
  private checkHeartbeats(): void {
    const now = this.scheduler.now();
    for (const e of this.entries.values()) {
      const r = e.runner;
      if (r === undefined || e.config === undefined) continue;
      const stuck = r.stalledFor(now);
      const behind = r.started ? this.options.feed.lastCloseMs(e.config.symbol) - r.fedTo : 0;
      if (stuck >= this.stallAfterMs || behind >= this.stallAfterMs) {
        const what =
          stuck >= this.stallAfterMs
            ? `no progress for ${Math.round(stuck / 1000)} s`
            : `${Math.round(behind / 1000)} s of ${e.config.symbol} candles not taken in`;
        this.onRunnerError(e, r, new RxtradeError('bot_stalled', `stalled: ${what}`));
      }
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------------

  private async setStatus(e: Entry, status: BotStatus, message?: string): Promise<void> {
    e.status = status;
    e.message = message;
    await this.store.setStatus(e.botId, status, message);
    this.publishStatus(e);
  }

  private publishStatus(e: Entry): void {
    void this.options.bus.publish(statusChannel(e.botId), {
      type: 'status',
      botId: e.botId,
      tsMs: this.now(),
      status: e.status,
      ...(e.message !== undefined ? { message: e.message } : {}),
    });
  }

  private entry(botId: string): Entry {
    let e = this.entries.get(botId);
    if (e === undefined) {
      e = {
        botId,
        config: undefined,
        file: undefined,
        fileError: undefined,
        status: 'inactive',
        message: undefined,
        runner: undefined,
        restarts: [],
        restartTimer: undefined,
      };
      this.entries.set(botId, e);
    }
    return e;
  }

  /** The bot's entry (one is made for a bot only the database knows); NotFoundError when neither knows it. */
  private async known(botId: string): Promise<Entry> {
    const e = this.entries.get(botId);
    if (e !== undefined) return e;
    const row = await this.store.loadBot(botId);
    if (row === undefined) throw new NotFoundError(`no bot "${botId}"`);
    const created = this.entry(botId);
    created.status = row.status;
    created.message = row.statusMessage;
    return created;
  }

  private async stored(botId: string): Promise<void> {
    if ((await this.store.loadBot(botId)) === undefined) throw new NotFoundError(`no bot "${botId}"`);
  }

  private async validate(document: unknown, file: string): Promise<BotConfig> {
    const ref = strategyFileRef(document);
    const strategyFile =
      ref === undefined ? undefined : await resolveStrategyFile(ref, file, this.options.configDir);
    return validateBotFile(document, {
      source: file,
      text: documentText(document),
      registry: this.registry,
      ...(strategyFile !== undefined ? { strategyFile } : {}),
    });
  }

  private view(
    r: BotSummary,
    stats: { winningTrades: number; totalFees: number; maxDrawdown: number } | undefined,
  ): BotView {
    const e = this.entries.get(r.botKey);
    const now = this.scheduler.now();
    return {
      ...r,
      status: e?.status ?? r.status,
      ...(e?.message !== undefined ? { statusMessage: e.message } : {}),
      config: e?.config !== undefined ? botConfigDocument(e.config) : (e?.fileError ?? null),
      ...(e?.file !== undefined ? { configFile: e.file } : {}),
      winningTrades: stats?.winningTrades ?? 0,
      totalFees: stats?.totalFees ?? 0,
      maxDrawdown: stats?.maxDrawdown ?? 0,
      restartsLastHour: e?.restarts.filter((t) => t > now - HOUR_MS).length ?? 0,
    };
  }

  /** A bot only a bad config file knows (no row yet). */
  private bareView(e: Entry): BotView {
    return {
      botKey: e.botId,
      status: e.status,
      ...(e.message !== undefined ? { statusMessage: e.message } : {}),
      strategyName: e.config?.strategyName ?? '',
      symbol: e.config?.symbol ?? '',
      timeframe: e.config?.timeframe ?? '',
      virtualBalance: e.config?.virtualBalance ?? 0,
      cash: e.config?.virtualBalance ?? 0,
      totalValue: e.config?.virtualBalance ?? 0,
      pnl: 0,
      trades: 0,
      config: e.fileError ?? null,
      ...(e.file !== undefined ? { configFile: e.file } : {}),
      winningTrades: 0,
      totalFees: 0,
      maxDrawdown: 0,
      restartsLastHour: 0,
    };
  }

  private async mustView(botId: string): Promise<BotView> {
    const v = await this.get(botId);
    if (v === undefined) throw new NotFoundError(`no bot "${botId}"`);
    return v;
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const next = this.ops.then(op, op);
    this.ops = next.catch(() => undefined);
    return next;
  }

  private now(): number {
    return Math.max(0, Math.floor(this.scheduler.now()));
  }
}

/** The text a document is written to its file as (and hashed from). */
function documentText(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

async function exists(file: string): Promise<boolean> {
  return readFile(file).then(
    () => true,
    () => false,
  );
}
