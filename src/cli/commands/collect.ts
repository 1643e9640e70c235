import { Option, type Command } from 'commander';
import { Collector } from '../../app/collector.js';
import type { Bus } from '../../bus/bus.js';
import type { Database } from '../../storage/database.js';
import { readEnv, type Env } from '../../config/env.js';
import { InterruptedError, UsageError } from '../../domain/errors.js';
import { parseTimeframeList, TIMEFRAMES, type Timeframe } from '../../domain/timeframe.js';
import { createLogger, type Logger } from '../../infra/logger.js';
import { CandleWriter } from '../../sinks/candleWriter.js';
import { checkDemoSymbols, startDemoMarket, type DemoMarket } from '../demoSim.js';
import {
  CLOSE_BUDGET_MS,
  closeWithin,
  FLUSH_BUDGET_MS,
  openUnlessInterrupted,
  watchInterrupt,
} from '../interrupt.js';
import type { CliIo } from '../io.js';
import {
  addRuntimeOptions,
  chooseDatabase,
  isLoopbackUrl,
  openRuntime,
  parseExchange,
  type RuntimeFlags,
} from '../runtime.js';
import { checkSpeedBound, MAX_SPEED } from '../speed.js';
import { DEFAULT_EXCHANGE } from '../../domain/exchange.js';
import { dataPaths } from '../../config/dataDir.js';
import { CandleStore } from '../../storage/candleStore.js';
import type { OkxSimulator } from '../../sim/okxSimulator.js';
import {
  isAdapterExchange,
  openExchangeFeed,
  prepareExchangeFeed,
  type ExchangeFeed,
} from '../exchangeFeed.js';

export interface CollectRun extends RuntimeFlags {
  readonly symbols: readonly string[];
  readonly timeframes: readonly Timeframe[];
  readonly rawTrades: boolean;
  /** Subscribe the symbols' `books5` too (for the API's order book). Default false. */
  readonly orderBooks?: boolean;
  /** Use the embedded simulator instead of OKX, on a clock this many times faster than the wall clock. */
  readonly sim: { readonly speed: number } | undefined;
  /** Print closed candles of these timeframes on stdout as they close. */
  readonly print: { readonly format: 'csv' | 'json'; readonly timeframes: readonly Timeframe[] } | undefined;
  readonly statusEveryMs: number;
  /** Names the command in messages ("collect", "start"). */
  readonly command: string;
  /**
   * What runs beside the collector (`start`'s bots): called once the collector exists and before its feed
   * starts, closed after the feed stopped and before the database closes.
   */
  readonly attach?: (context: AttachContext) => Promise<{ close(): Promise<void> }>;
}

export interface AttachContext {
  readonly collector: Collector;
  readonly db: Database;
  readonly bus: Bus;
  readonly exchange: string;
  readonly logger: Logger;
  /** With --sim: the embedded simulator (its ground truth, for tests). */
  readonly sim?: OkxSimulator;
  /** OKX's REST API the collector reads (the embedded simulator's with --sim). */
  readonly restUrl: string;
  /** The market's clock (the simulator's, accelerated, with --sim) and wall ms per clock ms. */
  readonly now: () => number;
  readonly wallPerClockMs: number;
}

interface CollectOptions extends RuntimeFlags {
  readonly symbols: string;
  readonly timeframes: string;
  readonly rawTrades?: boolean;
  readonly sim?: boolean;
  readonly speed: string;
  readonly print?: 'csv' | 'json';
  readonly statusEvery: string;
}

export function registerCollect(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  const command = program
    .command('collect')
    .description(
      'Collect OKX trades into candles (1m…1d): store them in market_data and publish each closed candle on market:{symbol}. Runs until Ctrl-C.',
    )
    .requiredOption('--symbols <list>', 'comma-separated OKX instrument ids, e.g. BTC-USDT,ETH-USDT')
    .option('--timeframes <list>', 'timeframes to store and publish', TIMEFRAMES.join(','))
    .option('--raw-trades', 'also store every trade in raw_trades')
    .option('--sim', 'collect from the embedded OKX simulator (bundled recorded trades) instead of OKX')
    .option(
      '--speed <x>',
      `with --sim: the simulated clock runs this many times faster than real time (at most ${MAX_SPEED})`,
      '1',
    )
    .addOption(new Option('--print <format>', 'print closed candles on stdout').choices(['csv', 'json']))
    .option('--status-every <seconds>', 'log a status line this often', '60');
  addRuntimeOptions(command)
    .addHelpText(
      'after',
      `
Environment: OKX_WS_PUBLIC_URL, OKX_REST_URL (default: OKX itself), DATABASE_URL, REDIS_URL, LOG_LEVEL, RXTRADE_DATA_DIR.
During a database outage candles queue in memory, then in <RXTRADE_DATA_DIR>/spill/, and are written when it is back.
Candles the database refuses are stored everywhere else and moved, with the reason, to <RXTRADE_DATA_DIR>/dead-letter/.

Examples:
  rxtrade collect --symbols BTC-USDT,ETH-USDT
  rxtrade collect --symbols BTC-USDT --sim --speed 60 --print csv`,
    )
    .action(async (options: CollectOptions) => {
      const speed = Number(options.speed);
      if (!(speed > 0) || !Number.isFinite(speed))
        throw new UsageError(`--speed must be a number > 0, got "${options.speed}"`);
      const statusEvery = Number(options.statusEvery);
      if (!(statusEvery > 0))
        throw new UsageError(`--status-every must be a number of seconds > 0, got "${options.statusEvery}"`);
      const timeframes = parseTimeframeList(options.timeframes);
      await runCollect(
        {
          ...runtimeFlags(options),
          symbols: parseSymbols(options.symbols),
          timeframes,
          rawTrades: options.rawTrades === true,
          sim: options.sim === true ? { speed } : undefined,
          print: options.print !== undefined ? { format: options.print, timeframes } : undefined,
          statusEveryMs: statusEvery * 1000,
          command: 'collect',
        },
        io,
        readEnv(env),
      );
    });
}

