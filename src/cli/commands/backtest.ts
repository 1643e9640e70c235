import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
// The modules a single backtest uses, not the barrel (backtests/index.ts): through it, the command's bundle
// would also load the optimizer's worker pool (node:worker_threads, node:v8) and the rest.
import type { BacktestData, BacktestResult } from '../../../backtests/backtestTypes.js';
import {
  resolveBacktestSettings,
  type BacktestSettings,
  withStrategyTimeframe,
} from '../../../backtests/config.js';
import { loadReportWriters } from '../../../backtests/reportWriters.js';
import { deniedLine, metricsTable } from '../../../backtests/report.js';
import { runBacktest } from '../../../backtests/runBacktest.js';
import {
  exchangesWithSymbol,
  loadCsvCandles,
  loadDatabaseCandles,
  type LoadedCandles,
  type StoredCandleSet,
  storedCandleSets,
} from '../../../backtests/sources.js';
import { UsageError } from '../../domain/errors.js';
import { parseTimeframe, timeframeMs, type Timeframe } from '../../domain/timeframe.js';
import type { Trade } from '../../domain/trade.js';
import type { Queryable } from '../../storage/database.js';
import type { CandleLabel } from '../../streams/candleCsvParser.js';
import { describeDuplicates, readTradeCsv, symbolFromFileName } from '../../streams/tradeCsv.js';
import { type CliIo, writeText } from '../io.js';
import { Progress } from '../progress.js';
import { writeBacktestJson } from '../backtestJsonOutput.js';
import { DATABASE_URL_HELP, PGLITE_HELP } from '../helpTexts.js';
import { DEFAULT_EXCHANGE } from '../../domain/exchange.js';
import { parseIsoUtc } from '../../domain/time.js';
import { isoMinute } from '../../domain/time.js';
import { addAccountOptions } from '../accountOptions.js';

export interface BacktestCommandOptions {
  readonly strategy?: string;
  readonly params?: string;
  readonly config?: string;
  readonly symbol?: string;
  readonly from?: string;
  readonly to?: string;
  readonly databaseUrl?: string;
  readonly pglite?: string;
  readonly data?: string;
  readonly trades?: string;
  readonly label?: CandleLabel;
  readonly timeframe?: string;
  readonly exchange?: string;
  readonly balance?: string;
  readonly fee?: string;
  readonly slippageBps?: string;
  readonly sizing?: string;
  readonly json?: boolean;
  readonly report?: string;
}

/** Runs with at least this many candles draw a progress line (on an interactive stderr). */
const PROGRESS_MIN_CANDLES = 200_000;

export function registerBacktest(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  const accountCommand = program
    .command('backtest')
    .description(
      'Backtest a strategy on stored candles, a candle CSV or recorded trades, through the operators the live bots run, in virtual time.',
    )
    .option(
      '--strategy <name>',
      'strategy to run (ema_crossover, sma_cross, rsi_reversion, macd_trend, bollinger_breakout, momentum)',
    )
    .option(
      '--params <json>',
      'strategy parameters as a JSON object, e.g. \'{"fast_period": 9}\' (missing ones take their defaults)',
    )
    .option(
      '--config <file>',
      'JSON config: strategy_name, parameters, risk, venue, initial_balance (flags win over it)',
    )
    .option(
      '--symbol <symbol>',
      'symbol of the stored candles (with --from/--to), or the label of --data candles',
    )
    .option(
      '--from <iso>',
      'start of the period (candles opening at or after it; ISO-8601, UTC when no zone)',
    )
    .option('--to <iso>', 'end of the period (candles closing at or before it)')
    .option('--database-url <url>', `${DATABASE_URL_HELP}: where the stored candles are`)
    .option('--pglite <path>', PGLITE_HELP)
    .option('--exchange <name>', 'exchange of the stored candles (default: the only one that has the symbol)')
    .option(
      '--data <file>',
      'candle CSV instead of the database (header: ts|timestamp|open_time_ms|close_time_ms|date, open, high, low, close, volume)',
    )
    .option(
      '--trades <file>',
      'recorded trades (the trade CSV of `rxtrade candles`) instead: built into 1m candles in virtual time, as live',
    )
    .addOption(
      new Option(
        '--label <label>',
        'whether the --data time column holds open or close times (default: from the column name, else close)',
      ).choices(['open', 'close']),
    )
    .option(
      '--timeframe <tf>',
      'interval of the candles read: 1m,5m,15m,1h,4h,1d (default: 1m; for --data, what the rows are spaced like)',
    );
  addAccountOptions(accountCommand)
    .option('--json', 'print { metrics, trades, equity_curve } as one JSON object')
    .option(
      '--report <file.html>',
      'also write a self-contained HTML report (charts and tables; opens offline)',
    )
    .addHelpText(
      'after',
      `
Orders decided on a candle fill at the next candle's open; a fee (--fee × notional) is paid on every fill.
A position still open after the last candle is closed at its close, and the report says so. Candles are
used as given: gaps are reported, not filled. risk:P sizing needs stop_loss_percentage in --config's risk.

Examples:
  rxtrade backtest --strategy ema_crossover --data BTC_USDT-1m.csv --label open --sizing fixed:0.1
  rxtrade backtest --strategy sma_cross --params '{"fast_period":5}' --symbol BTC-USDT \\
                   --from 2021-05-01 --to 2021-06-01 --pglite ./data/pglite --json`,
    )
    .action(async (options: BacktestCommandOptions) => {
      await runBacktestCommand(options, io, env);
    });
}

