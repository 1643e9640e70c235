import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { BotManager, type BotManagerOptions } from '../bots/botManager.js';
import { busCandles, CandleFeed, collectorCandles } from '../bots/candleFeed.js';
import type { Bus } from '../bus/bus.js';
import { silentLogger, type Logger } from '../infra/logger.js';
import type { Database } from '../storage/database.js';
import type { Collector } from './collector.js';

export interface InstanceOptions {
  readonly db: Database;
  readonly bus: Bus;
  /** The `exchange` the candles are stored under (bots warm up and catch up on those). */
  readonly exchange: string;
  /** Holds `bots/` and `strategies/` (`--config-dir`, RXTRADE_CONFIG_DIR, default ./config). */
  readonly configDir: string;
  /**
   * The collector of this process: bots take its candles in-process. Without one they take
   * `market:{symbol}` from the bus (a collector running in another process, on the same Redis).
   * Subscribe before `collector.start()`: startInstance does not start or stop it.
   */
  readonly collector?: Collector;
  /** Times the supervisor (restarts, heartbeats) and config rescans. Default asyncScheduler (wall clock). */
  readonly scheduler?: SchedulerLike;
  readonly logger?: Logger;
  /** More BotManager settings (supervision, callbacks). */
  readonly bots?: Partial<Omit<BotManagerOptions, 'db' | 'bus' | 'feed' | 'exchange' | 'configDir'>>;
}

/** A running rxtrade: its bots (the BotControl the HTTP API and CLI use) beside its collector. */
export interface Instance {
  readonly bots: BotManager;
  readonly collector: Collector | undefined;
  /** Stops the bots (each commits what it processed); the collector, db and bus stay with their owner. */
  close(): Promise<void>;
}

/**
 * The live composition root's bot half: one shared candle stream per symbol (from the collector or the
 * bus) and a BotManager over the config folder. Resolves once every bot of the folder is applied (running
 * ones restored and caught up on the candles stored while the process was down).
 *
 * ```ts
 * const collector = new Collector({ … });
 * const instance = await startInstance({ db, bus, exchange: 'okx', configDir: './config', collector });
 * collector.start();
 * // an HTTP server can take instance.bots as its BotControl
 * ```
 */
export async function startInstance(options: InstanceOptions): Promise<Instance> {
  const feed = new CandleFeed(
    options.collector !== undefined ? collectorCandles(options.collector.candles$) : busCandles(options.bus),
  );
  const bots = new BotManager({
    ...options.bots,
    db: options.db,
    bus: options.bus,
    feed,
    exchange: options.exchange,
    configDir: options.configDir,
    scheduler: options.scheduler ?? asyncScheduler,
    logger: options.logger ?? silentLogger,
  });
  try {
    await bots.open();
  } catch (err) {
    await bots.close();
    feed.close();
    throw err;
  }
  return {
    bots,
    collector: options.collector,
    close: async () => {
      await bots.close();
      feed.close();
    },
  };
}
