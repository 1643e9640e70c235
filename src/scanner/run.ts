import { randomUUID } from 'node:crypto';
import { InterruptedError } from '../domain/errors.js';
import { sleep } from '../infra/abort.js';
import type { Logger } from '../infra/logger.js';
import type { Database } from '../storage/database.js';
import type { ScannerConfig } from './config.js';
import { ConfigReloader } from './configReloader.js';
import type { ScanExchange } from './exchange.js';
import type { MarketData } from './marketData.js';
import { Scanner, type ScannerEvents } from './scanner.js';
import { ScannerStore } from './store.js';

export interface ScanRunOptions {
  readonly db: Database;
  readonly exchange: ScanExchange;
  readonly config: ScannerConfig;
  /** The config file's path and text (version 1): reloaded while running. */
  readonly configPath: string;
  readonly configText: string;
  readonly logger: Logger;
  /** The clock scans run on (the simulator's, accelerated, with --sim). */
  readonly now: () => number;
  /** Wall milliseconds per clock millisecond (1 / speed). Default 1. */
  readonly wallPerClockMs?: number;
  /** Stop after this much of the clock past the first scan (universe and warm-up). Default: at `signal` only. */
  readonly durationMs?: number;
  readonly signal: AbortSignal;
  readonly marketData?: MarketData;
  readonly events?: ScannerEvents;
  /** How often the config file is read again, wall ms. Default 1000. */
  readonly reloadPollMs?: number;
  /** Stopping lets the scan under way finish (its opportunities and positions stored) instead of cutting it. */
  readonly finishScanOnStop?: boolean;
  /** Called with the run id once the run and its first config version are stored. */
  readonly onStart?: (runId: string) => void;
}

/**
 * One scanner run: a run id, the config stored as version 1 and reloaded on change (each applied version
 * stored), a scan every `scan_interval_seconds` of the clock until `untilMs` or the signal, and the run
 * closed. Returns the scanner (counters, positions) and the run id.
 */
export async function runScanner(o: ScanRunOptions): Promise<{ runId: string; scanner: Scanner }> {
  const runId = randomUUID();
  const store = new ScannerStore(o.db, runId, o.exchange.name);
  await store.startRun();
  await store.recordConfig(1, o.configText, o.config);
  o.onStart?.(runId);
  let config = o.config;
  const stepSignal = o.finishScanOnStop === true ? undefined : o.signal;
  const scanner = new Scanner({
    exchange: o.exchange,
    store,
    config,
    logger: o.logger,
    ...(o.marketData === undefined ? {} : { marketData: o.marketData }),
    ...(o.events === undefined ? {} : { events: o.events }),
  });
  const reloader = new ConfigReloader(
    {
      path: o.configPath,
      logger: o.logger,
      pollMs: o.reloadPollMs ?? 1000,
      onApply: async (next, text, version) => {
        await store.recordConfig(version, text, next);
        scanner.applyConfig(next);
        config = next;
      },
    },
    o.configText,
  );
  o.logger.info({ runId, exchange: o.exchange.name }, `scanner run ${runId} started`);
  reloader.start();
  try {
    // The first scan evaluates the universe and warms the indicators up on the candles closed by then;
    // scan n after it covers the candles closed by `next`, and a scanner behind its clock scans again at once.
    await scanner.step(o.now(), stepSignal).catch((err: unknown) => {
      if (!(err instanceof InterruptedError && o.signal.aborted)) throw err;
    });
    const interval = (): number => config.application.scan_interval_seconds * 1000;
    let next = o.now() + interval();
    const untilMs = o.durationMs === undefined ? undefined : o.now() + o.durationMs;
    while (!o.signal.aborted && (untilMs === undefined || next <= untilMs)) {
      const waitMs = (next - o.now()) * (o.wallPerClockMs ?? 1);
      if (waitMs > 0) await sleep(waitMs, o.signal).catch(() => undefined);
      if (o.signal.aborted) break;
      try {
        await scanner.step(next, stepSignal);
      } catch (err) {
        // Stopped in the middle of a scan (Ctrl-C): the run ends there.
        if (err instanceof InterruptedError && o.signal.aborted) break;
        throw err;
      }
      next += interval();
    }
  } finally {
    await reloader.stop();
    await store.saveRunMetrics(scanner.positions.metrics());
    await store.finishRun();
  }
  return { runId, scanner };
}
