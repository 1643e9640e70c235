import type { Command } from 'commander';
import { readEnv, type Env } from '../../config/env.js';
import { UsageError } from '../../domain/errors.js';
import type { FeedEvent } from '../../exchanges/exchangeAdapter.js';
import { createLogger, type Logger } from '../../infra/logger.js';
import { loadScannerConfig } from '../../scanner/config.js';
import { exportScanCsv } from '../../scanner/export.js';
import { loadMarketData } from '../../scanner/marketData.js';
import { CcxtScanExchange } from '../../scanner/ccxtExchange.js';
import { chooseScannerConfig } from '../../scanner/configPath.js';
import type { ScanExchange } from '../../scanner/exchange.js';
import { OkxScanExchange } from '../../scanner/okxExchange.js';
import { runScanner } from '../../scanner/run.js';
import type { ScannerEvents } from '../../scanner/scanner.js';
import { OkxSimulator } from '../../sim/okxSimulator.js';
import { scanInstruments, scanMarketSpecs } from '../../sim/scanMarket.js';
import { migrate } from '../../storage/migrate.js';
import { ADAPTER_EXCHANGES, isAdapterExchange } from '../exchangeFeed.js';
import type { CliIo } from '../io.js';
import { addRuntimeOptions, chooseDatabase, openChosen, parseExchange } from '../runtime.js';
import { checkSpeedBound } from '../speed.js';
import { isoTime } from './backtest.js';
import { DEFAULT_EXCHANGE } from '../../domain/exchange.js';

/** ccxt's pause between two requests to the simulator's dialect (it has no rate limits; Kraken's own is 1 s). */
const SIM_RATE_LIMIT_MS = 5;

interface ScanOptions {
  readonly sim?: boolean;
  readonly symbols: string;
  readonly speed: string;
  readonly minutes?: string;
  readonly config?: string;
  readonly export?: string;
  readonly from?: string;
  readonly to?: string;
  readonly run?: string;
  readonly databaseUrl?: string;
  readonly pglite?: string;
  readonly exchange?: string;
}

export function registerScan(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  const command = program
    .command('scan')
    .description(
      'Scan the whole market for momentum every minute: filter the universe, record opportunities and snapshots, manage simulated positions. Runs until Ctrl-C or --minutes.',
    )
    .option('--sim', 'scan the embedded simulator: a generated market of --symbols symbols')
    .option('--symbols <n>', 'with --sim: how many symbols the simulated market has', '60')
    .option('--speed <x>', 'with --sim: the simulated clock runs this many times faster than real time', '60')
    .option('--minutes <n>', "stop after this many minutes of the scanner's clock")
    .option('--config <file>', 'the scanner config (default: <config dir>/scanner.yaml)')
    .option(
      '--export <dir>',
      'write snapshots.csv and opportunities.csv there (after the run; without --sim: only export)',
    )
    .option('--from <iso>', 'with --export alone: rows from this time')
    .option('--to <iso>', 'with --export alone: rows before this time')
    .option('--run <id>', 'with --export alone: rows of this run only');
  addRuntimeOptions(command)
    .addHelpText(
      'after',
      `
Environment: OKX_REST_URL (default: OKX itself), DATABASE_URL, LOG_LEVEL, RXTRADE_DATA_DIR, RXTRADE_CONFIG_DIR.
The config file is reloaded while scanning: a valid change applies at the next scan, an invalid one is refused.

Examples:
  rxtrade scan --sim --minutes 30
  rxtrade scan --sim --exchange kraken --minutes 30      (through ccxt, on the simulator's Kraken dialect)
  rxtrade scan --sim --symbols 200 --speed 120 --minutes 60 --export ./scan-data
  rxtrade scan --export ./scan-data --from 2026-01-05 --to 2026-01-06`,
    )
    .action(async (options: ScanOptions) => runScan(options, io, readEnv(env)));
}