export function runtimeFlags(options: RuntimeFlags): RuntimeFlags {
  return {
    ...(options.databaseUrl !== undefined ? { databaseUrl: options.databaseUrl } : {}),
    ...(options.pglite !== undefined ? { pglite: options.pglite } : {}),
    ...(options.redisUrl !== undefined ? { redisUrl: options.redisUrl } : {}),
    ...(options.exchange !== undefined ? { exchange: options.exchange } : {}),
  };
}

const INST_ID = /^[A-Z0-9]+(?:-[A-Z0-9]+)+$/;

export function parseSymbols(text: string): string[] {
  const symbols = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (symbols.length === 0) throw new UsageError('--symbols: give at least one instrument id, e.g. BTC-USDT');
  for (const s of symbols) {
    if (!INST_ID.test(s)) {
      throw new UsageError(
        `--symbols: "${s}" is not an OKX instrument id (upper case, dash-separated: BTC-USDT)`,
      );
    }
  }
  return [...new Set(symbols)];
}

/**
 * The `exchange` the candles are stored under: --exchange, else `okx-sim` for the embedded simulator and
 * `okx` otherwise. Simulated data must never be stored as `okx`, mixed with the real market's.
 */
function chooseExchange(run: CollectRun, env: Env, io: CliIo): string {
  const exchange = run.exchange !== undefined ? parseExchange(run.exchange) : undefined;
  // An exchange read through ccxt (kraken): stored as itself, or `kraken-sim` from the simulator's dialect.
  if (isAdapterExchange(exchange)) return run.sim !== undefined ? `${exchange}-sim` : exchange;
  if (run.sim !== undefined) {
    if (exchange === DEFAULT_EXCHANGE) {
      throw new UsageError(
        `--exchange okx with the embedded simulator would store simulated candles as real OKX ones: use okx-sim (the default) or another name`,
      );
    }
    return exchange ?? 'okx-sim';
  }
  const chosen = exchange ?? DEFAULT_EXCHANGE;
  const local = [env.okxWsPublicUrl, env.okxRestUrl].find(isLoopbackUrl);
  if (chosen === DEFAULT_EXCHANGE && local !== undefined) {
    io.stderr.write(
      `rxtrade ${run.command}: warning: ${local} is on this machine (a simulator?), yet its candles are stored as exchange 'okx', with real OKX data; pass --exchange okx-sim to keep them apart\n`,
    );
  }
  return chosen;
}

/**
 * Runs the collector until interrupted (or until the feed gives up), then stops and flushes. A stop takes at
 * most ~1.3 s (the 2 s bound of src/cli/interrupt.ts): the flush gets FLUSH_BUDGET_MS, what the database
 * has not taken by then goes to the spill file, and closing gets CLOSE_BUDGET_MS.
 */
