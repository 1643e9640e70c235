import { InterruptedError } from '../domain/errors.js';
import type { Logger } from '../infra/logger.js';
import type { Database } from '../storage/database.js';
import { loadScannerConfig } from './config.js';
import { loadMarketData } from './marketData.js';
import { OkxScanExchange } from './okxExchange.js';
import { runScanner } from './run.js';
import type { ScannerEvents } from './scanner.js';

export interface InProcessScannerOptions {
  readonly db: Database;
  /** The exchange rows are stored under (`okx`, `okx-sim`), read over OKX's REST API at `restUrl`. */
  readonly exchange: string;
  readonly restUrl: string;
  readonly configPath: string;
  readonly logger: Logger;
  readonly now: () => number;
  readonly wallPerClockMs: number;
  readonly events?: ScannerEvents;
}

export interface InProcessScanner {
  /** The run id, once the run started (its config stored). */
  readonly runId: Promise<string>;
  /** Stops scanning (after the scan under way, whose rows are stored) and waits for the run's metrics. */
  close(): Promise<void>;
}

/**
 * The scanner and its position manager inside another command (`start --scanner`): the config file is
 * read (and refused, with the key named, before anything runs), then scans go on in the background on
 * the market's clock until `close`. A failure of the run is logged; the host keeps running.
 */
export async function startInProcessScanner(o: InProcessScannerOptions): Promise<InProcessScanner> {
  const { config, text } = await loadScannerConfig(o.configPath);
  const marketData =
    config.filtering.market_data_file === undefined
      ? undefined
      : await loadMarketData(config.filtering.market_data_file);
  const logger = o.logger.child({ component: 'scanner' });
  const stop = new AbortController();
  let started: (runId: string) => void = () => undefined;
  const runId = new Promise<string>((resolve) => (started = resolve));
  const run = runScanner({
    db: o.db,
    exchange: new OkxScanExchange(o.exchange, o.restUrl, logger, o.now),
    config,
    configPath: o.configPath,
    configText: text,
    logger,
    now: o.now,
    wallPerClockMs: o.wallPerClockMs,
    signal: stop.signal,
    onStart: started,
    finishScanOnStop: true,
    ...(o.events === undefined ? {} : { events: o.events }),
    ...(marketData === undefined ? {} : { marketData }),
  }).then(
    ({ runId: id, scanner }) => {
      const m = scanner.positions.metrics();
      logger.info(
        { runId: id, ...scanner.counts, trades: m.trades, totalPnl: m.totalPnl },
        `scanner run ${id} stopped`,
      );
    },
    (err: unknown) => {
      if (!(err instanceof InterruptedError && stop.signal.aborted))
        logger.error({ err }, 'the scanner stopped on an error');
    },
  );
  return {
    runId,
    close: async () => {
      stop.abort();
      await run;
    },
  };
}