async function runScan(options: ScanOptions, io: CliIo, env: Env): Promise<void> {
  const out = (line: string): void => void io.stdout.write(`${line}\n`);
  const choice = chooseDatabase(options, env);
  const exportOnly = options.export !== undefined && options.sim !== true && options.minutes === undefined;
  if (!exportOnly && (options.from !== undefined || options.to !== undefined || options.run !== undefined)) {
    throw new UsageError(
      '--from, --to and --run select what --export writes without scanning; scan with --sim or --minutes, or export alone',
    );
  }
  // An exchange read through ccxt (kraken): stored as itself, or `kraken-sim` from the simulator's dialect.
  const viaCcxt = isAdapterExchange(options.exchange);
  const exchangeName = parseExchange(
    viaCcxt
      ? `${options.exchange}${options.sim === true ? '-sim' : ''}`
      : (options.exchange ?? (options.sim === true ? 'okx-sim' : DEFAULT_EXCHANGE)),
  );
  if (!viaCcxt && !exchangeName.startsWith('okx')) {
    throw new UsageError(
      `--exchange ${exchangeName}: scan reads OKX natively and ${ADAPTER_EXCHANGES.join(', ')} through ccxt`,
    );
  }
  const minutes = options.minutes === undefined ? undefined : positiveInt(options.minutes, '--minutes');
  const logger = createLogger(env.logLevel, 'rxtrade', io.stderr);
  // A bad config is refused, naming the key, before the database is opened (a new PGlite folder takes
  // seconds of initdb, and was left behind).
  const scanConfig = exportOnly ? undefined : await chooseAndLoadConfig(options, env, io);
  const db = await openChosen(choice, logger);
  try {
    await migrate(db, undefined, logger);
    if (exportOnly) {
      const dir = options.export as string;
      const n = await exportScanCsv(db, dir, {
        ...(options.from === undefined ? {} : { fromMs: isoTime(options.from, '--from') }),
        ...(options.to === undefined ? {} : { toMs: isoTime(options.to, '--to') }),
        ...(options.run === undefined ? {} : { runId: options.run }),
      });
      out(`exported ${n.opportunities} opportunities and ${n.snapshots} snapshots to ${dir}`);
      return;
    }
    const { configPath, config, text } = scanConfig as NonNullable<typeof scanConfig>;
    const marketData =
      config.filtering.market_data_file === undefined
        ? undefined
        : await loadMarketData(config.filtering.market_data_file);
    const stop = new AbortController();
    void io.interrupted.then(() => stop.abort());

    let sim: OkxSimulator | undefined;
    let restUrl = config.exchange.rest_url ?? env.okxRestUrl;
    let now = Date.now;
    let wallPerClockMs = 1;
    if (options.sim === true) {
      const speed = Number(options.speed);
      if (!(speed > 0) || !Number.isFinite(speed))
        throw new UsageError(`--speed must be a number > 0, got "${options.speed}"`);
      checkSpeedBound(speed);
      const count = positiveInt(options.symbols, '--symbols');
      if (count < 2 || count > 1000) throw new UsageError(`--symbols must be from 2 to 1000, got ${count}`);
      const history = Math.max(config.application.warmup_candles, config.filtering.min_history_candles) + 30;
      // Room for the clock to run ahead while the first scan warms up; past the data, the market loops.
      const live = (minutes ?? 1440) + 60;
      const wall0 = Date.now();
      const t0 = Math.floor(wall0 / 60_000) * 60_000;
      now = () => t0 + (Date.now() - wall0) * speed;
      wallPerClockMs = 1 / speed;
      sim = new OkxSimulator({
        instruments: scanInstruments(scanMarketSpecs(count), history + live, t0 - history * 60_000),
        now,
        historyMs: history * 60_000,
        loop: true,
        rateLimits: false,
        warn: (line: string) => logger.warn({ component: 'okx-sim' }, line),
      });
      restUrl = (await sim.start()).restUrl;
      out(`simulated market: ${count} symbols, ${history} minutes of history, clock ×${speed}`);
    }
    const closers: (() => Promise<void>)[] = [];
    let exchange: ScanExchange;
    if (viaCcxt) {
      const ccxt = await openCcxtScanExchange(options.exchange as string, exchangeName, sim, now, logger);
      exchange = ccxt.exchange;
      closers.push(ccxt.close);
      out(`reading ${ccxt.description}`);
    } else {
      exchange = new OkxScanExchange(exchangeName, restUrl, logger, now);
    }
    const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
    const px = (x: number | undefined): string => String(Number((x ?? Number.NaN).toPrecision(10)));
    const opened = new Set<number>();
    const events: ScannerEvents = {
      universe: (e) =>
        out(
          `${hhmm(e.timeMs)} universe: ${e.size} symbols (${e.entered.length} entered, ${e.left.length} left)`,
        ),
      opportunity: (o, decision) =>
        out(
          `${hhmm(o.timeMs)} opportunity ${o.symbol} score ${o.score.toFixed(1)} at ${o.price}: ${decision}`,
        ),
      position: (p) => {
        if (p.status === 'open' && !opened.has(p.positionId)) {
          opened.add(p.positionId);
          out(
            `${hhmm(p.openedAtMs ?? 0)} opened ${p.symbol} #${p.positionId}: ${px(p.qty)} at ${px(p.entryPrice)}`,
          );
        }
        if (p.status === 'closed')
          out(`${hhmm(p.closedAtMs ?? 0)} closed ${p.symbol} #${p.positionId}: pnl ${p.pnl.toFixed(2)}`);
      },
      exit: (e) =>
        out(
          `${hhmm(e.timeMs)} exit ${e.symbol} #${e.positionId} ${e.purpose} ${e.percentage.toFixed(0)}% at ${px(e.price)} pnl ${e.pnl.toFixed(2)}${e.trailingActive ? ' (trailing active)' : ''}`,
        ),
    };
    try {
      const { runId, scanner } = await runScanner({
        db,
        exchange,
        config,
        configPath,
        configText: text,
        logger,
        now,
        wallPerClockMs,
        signal: stop.signal,
        events,
        ...(minutes === undefined ? {} : { durationMs: minutes * 60_000 }),
        ...(marketData === undefined ? {} : { marketData }),
      });
      const m = scanner.positions.metrics();
      const c = scanner.counts;
      out(
        `run ${runId}: ${c.candles} candles scored on ${scanner.universeSymbols.length} symbols, ${c.opportunities} opportunities, ${c.snapshots} snapshots; ` +
          `${m.trades} trades, win rate ${Number.isFinite(m.winRate) ? (m.winRate * 100).toFixed(0) + '%' : 'n/a'}, total pnl ${m.totalPnl.toFixed(2)}`,
      );
      if (options.export !== undefined) {
        const n = await exportScanCsv(db, options.export, { runId });
        out(`exported ${n.opportunities} opportunities and ${n.snapshots} snapshots to ${options.export}`);
      }
    } finally {
      for (const close of closers.reverse()) await close();
      await sim?.stop();
    }
  } finally {
    await db.close();
  }
}

