import type { BotStatus, BotSummary, PageOptions } from '../storage/botRecords.js';
import type {
  BotPositionRecord,
  StoredFill,
  StoredPerformance,
  StoredSignal,
} from '../storage/botRecords.js';

/**
 * What the control surface (HTTP API, `rxtrade bots …`, the dashboard) may ask of the bots of a running
 * instance. The BotManager implements it; tests may use a fake twin. Every method throws a RxtradeError:
 * `UsageError` for an invalid config (message names the key), `NotFoundError` for an unknown bot id,
 * `ConflictError` when the bot's state forbids the action (e.g. resume a bot that is not paused).
 */
export interface BotControl {
  /** Every bot known (from the config folder and the database), with its live state. */
  list(): Promise<BotView[]>;
  get(botId: string): Promise<BotView | undefined>;
  /**
   * Validates a bot document (the JSON of a `config/bots/*.json` file), writes it to the config folder as
   * `<bot_id>.json` (refusing an id that already exists), records it in `config_history` (reason `api`)
   * and starts it when `enabled`.
   */
  create(document: unknown): Promise<BotView>;
  /** Validates a new document for an existing bot, writes its file, records it and applies it live. */
  updateConfig(botId: string, document: unknown): Promise<BotView>;
  start(botId: string): Promise<BotView>;
  stop(botId: string): Promise<BotView>;
  /** Keeps managing open positions (stops, take-profits, trailing), opens none. */
  pause(botId: string): Promise<BotView>;
  resume(botId: string): Promise<BotView>;
  signals(botId: string, page: PageOptions): Promise<StoredSignal[]>;
  trades(botId: string, page: PageOptions): Promise<StoredFill[]>;
  performance(botId: string, page: PageOptions): Promise<StoredPerformance[]>;
  positions(botId: string): Promise<BotPositionRecord[]>;
}

/** One bot as the control surface shows it: the stored summary plus what only the running instance knows. */
export interface BotView extends BotSummary {
  readonly status: BotStatus;
  /** The applied configuration document (a BotConfigDocument), or the file's error for a bot in `error`. */
  readonly config: unknown;
  /** The config file it came from, relative to the config folder. */
  readonly configFile?: string;
  readonly winningTrades: number;
  readonly totalFees: number;
  /** Largest peak-to-trough fall of total value so far, a fraction (0.1 = 10 %). */
  readonly maxDrawdown: number;
  /** Restarts by the supervisor in the last hour. */
  readonly restartsLastHour: number;
}
