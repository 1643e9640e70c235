import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { Collector } from '../../app/collector.js';
import { readEnv, type Env } from '../../config/env.js';
import { UsageError } from '../../domain/errors.js';
import { parseTimeframeList, TIMEFRAMES, type Timeframe } from '../../domain/timeframe.js';
import { createLogger, type Logger } from '../../infra/logger.js';
import { CandleWriter } from '../../sinks/candleWriter.js';
import { checkDemoSymbols, startDemoMarket, type DemoMarket } from '../demoSim.js';
import type { CliIo } from '../io.js';
import { addRuntimeOptions, openRuntime, type RuntimeFlags } from '../runtime.js';

export interface CollectRun extends RuntimeFlags {
  readonly symbols: readonly string[];
  readonly timeframes: readonly Timeframe[];
  readonly rawTrades: boolean;
  /** Use the embedded simulator instead of OKX, on a clock this many times faster than the wall clock. */
  readonly sim: { readonly speed: number } | undefined;
  /** Print closed candles of these timeframes on stdout as they close. */
  readonly print: { readonly format: 'csv' | 'json'; readonly timeframes: readonly Timeframe[] } | undefined;
  readonly statusEveryMs: number;
  /** Names the command in messages ("collect", "start"). */
  readonly command: string;
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
    .option('--speed <x>', 'with --sim: the simulated clock runs this many times faster than real time', '1')
    .addOption(new Option('--print <format>', 'print closed candles on stdout').choices(['csv', 'json']))
    .option('--status-every <seconds>', 'log a status line this often', '60');
  addRuntimeOptions(command)
    .addHelpText(
      'after',
      `
Environment: OKX_WS_PUBLIC_URL, OKX_REST_URL (default: OKX itself), DATABASE_URL, REDIS_URL, LOG_LEVEL, RXTRADE_DATA_DIR.
During a database outage candles queue in memory, then in <RXTRADE_DATA_DIR>/spill/, and are written when it is back.

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

/** Runs the collector until interrupted (or until the feed gives up), then stops and flushes. */
export async function runCollect(run: CollectRun, io: CliIo, env: Env): Promise<void> {
  const logger: Logger = createLogger(env.logLevel, 'rxtrade', io.stderr);
  if (run.sim !== undefined) checkDemoSymbols(run.symbols);
  const runtime = await openRuntime(run, env, logger);
  const exchange = run.sim !== undefined ? 'okx-sim' : 'okx';
  let demo: DemoMarket | undefined;
  if (run.sim !== undefined) {
    // An accelerated simulated clock runs ahead of the wall clock: continue after the newest candle an
    // earlier run stored, so a restart extends the simulated history instead of rewriting it.
    const [row] = await runtime.db.query<{ ms: number | null }>(
      `SELECT (extract(epoch from max(timestamp)) * 1000)::bigint AS ms FROM market_data WHERE exchange = $1`,
      [exchange],
    );
    const newest = row?.ms === null || row?.ms === undefined ? undefined : Number(row.ms);
    demo = await startDemoMarket(run.symbols, run.sim.speed, newest).catch(async (err: unknown) => {
      await runtime.close();
      throw err;
    });
  }
  const writer =
    run.print !== undefined
      ? new CandleWriter(io.stdout, run.print.format, demo?.precision ?? { price: 8, volume: 8 })
      : undefined;
  const collector = new Collector({
    symbols: run.symbols,
    wsUrl: demo?.address.wsPublicUrl ?? env.okxWsPublicUrl,
    restUrl: demo?.address.restUrl ?? env.okxRestUrl,
    db: runtime.db,
    bus: runtime.bus,
    exchange,
    timeframes: run.timeframes,
    rawTrades: run.rawTrades,
    spillDir: join(env.dataDir, 'spill'),
    ...(demo !== undefined ? { scheduler: demo.scheduler, graceMs: demo.graceMs } : {}),
    logger,
  });
  const printed = new Set(run.print?.timeframes ?? []);
  collector.candles$.subscribe((c) => {
    if (writer === undefined || !printed.has(c.timeframe)) return;
    writer.write(c);
    writer.flush();
  });
  const source =
    demo !== undefined
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
      },
      'collector status',
    );
  }, run.statusEveryMs);
  collector.start();
  let failure: unknown;
  try {
    await Promise.race([collector.done, io.interrupted]);
  } catch (err) {
    failure = err;
  } finally {
    clearInterval(status);
    await collector.stop();
    await writer?.end();
    const s = collector.stats();
    await runtime.close();
    await demo?.sim.stop();
    io.stderr.write(
      `rxtrade ${run.command}: stopped; ${s.trades} trades, ${s.candleSink.written} candles stored` +
        `${s.candleSink.spillPending > 0 ? `, ${s.candleSink.spillPending} kept in the spill file for the next start` : ''}` +
        `${s.bus.failed > 0 ? `, ${s.bus.failed} publishes failed` : ''}\n`,
    );
  }
  if (failure !== undefined) throw failure;
}