/**
 * The scanner's view of `exchange` through ccxt.pro: the real exchange, or with `sim` the embedded
 * simulator's dialect of it (Kraken's, on a second port), without ccxt's pause between requests there.
 */
async function openCcxtScanExchange(
  exchange: string,
  name: string,
  sim: OkxSimulator | undefined,
  now: () => number,
  logger: Logger,
): Promise<{ exchange: CcxtScanExchange; description: string; close: () => Promise<void> }> {
  const { CcxtAdapter } = await import('../../exchanges/ccxtAdapter.js');
  const log = logger.child({ component: `${exchange}-feed` });
  const onEvent = (e: FeedEvent): void => {
    if (e.type === 'disconnected') log.warn(e, 'feed disconnected; retrying');
    else if (e.type === 'connected') log.info(e, 'feed connected');
    else if (e.type === 'backfill') log.info(e, 'backfilled trades');
    else log.info(e, `feed ${e.type}`);
  };
  if (sim === undefined) {
    const adapter = await CcxtAdapter.create({ exchange, onEvent });
    const scan = new CcxtScanExchange({ name, adapter, logger });
    return {
      exchange: scan,
      description: `${exchange} through ccxt.pro`,
      close: async () => {
        scan.close();
        await adapter.close();
      },
    };
  }
  const { KrakenSimulator } = await import('../../sim/krakenSimulator.js');
  const dialect = new KrakenSimulator(sim, { now });
  const address = await dialect.start();
  try {
    const adapter = await CcxtAdapter.create({
      exchange,
      urls: { api: { public: address.restUrl, ws: { publicV2: address.wsV2Url } } },
      onEvent,
      now,
      rateLimitMs: SIM_RATE_LIMIT_MS,
    });
    const scan = new CcxtScanExchange({ name, adapter, now, logger, settleMs: 300 });
    return {
      exchange: scan,
      description: `the simulator's ${exchange} dialect (${address.restUrl}) through ccxt.pro`,
      close: async () => {
        scan.close();
        await adapter.close();
        await dialect.stop();
      },
    };
  } catch (err) {
    await dialect.stop();
    throw err;
  }
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`${flag} must be a whole number ≥ 1, got "${text}"`);
  return n;
}

async function chooseAndLoadConfig(
  options: ScanOptions,
  env: Env,
  io: CliIo,
): Promise<{ configPath: string } & Awaited<ReturnType<typeof loadScannerConfig>>> {
  const chosen = chooseScannerConfig(options.config, env.configDir);
  if (chosen.note !== undefined) io.stderr.write(`rxtrade scan: ${chosen.note}\n`);
  return { configPath: chosen.path, ...(await loadScannerConfig(chosen.path)) };
}
