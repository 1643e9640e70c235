import { Option, type Command } from 'commander';
import { startHttpInstance, type HttpInstance } from '../../app/httpInstance.js';
import { startInstance } from '../../app/instance.js';
import type { BotCandleOutcome } from '../../bots/botPipeline.js';
import { botsFolder } from '../../bots/botConfigFiles.js';
import { chooseConfigDir, readEnv } from '../../config/env.js';
import { UsageError } from '../../domain/errors.js';
import { parseTimeframeList, TIMEFRAMES } from '../../domain/timeframe.js';
import { DEMO_SYMBOLS } from '../demoSim.js';
import type { CliIo } from '../io.js';
import { MAX_SPEED } from '../speed.js';
import { addRuntimeOptions, chooseDatabase, type RuntimeFlags } from '../runtime.js';
import { parseSymbols, runCollect, runtimeFlags, type AttachContext } from './collect.js';
import { isAdapterExchange } from '../exchangeFeed.js';

interface StartOptions extends RuntimeFlags {
  readonly symbols?: string;
  readonly speed: string;
  readonly timeframes: string;
  readonly format: 'csv' | 'json';
  readonly quiet?: boolean;
  readonly configDir?: string;
  readonly bots: boolean;
  readonly port?: string;
  readonly http: boolean;
  readonly scanner?: boolean;
  readonly scannerConfig?: string;
  readonly sim?: boolean;
}

export function registerStart(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  const command = program
    .command('start')
    .description(
      'Run rxtrade: collect market data into candles, store and publish them, and print them as they close. ' +
        'Without OKX_WS_PUBLIC_URL/OKX_REST_URL it runs on the embedded OKX simulator (bundled recorded trades), so it works offline.',
    )
    .option('--symbols <list>', `instruments (default: ${DEMO_SYMBOLS.join(',')})`)
    .option(
      '--sim',
      "run on the embedded simulator (the default for OKX while OKX_* are unset); with --exchange kraken, its Kraken dialect through ccxt, stored as 'kraken-sim'",
    )
    .option(
      '--speed <x>',
      `embedded simulator only: its clock runs this many times faster than real time (at most ${MAX_SPEED})`,
      '30',
    )
    .option('--timeframes <list>', 'timeframes to print (all are stored)', '1m,5m')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('-q, --quiet', 'print nothing on stdout')
    .option(
      '--config-dir <dir>',
      'the folder of bots/ and strategies/ (default: RXTRADE_CONFIG_DIR, else ./config): its bots run',
    )
    .option('--no-bots', 'collect only: run no bots (and serve no API)')
    .option(
      '--port <n>',
      'HTTP port of the API and dashboard (default: HTTP_PORT, else 8080; 0 picks a free one)',
    )
    .option('--no-http', 'serve no API or dashboard')
    .option(
      '--scanner',
      'run the market scanner and its position manager too (as `rxtrade scan` does), on the same market',
    )
    .option('--scanner-config <file>', 'the scanner config (default: <config dir>/scanner.yaml)');
  addRuntimeOptions(command)
    .addHelpText(
      'after',
      `
Environment: DATABASE_URL, REDIS_URL, OKX_WS_PUBLIC_URL, OKX_REST_URL, LOG_LEVEL, RXTRADE_DATA_DIR,
RXTRADE_CONFIG_DIR, HTTP_HOST, HTTP_PORT, RXTRADE_API_TOKEN.
With none set: PGlite in ./data/pglite, the in-process bus, the embedded simulator at 30×, the bots
of ./config/bots (the three demo bots), whose fills and balances are printed as they happen, and the
dashboard and API at http://127.0.0.1:8080.`,
    )
    .action(async (options: StartOptions) => {
      const e = readEnv(env);
      const speed = Number(options.speed);
      if (!(speed > 0) || !Number.isFinite(speed))
        throw new UsageError(`--speed must be a number > 0, got "${options.speed}"`);
      const configDir = options.bots ? chooseConfigDir(options.configDir, e) : undefined;
      if (options.scannerConfig !== undefined && options.scanner !== true)
        throw new UsageError('--scanner-config is the config of --scanner: add --scanner');
      if (options.scanner === true && isAdapterExchange(options.exchange))
        throw new UsageError(
          `--scanner inside start reads OKX only; for ${String(options.exchange)} run the scanner as its own process: rxtrade scan --exchange ${String(options.exchange)}`,
        );
      let scannerConfig: string | undefined;
      if (options.scanner === true) {
        const { chooseScannerConfig } = await import('../../scanner/configPath.js');
        const chosen = chooseScannerConfig(options.scannerConfig, chooseConfigDir(options.configDir, e));
        if (chosen.note !== undefined) io.stderr.write(`rxtrade start: scanner: ${chosen.note}\n`);
        scannerConfig = chosen.path;
      }
      if (scannerConfig !== undefined) {
        // A bad scanner config is refused (naming the key) before anything starts.
        const { loadScannerConfig } = await import('../../scanner/config.js');
        await loadScannerConfig(scannerConfig);
      }
      const httpPort = options.port === undefined ? e.httpPort : parsePort(options.port);
      const database = chooseDatabase(runtimeFlags(options), e);
      const symbols = parseSymbols(
        options.symbols ?? (e.okxConfigured ? 'BTC-USDT,ETH-USDT' : DEMO_SYMBOLS.join(',')),
      );
      const attachBots =
        configDir === undefined
          ? undefined
          : async ({ collector, db, bus, exchange, logger }: AttachContext) => {
              const instance = await startInstance({
                db,
                bus,
                exchange,
                configDir,
                collector,
                logger,
                bots: {
                  onRecorded:
                    options.quiet === true
                      ? undefined
                      : (botId, o) => printFills(io, options.format, botId, o),
                },
              });
              const bots = await instance.bots.list();
              io.stderr.write(
                `rxtrade start: ${bots.length} bot${bots.length === 1 ? '' : 's'} from ${botsFolder(configDir)}` +
                  `${bots.length > 0 ? ': ' : ''}${bots.map((b) => `${b.botKey} (${b.status})`).join(', ')}\n`,
              );
              for (const b of bots) {
                if (b.status === 'error' && b.statusMessage !== undefined) {
                  io.stderr.write(`rxtrade start: bot ${b.botKey}: ${b.statusMessage}\n`);
                }
              }
              if (!options.http) return instance;
              let http: HttpInstance;
              try {
                http = await startHttpInstance({
                  bots: instance.bots,
                  db,
                  bus,
                  collector,
                  host: e.httpHost,
                  port: httpPort,
                  token: e.apiToken,
                  logger,
                  ...(database.url === undefined ? { pglitePath: database.pglitePath } : {}),
                });
              } catch (err) {
                await instance.close();
                throw err;
              }
              io.stderr.write(`rxtrade start: dashboard and API at ${http.url}\n`);
              return {
                close: async () => {
                  await http.close();
                  await instance.close();
                },
              };
            };
      const attach = scannerConfig === undefined ? attachBots : withScanner(attachBots, scannerConfig, io);
      await runCollect(
        {
          ...runtimeFlags(options),
          symbols,
          timeframes: TIMEFRAMES,
          rawTrades: false,
          orderBooks: configDir !== undefined && options.http,
          // The simulator with --sim, and for OKX while no OKX URL is set; `--exchange kraken` alone is Kraken.
          sim:
            options.sim === true || (!isAdapterExchange(options.exchange) && !e.okxConfigured)
              ? { speed }
              : undefined,
          print:
            options.quiet === true
              ? undefined
              : { format: options.format, timeframes: parseTimeframeList(options.timeframes) },
          statusEveryMs: 60_000,
          command: 'start',
          ...(attach !== undefined ? { attach } : {}),
        },
        io,
        e,
      );
    });
}

