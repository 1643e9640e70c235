import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BOT_ID_PATTERN, botIdOf, validateBotFile } from '../../../src/bots/botConfig.js';
import { botsFolder } from '../../../src/bots/botConfigFiles.js';
import type { BotControl, BotView } from '../../../src/bots/botControl.js';
import type { Bus } from '../../../src/bus/bus.js';
import { statusChannel } from '../../../src/bus/messages.js';
import { ConflictError, InvalidFieldError, NotFoundError } from '../../../src/domain/errors.js';
import type { Database } from '../../../src/storage/database.js';
import {
  BotStore,
  type BotPositionRecord,
  type BotStatus,
  type BotSummary,
  type PageOptions,
  type StoredFill,
  type StoredPerformance,
  type StoredSignal,
} from '../../../src/storage/botStore.js';
import { defaultStrategyRegistry } from '../../../src/strategies/registry.js';

/**
 * A faithful in-memory twin of the BotManager's BotControl over the real BotStore: the same contract
 * (UsageError for a bad document naming the key, NotFoundError, ConflictError for a forbidden transition),
 * files written to `<configDir>/bots/<bot_id>.json`, configs recorded with reason `api`, status changes
 * serialised per bot and published on the bus's `status:{bot}` as the real manager does. It runs no
 * pipeline: statuses are what a manager would set.
 */
export class StoreBotControl implements BotControl {
  private readonly store: BotStore;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly registry = defaultStrategyRegistry();
  private readonly files = new Map<string, string>();

  constructor(
    private readonly db: Database,
    private readonly configDir: string,
    private readonly bus?: Bus,
    private readonly now: () => number = Date.now,
  ) {
    this.store = new BotStore(db);
  }

  async list(): Promise<BotView[]> {
    const [summaries, extras] = await Promise.all([this.store.listBots(), this.extras()]);
    return summaries.map((s) => this.view(s, extras.get(s.botKey)));
  }

  async get(botId: string): Promise<BotView | undefined> {
    return (await this.list()).find((b) => b.botKey === botId);
  }

  async create(document: unknown): Promise<BotView> {
    const id = botIdOf(document);
    const file = id === undefined ? join(botsFolder(this.configDir), 'new.json') : this.fileOf(id);
    const text = JSON.stringify(document, null, 2);
    const config = validateBotFile(document, { source: file, text, registry: this.registry });
    return this.serial(config.botId, async () => {
      if ((await this.store.loadBot(config.botId)) !== undefined) {
        throw new ConflictError(
          `a bot "${config.botId}" exists already: PUT /api/bots/${config.botId}/config`,
        );
      }
      await mkdir(botsFolder(this.configDir), { recursive: true });
      await writeFile(file, `${text}\n`, { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EEXIST' ? new ConflictError(`${file} exists already`) : err;
      });
      this.files.set(config.botId, file);
      await this.store.applyConfig(config, 'api');
      if (config.enabled) await this.setStatus(config.botId, 'active');
      return this.mustGet(config.botId);
    });
  }

  async updateConfig(botId: string, document: unknown): Promise<BotView> {
    return this.serial(botId, async () => {
      await this.mustGet(botId);
      const id = botIdOf(document);
      if (id !== undefined && id !== botId) {
        throw new InvalidFieldError('bot_id', `bot_id "${id}" is not the bot's id "${botId}"`);
      }
      const file = this.fileOf(botId);
      const text = JSON.stringify(document, null, 2);
      const config = validateBotFile(document, { source: file, text, registry: this.registry });
      await mkdir(botsFolder(this.configDir), { recursive: true });
      await writeFile(file, `${text}\n`);
      await this.store.applyConfig(config, 'api');
      return this.mustGet(botId);
    });
  }

  start(botId: string): Promise<BotView> {
    return this.transition(botId, ['inactive', 'error'], 'active', 'is running already');
  }

  stop(botId: string): Promise<BotView> {
    return this.transition(botId, ['active', 'paused', 'error'], 'inactive', 'is stopped already');
  }

  pause(botId: string): Promise<BotView> {
    return this.transition(botId, ['active'], 'paused', 'is not running');
  }

  resume(botId: string): Promise<BotView> {
    return this.transition(botId, ['paused'], 'active', 'is not paused');
  }

  async signals(botId: string, page: PageOptions): Promise<StoredSignal[]> {
    await this.mustGet(botId);
    return this.store.signals(botId, page);
  }

  async trades(botId: string, page: PageOptions): Promise<StoredFill[]> {
    await this.mustGet(botId);
    return this.store.trades(botId, page);
  }

  async performance(botId: string, page: PageOptions): Promise<StoredPerformance[]> {
    await this.mustGet(botId);
    return this.store.performance(botId, page);
  }

  async positions(botId: string): Promise<BotPositionRecord[]> {
    await this.mustGet(botId);
    return this.store.positions(botId);
  }

  private fileOf(botId: string): string {
    if (!BOT_ID_PATTERN.test(botId)) throw new InvalidFieldError('bot_id', `bad bot id "${botId}"`);
    return this.files.get(botId) ?? join(botsFolder(this.configDir), `${botId}.json`);
  }

  private transition(botId: string, from: BotStatus[], to: BotStatus, refusal: string): Promise<BotView> {
    return this.serial(botId, async () => {
      const bot = await this.mustGet(botId);
      if (!from.includes(bot.status))
        throw new ConflictError(`bot "${botId}" ${refusal} (status ${bot.status})`);
      await this.setStatus(botId, to);
      return this.mustGet(botId);
    });
  }

  private async setStatus(botId: string, status: BotStatus): Promise<void> {
    await this.store.setStatus(botId, status);
    await this.bus?.publish(statusChannel(botId), { type: 'status', botId, tsMs: this.now(), status });
  }

  private async mustGet(botId: string): Promise<BotView> {
    const bot = await this.get(botId);
    if (bot === undefined) throw new NotFoundError(`no bot "${botId}"`);
    return bot;
  }

  /** One action at a time per bot, in arrival order (a failure does not block the next). */
  private serial<T>(botId: string, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(botId) ?? Promise.resolve();
    const run = before.then(fn, fn);
    this.locks.set(
      botId,
      run.catch(() => undefined),
    );
    return run;
  }

  /** Per bot: config, config file, the latest performance row. One query. */
  private async extras(): Promise<
    Map<string, { config: unknown; configFile: string | null; winning: number; fees: number }>
  > {
    const rows = await this.db.query<{
      name: string;
      config: unknown;
      config_file: string | null;
      winning_trades: number | null;
      total_fees: string | null;
    }>(
      `SELECT b.name, b.config, b.config_file, p.winning_trades, p.total_fees
         FROM bots b
         LEFT JOIN LATERAL (SELECT winning_trades, total_fees FROM bot_performance x WHERE x.bot_id = b.id
                             ORDER BY x."timestamp" DESC LIMIT 1) p ON true`,
    );
    return new Map(
      rows.map((r) => [
        r.name,
        {
          config: r.config,
          configFile: r.config_file,
          winning: r.winning_trades ?? 0,
          fees: Number(r.total_fees ?? 0),
        },
      ]),
    );
  }

  private view(
    s: BotSummary,
    extra: { config: unknown; configFile: string | null; winning: number; fees: number } | undefined,
  ): BotView {
    return {
      ...s,
      config: extra?.config ?? null,
      ...(extra?.configFile !== undefined && extra.configFile !== null
        ? { configFile: extra.configFile }
        : {}),
      winningTrades: extra?.winning ?? 0,
      totalFees: extra?.fees ?? 0,
      maxDrawdown: 0,
      restartsLastHour: 0,
    };
  }
}