export async function runCollect(run: CollectRun, io: CliIo, env: Env): Promise<void> {
  const logger: Logger = createLogger(env.logLevel, 'rxtrade', io.stderr);
  if (run.sim !== undefined) {
    checkDemoSymbols(run.symbols);
    checkSpeedBound(run.sim.speed);
  }
  const exchange = chooseExchange(run, env, io);
  const stop = watchInterrupt(io.interrupted);
  const choice = chooseDatabase(run, env);
  const runtime = await openUnlessInterrupted(
    openRuntime(run, env, logger),
    stop,
    `opening ${choice.where}`,
    choice.url !== undefined,
  );
  let demo: DemoMarket | undefined;
  let feed: ExchangeFeed | undefined;
  try {
    if (isAdapterExchange(run.exchange)) await prepareExchangeFeed();
    if (run.sim !== undefined) {
      // An accelerated simulated clock runs ahead of the wall clock: continue after the newest candle an
      // earlier run stored, so a restart extends the simulated history instead of rewriting it.
      const newest = await new CandleStore(runtime.db, exchange).newestCloseTimeMs();
      demo = await startDemoMarket(run.symbols, run.sim.speed, newest, logger);
    }
    if (isAdapterExchange(run.exchange)) feed = await openExchangeFeed(run.exchange, demo);
    if (stop.requested) throw new InterruptedError(`interrupted while starting ${run.command}`);
  } catch (err) {
    await feed?.close();
    await demo?.sim.stop();
    await closeWithin(runtime.close(), CLOSE_BUDGET_MS, 'the database and the bus', logger);
    throw err;
  }
  const writer =
    run.print !== undefined ? new CandleWriter(io.stdout, run.print.format, demo?.precision) : undefined;
  const collector = new Collector({
    symbols: run.symbols,
    wsUrl: demo?.address.wsPublicUrl ?? env.okxWsPublicUrl,
    restUrl: demo?.address.restUrl ?? env.okxRestUrl,
    ...(env.okxRestTimeoutMs !== undefined ? { restTimeoutMs: env.okxRestTimeoutMs } : {}),
    db: runtime.db,
    bus: runtime.bus,
    exchange,
    timeframes: run.timeframes,
    rawTrades: run.rawTrades,
    ...(run.orderBooks === true ? { orderBooks: true } : {}),
    spillDir: dataPaths(env.dataDir).spill,
    deadLetterDir: dataPaths(env.dataDir).deadLetter,
    ...(demo !== undefined ? { scheduler: demo.scheduler, graceMs: demo.graceMs } : {}),
    ...(feed !== undefined ? { adapter: feed.adapter } : {}),
    logger,
  });
  const printed = new Set(run.print?.timeframes ?? []);
  collector.candles$.subscribe((c) => {
    if (writer === undefined || !printed.has(c.timeframe)) return;
    writer.write(c);
    writer.flush();
  });
  let attached: { close(): Promise<void> } | undefined;
  try {
    attached = await run.attach?.({
      collector,
      db: runtime.db,
      bus: runtime.bus,
      exchange,
      logger,
      ...(demo !== undefined ? { sim: demo.sim } : {}),
      restUrl: demo?.address.restUrl ?? env.okxRestUrl,
      now: demo?.now ?? Date.now,
      wallPerClockMs: demo !== undefined && run.sim !== undefined ? 1 / run.sim.speed : 1,
    });
    if (stop.requested) throw new InterruptedError(`interrupted while starting ${run.command}`);
  } catch (err) {
    await attached?.close();
    await feed?.close();
    await demo?.sim.stop();
    await closeWithin(runtime.close(), CLOSE_BUDGET_MS, 'the database and the bus', logger);
    throw err;
  }
  const source =
    feed !== undefined
      ? feed.description
      : demo !== undefined
        ? `the embedded OKX simulator (recorded trades${run.sim?.speed !== 1 ? `, clock at ${run.sim?.speed}×` : ''})`
        : env.okxWsPublicUrl;
  io.stderr.write(
    `rxtrade ${run.command}: collecting ${run.symbols.join(', ')} from ${source} into ${runtime.description} ` +
      `as exchange '${exchange}' (Ctrl-C stops)\n`,
  );
  const status = setInterval(() => {
    const s = collector.stats();
    logger.info(
      {
        trades: s.trades,
        candles: s.candles,
        stored: s.candleSink.written,
        queued: s.candleSink.queued,
        spillPending: s.candleSink.spillPending,
        commitP99Ms: Math.round(s.candleSink.latency.p99),
        publishFailed: s.bus.failed,
        lateTrades: s.lateTrades,
        reconnects: s.health?.reconnects,
        ...(Object.keys(s.resumed).length > 0 ? { resumed: s.resumed } : {}),
      },
      'collector status',
    );
  }, run.statusEveryMs);
  collector.start();
  let failure: unknown;
  try {
    await Promise.race([collector.done, stop.promise]);
  } catch (err) {
    failure = err;
  } finally {
    clearInterval(status);
    // stop() unsubscribes the feed at once, then flushes; the simulator, with nobody to feed, stops
    // meanwhile rather than take CPU from the flush. With something attached it stops after that closes:
    // the scanner finishes the scan under way over the simulator's REST API (with the simulator gone, its
    // requests were retried with backoff for ~30 s, and the stop took that long).
    const stopping = collector.stop(FLUSH_BUDGET_MS);
    await feed?.close();
    if (attached === undefined) await demo?.sim.stop();
    await stopping;
    await attached?.close();
    await demo?.sim.stop();
    await writer?.end();
    const s = collector.stats();
    await closeWithin(runtime.close(), CLOSE_BUDGET_MS, 'the database and the bus', logger);
    io.stderr.write(
      `rxtrade ${run.command}: stopped; ${s.trades} trades, ${s.candleSink.written} candles stored` +
        `${s.candleSink.spillPending > 0 ? `, ${s.candleSink.spillPending} kept in the spill file for the next start` : ''}` +
        `${s.bus.failed > 0 ? `, ${s.bus.failed} publishes failed` : ''}\n`,
    );
  }
  if (failure !== undefined) throw failure;
}