/**
 * `start --scanner`: the scanner and its position manager beside the collector (and the bots): the same
 * market (the embedded simulator's clock, or OKX), the same database, rows stored under the same exchange.
 * What it finds goes to stderr (stdout is the candles'), with --quiet too.
 */
function withScanner(
  inner: ((context: AttachContext) => Promise<{ close(): Promise<void> }>) | undefined,
  configPath: string,
  io: CliIo,
): (context: AttachContext) => Promise<{ close(): Promise<void> }> {
  return async (context) => {
    const { startInProcessScanner } = await import('../../scanner/inProcess.js');
    const say = (line: string): void => void io.stderr.write(`rxtrade start: scanner: ${line}\n`);
    const scanner = await startInProcessScanner({
      db: context.db,
      exchange: context.exchange,
      restUrl: context.restUrl,
      configPath,
      logger: context.logger,
      now: context.now,
      wallPerClockMs: context.wallPerClockMs,
      events: {
        universe: (e) =>
          say(`universe ${e.size} symbols (${e.entered.length} entered, ${e.left.length} left)`),
        opportunity: (o, decision) =>
          say(`opportunity ${o.symbol} score ${o.score.toFixed(1)} at ${o.price}: ${decision}`),
      },
    });
    say(`run ${await scanner.runId} with ${configPath}`);
    let rest: { close(): Promise<void> } | undefined;
    try {
      rest = await inner?.(context);
    } catch (err) {
      await scanner.close();
      throw err;
    }
    return {
      close: async () => {
        await scanner.close();
        await rest?.close();
      },
    };
  };
}

/** A bot's fills as they are committed: a `#` line in CSV output (next to the candles), a JSON object in JSON. */
function printFills(io: CliIo, format: 'csv' | 'json', botId: string, o: BotCandleOutcome): void {
  const p = o.record.performance;
  for (const f of o.record.fills) {
    if (format === 'json') {
      io.stdout.write(
        `${JSON.stringify({ type: 'fill', bot_id: botId, ...f, cash: p.cash, total_value: p.totalValue })}\n`,
      );
      continue;
    }
    io.stdout.write(
      `# ${botId}: ${f.side} ${round(f.qty, 8)} at ${round(f.price, 8)} (fee ${round(f.fee, 4)}` +
        `${f.pnl !== undefined ? `, pnl ${round(f.pnl, 2)}` : ''}; ${f.purpose ?? 'fill'}: ${f.reason ?? ''})` +
        ` → cash ${round(p.cash, 2)}, value ${round(p.totalValue, 2)}\n`,
    );
  }
}

function round(x: number, decimals: number): number {
  return Number(x.toFixed(decimals));
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(port) || port > 65535)
    throw new UsageError(`--port must be a port number (0–65535), got "${text}"`);
  return port;
}