export async function runBacktestCommand(
  options: BacktestCommandOptions,
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BacktestResult> {
  let settings = resolveBacktestSettings(options);
  const note = (text: string): void => {
    io.stderr.write(`rxtrade backtest: ${text}\n`);
  };
  const { loaded, where, data } = await loadBacktestData(options, note, env);
  settings = fitStrategyToData(settings, loaded, where, note);

  const total = loaded.columns?.length ?? loaded.candles.length;
  const progress =
    total >= PROGRESS_MIN_CANDLES
      ? new Progress(io, `backtesting ${settings.strategyName}:`, total, (done) => `${done} candles`)
      : undefined;
  const result = runBacktest(data, {
    strategy: settings.strategy,
    risk: settings.risk,
    venue: settings.venue,
    initialCash: settings.initialCash,
    series: options.report !== undefined,
    ...(progress !== undefined ? { onProgress: (done: number) => progress.update(done) } : {}),
  });
  progress?.done();
  if (options.report !== undefined) {
    const { writeBacktestReport } = await loadReportWriters();
    await writeBacktestReport(options.report, { result, settings, candles: loaded.candles, where });
    note(`report written to ${options.report}`);
  }

  const denied = deniedLine(result);
  if (denied !== undefined) note(denied);
  const warnings = result.warnings;
  if (options.json) {
    await writeBacktestJson(io.stdout, result);
    for (const w of warnings) note(w);
    return result;
  }
  const m = result.metrics;
  const lines = [
    `${settings.strategyName} ${JSON.stringify(settings.parameters)} on ${result.symbol} ${result.timeframe} (${where})`,
    `${result.candles} candles, ${result.signals} signals, ${result.orders} orders, ${result.denied} denied, ${result.fills} fills`,
    '',
    ...metricsTable(m),
  ];
  if (warnings.length > 0) lines.push('', ...warnings.map((w) => `warning: ${w}`));
  await writeText(io.stdout, `${lines.join('\n')}\n`);
  return result;
}

/** The data flags of `backtest` (and `compare`): a source and a period. */
export type BacktestDataOptions = CandleDataOptions & {
  readonly trades?: string;
  readonly timeframe?: string;
  readonly exchange?: string;
};

/**
 * What a backtest runs on, from the flags: recorded trades (`--trades`), a candle CSV (`--data`) or stored
 * candles. `loaded` holds the candles (none for trades), `where` names the source for messages.
 */
export async function loadBacktestData(
  options: BacktestDataOptions,
  note: (text: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ loaded: LoadedCandles; where: string; data: BacktestData }> {
  const { asked, fromMs, toMs, exchange } = await parseDataSelection(options);
  if (exchange !== undefined && (options.data !== undefined || options.trades !== undefined)) {
    throw new UsageError('--exchange only applies to stored candles (not to --data or --trades files)');
  }

  let loaded: LoadedCandles;
  let where: string;
  let data: BacktestData | undefined;
  if (options.trades !== undefined) {
    if (options.data !== undefined || options.databaseUrl !== undefined || options.pglite !== undefined) {
      throw new UsageError('give one data source: --trades FILE, --data FILE or stored candles, not several');
    }
    if (options.label !== undefined) throw new UsageError('--label only applies to --data');
    if (asked !== undefined && asked !== '1m') {
      throw new UsageError(
        `--trades builds 1m candles (as live): --timeframe must be 1m, got ${asked} (set the strategy's own timeframe parameter for longer candles)`,
      );
    }
    if (!existsSync(options.trades)) throw new UsageError(`--trades ${options.trades}: no such file`);
    const trades = await readTrades(options.trades, options.symbol, note);
    const inPeriod = trades.filter(
      (t) => (fromMs === undefined || t.tsMs >= fromMs) && (toMs === undefined || t.tsMs < toMs),
    );
    if (inPeriod.length === 0) {
      throw new UsageError(
        `no trades${fromMs !== undefined || toMs !== undefined ? ' in the period' : ''} in ${options.trades}`,
      );
    }
    where = options.trades;
    data = { trades: inPeriod };
    loaded = { candles: [], read: 0 };
  } else {
    ({ loaded, where } = await loadCandleData(
      options,
      { asked, fromMs, toMs, exchange, tradesToo: true },
      note,
      env,
    ));
  }
  // A CSV's columns as they are: candle objects are made only if the run or a report needs them.
  data ??= loaded.columns !== undefined ? { columns: loaded.columns } : { candles: loaded.candles };
  return { loaded, where, data };
}

/** Where candles come from (the options `backtest` and `optimize` share). */
export interface CandleDataOptions {
  readonly symbol?: string;
  readonly from?: string;
  readonly to?: string;
  readonly databaseUrl?: string;
  readonly pglite?: string;
  readonly data?: string;
  readonly label?: CandleLabel;
}

/**
 * The candles of `--data FILE` or of the database (`--symbol/--from/--to` with `--database-url`/`--pglite`):
 * the database code is loaded only for the latter.
 */
export async function loadCandleData(
  options: CandleDataOptions,
  range: {
    readonly asked: Timeframe | undefined;
    readonly fromMs: number | undefined;
    readonly toMs: number | undefined;
    readonly exchange: string | undefined;
    /** The command also takes --trades (named in the "no data" message). */
    readonly tradesToo?: boolean;
    /** A CSV's columns go on SharedArrayBuffers (optimize shares them with its worker threads). */
    readonly shared?: boolean;
  },
  note: (text: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ loaded: LoadedCandles; where: string; exchange?: string }> {
  const { asked, fromMs, toMs, exchange } = range;
  let loaded: LoadedCandles;
  let where: string;
  // The exchange of stored candles (undefined for a file).
  let storedOn: string | undefined;
  if (options.data !== undefined) {
    if (options.databaseUrl !== undefined || options.pglite !== undefined) {
      throw new UsageError(
        'give one data source: --data FILE, or --symbol/--from/--to with --database-url or --pglite, not both',
      );
    }
    if (!existsSync(options.data)) throw new UsageError(`--data ${options.data}: no such file`);
    loaded = await loadCsvCandles(options.data, {
      ...(asked !== undefined ? { timeframe: asked } : {}),
      ...(options.label !== undefined ? { label: options.label } : {}),
      ...(options.symbol !== undefined ? { symbol: options.symbol } : {}),
      ...(fromMs !== undefined ? { fromMs } : {}),
      ...(toMs !== undefined ? { toMs } : {}),
      ...(range.shared === true ? { shared: true } : {}),
    });
    where = options.data;
  } else {
    const missing = (['symbol', 'from', 'to'] as const).filter((k) => options[k] === undefined);
    if (missing.length === 3) {
      throw new UsageError(
        `no data: give --data FILE.csv, ${range.tradesToo === true ? '--trades FILE.csv, ' : ''}or --symbol S --from ISO --to ISO (stored candles)`,
      );
    }
    if (missing.length > 0) {
      throw new UsageError(
        `stored candles need --symbol, --from and --to: missing ${missing.map((k) => `--${k}`).join(', ')}`,
      );
    }
    if (options.label !== undefined) throw new UsageError('--label only applies to --data');
    const [{ chooseDatabase, openChosen }, { migrate }, { readEnv }] = await Promise.all([
      import('../runtime.js'),
      import('../../storage/migrate.js'),
      import('../../config/env.js'),
    ]);
    const choice = chooseDatabase(options, readEnv(env));
    if (choice.url === undefined && !existsSync(choice.pglitePath)) {
      throw new UsageError(
        `--pglite ${choice.pglitePath}: no database there (import candles first: rxtrade import)`,
      );
    }
    const db = await openChosen(choice);
    try {
      await migrate(db);
      const symbol = options.symbol as string;
      const timeframe = asked ?? '1m';
      const from = exchange ?? (await onlyExchange(db, symbol, note));
      storedOn = from ?? DEFAULT_EXCHANGE;
      where = `${choice.where}, exchange ${storedOn}`;
      loaded = await loadDatabaseCandles(db, {
        symbol,
        timeframe,
        fromMs: fromMs as number,
        toMs: toMs as number,
        ...(from !== undefined ? { exchange: from } : {}),
      });
      if (loaded.candles.length === 0) {
        throw new UsageError(
          `no ${symbol} ${timeframe} candles in ${options.from} … ${options.to} in ${where}\n` +
            describeStored(await storedCandleSets(db)),
        );
      }
    } finally {
      await db.close();
    }
  }
  if ((loaded.columns?.length ?? loaded.candles.length) === 0) {
    const period =
      fromMs === undefined && toMs === undefined ? '' : ` in ${options.from ?? '…'} … ${options.to ?? '…'}`;
    const sym = options.symbol !== undefined ? `${options.symbol} ` : '';
    throw new UsageError(`no ${sym}${loaded.timeframe ?? asked ?? '1m'} candles${period} in ${where}`);
  }
  return { loaded, where, ...(storedOn !== undefined ? { exchange: storedOn } : {}) };
}

/**
 * Recorded trades of one symbol. A file holding several (a symbol column) needs --symbol to pick one;
 * otherwise --symbol labels the trades (default: the file's symbol column, else the pair in its name).
 */
async function readTrades(
  path: string,
  symbol: string | undefined,
  note: (text: string) => void,
): Promise<readonly Trade[]> {
  const file = await readTradeCsv(path, {
    defaultSymbol: symbol ?? symbolFromFileName(path) ?? 'UNKNOWN',
  });
  const duplicates = describeDuplicates(file.duplicates);
  if (duplicates !== undefined) note(duplicates);
  if (file.symbols.length > 1) {
    const held = file.symbols.slice(0, 10).join(', ') + (file.symbols.length > 10 ? ', …' : '');
    if (symbol === undefined) {
      throw new UsageError(
        `--trades ${path} holds trades of ${file.symbols.length} symbols (${held}): a backtest runs on one; choose it with --symbol`,
      );
    }
    if (!file.symbols.includes(symbol)) {
      throw new UsageError(`--symbol ${symbol}: ${path} holds no ${symbol} trades (it holds ${held})`);
    }
    return file.trades.filter((t) => t.symbol === symbol);
  }
  if (symbol !== undefined && file.symbols[0] !== undefined && file.symbols[0] !== symbol) {
    return file.trades.map((t) => ({ ...t, symbol }));
  }
  return file.trades;
}

/**
 * A strategy left at its default timeframe (1m) runs on the data's timeframe when the candles are longer
 * (daily data): nothing else could run. One whose timeframe was set explicitly is refused instead, since
 * the user asked for something the data cannot give.
 */
export function fitStrategyToData(
  settings: BacktestSettings,
  loaded: LoadedCandles,
  where: string,
  note: (text: string) => void,
): BacktestSettings {
  const dataTf =
    loaded.columns !== undefined
      ? loaded.columns.length > 0
        ? loaded.columns.timeframe
        : undefined
      : loaded.candles[0]?.timeframe;
  const strategyTf = settings.strategy.timeframe;
  if (dataTf === undefined || timeframeMs(dataTf) <= timeframeMs(strategyTf)) return settings;
  const spaced = loaded.timeframeFromSpacing ? ' (read off the spacing of the rows)' : '';
  if (settings.timeframeGiven) {
    throw new UsageError(
      `${settings.strategyName}'s timeframe parameter is ${strategyTf}, but ${where} holds ${dataTf} candles${spaced}: ` +
        `a strategy cannot decide more often than its data; set timeframe to ${dataTf} or longer`,
    );
  }
  note(
    `${where} holds ${dataTf} candles${spaced}: ${settings.strategyName} decides on ${dataTf} candles ` +
      `instead of its default ${strategyTf} (its timeframe parameter sets it)`,
  );
  return withStrategyTimeframe(settings, dataTf);
}

/**
 * Without --exchange: the only exchange that has the symbol (said on stderr), undefined when none has it
 * (the caller then lists what is stored), and a UsageError listing them when several do.
 */
async function onlyExchange(
  db: Queryable,
  symbol: string,
  note: (text: string) => void,
): Promise<string | undefined> {
  const exchanges = await exchangesWithSymbol(db, symbol);
  if (exchanges.length > 1) {
    throw new UsageError(
      `${symbol} is stored under ${exchanges.length} exchanges (${exchanges.join(', ')}): choose one with --exchange`,
    );
  }
  const only = exchanges[0];
  if (only !== undefined)
    note(`reading ${symbol} candles of exchange ${only} (the only one that has them; --exchange chooses)`);
  return only;
}

/** The lines that follow a "no candles" error: what the database does hold. */
function describeStored(sets: readonly StoredCandleSet[]): string {
  if (sets.length === 0) {
    return 'The database holds no candles yet: rxtrade import stores a candle file, rxtrade collect (or start) live ones.';
  }
  const shown = sets
    .slice(0, 30)
    .map(
      (s) =>
        `  ${s.exchange} ${s.symbol} ${s.timeframe}: ${s.count} candle${s.count === 1 ? '' : 's'} closing ` +
        `${isoMinute(s.firstCloseTimeMs)} … ${isoMinute(s.lastCloseTimeMs)}`,
    );
  const more = sets.length > shown.length ? [`  … and ${sets.length - shown.length} more`] : [];
  return ['Stored candles (exchange symbol timeframe):', ...shown, ...more].join('\n');
}

/** ISO-8601 (UTC when no zone) or epoch ms. */
export function isoTime(text: string, flag: string): number {
  const t = text.trim();
  let ms: number;
  if (/^\d{11,}$/.test(t)) ms = Number(t);
  else ms = parseIsoUtc(t);
  if (!Number.isFinite(ms))
    throw new UsageError(`${flag} "${text}" is not an ISO-8601 time such as 2021-05-01 or 2021-05-01T12:00Z`);
  return ms;
}

/**
 * The data-selection flags backtest and optimize share, checked: `--timeframe`, `--from`/`--to` (from before
 * to) and `--exchange`. The database and bus code (../runtime.js) is loaded only when `--exchange` is given.
 */
export async function parseDataSelection(options: {
  readonly timeframe?: string;
  readonly from?: string;
  readonly to?: string;
  readonly exchange?: string;
}): Promise<{
  readonly asked: Timeframe | undefined;
  readonly fromMs: number | undefined;
  readonly toMs: number | undefined;
  readonly exchange: string | undefined;
}> {
  const asked = options.timeframe === undefined ? undefined : parseTimeframe(options.timeframe);
  const fromMs = options.from === undefined ? undefined : isoTime(options.from, '--from');
  const toMs = options.to === undefined ? undefined : isoTime(options.to, '--to');
  if (fromMs !== undefined && toMs !== undefined && !(fromMs < toMs)) {
    throw new UsageError(`--from ${options.from} is not before --to ${options.to}`);
  }
  const exchange =
    options.exchange === undefined
      ? undefined
      : (await import('../runtime.js')).parseExchange(options.exchange);
  return { asked, fromMs, toMs, exchange };
}
