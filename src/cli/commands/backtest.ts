import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { resolveBacktestSettings } from '../../../backtests/config.js';
import { backtestJson, metricsTable } from '../../../backtests/report.js';
import { runBacktest, type BacktestData, type BacktestResult } from '../../../backtests/runBacktest.js';
import { loadCsvCandles, loadDatabaseCandles, type LoadedCandles } from '../../../backtests/sources.js';
import { UsageError } from '../../domain/errors.js';
import { parseTimeframe } from '../../domain/timeframe.js';
import { migrate } from '../../storage/migrate.js';
import type { CandleLabel } from '../../streams/candleCsv.js';
import { readTradeCsv, symbolFromFileName } from '../../streams/tradeCsv.js';
import { readEnv } from '../../config/env.js';
import type { CliIo } from '../io.js';
import { Progress } from '../progress.js';
import { chooseDatabase, DATABASE_URL_HELP, openChosen, PGLITE_HELP } from '../runtime.js';

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
  readonly timeframe: string;
  readonly balance?: string;
  readonly fee?: string;
  readonly slippageBps?: string;
  readonly sizing?: string;
  readonly json?: boolean;
}

/** Runs with at least this many candles draw a progress line (on an interactive stderr). */
const PROGRESS_MIN_CANDLES = 200_000;

export function registerBacktest(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  program
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
    .option('--timeframe <tf>', 'interval of the candles read: 1m,5m,15m,1h,4h,1d', '1m')
    .option('--balance <amount>', 'initial cash in quote currency (default 10000)')
    .option('--fee <fraction>', 'fee on every fill as a fraction of notional (default 0.001)')
    .option('--slippage-bps <bps>', 'slippage on every market fill, in basis points (default 0)')
    .option('--sizing <spec>', 'fixed:QUANTITY | equity:PERCENT | risk:PERCENT (default equity:100)')
    .option('--json', 'print { metrics, trades, equity_curve } as one JSON object')
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
  const settings = resolveBacktestSettings(options);
  const timeframe = parseTimeframe(options.timeframe);
  const fromMs = options.from === undefined ? undefined : isoTime(options.from, '--from');
  const toMs = options.to === undefined ? undefined : isoTime(options.to, '--to');
  if (fromMs !== undefined && toMs !== undefined && !(fromMs < toMs)) {
    throw new UsageError(`--from ${options.from} is not before --to ${options.to}`);
  }
  const note = (text: string): void => {
    io.stderr.write(`rxtrade backtest: ${text}\n`);
  };

  let loaded: LoadedCandles;
  let where: string;
  let data: BacktestData | undefined;
  if (options.trades !== undefined) {
    if (options.data !== undefined || options.databaseUrl !== undefined || options.pglite !== undefined) {
      throw new UsageError('give one data source: --trades FILE, --data FILE or stored candles, not several');
    }
    if (options.label !== undefined) throw new UsageError('--label only applies to --data');
    if (timeframe !== '1m') {
      throw new UsageError(
        `--trades builds 1m candles (as live): --timeframe must be 1m, got ${timeframe} (set the strategy's own timeframe parameter for longer candles)`,
      );
    }
    if (!existsSync(options.trades)) throw new UsageError(`--trades ${options.trades}: no such file`);
    const file = await readTradeCsv(options.trades, {
      symbol: options.symbol ?? symbolFromFileName(options.trades) ?? 'UNKNOWN',
    });
    const trades = file.trades.filter(
      (t) => (fromMs === undefined || t.tsMs >= fromMs) && (toMs === undefined || t.tsMs < toMs),
    );
    if (trades.length === 0) {
      throw new UsageError(
        `no trades${fromMs !== undefined || toMs !== undefined ? ' in the period' : ''} in ${options.trades}`,
      );
    }
    where = options.trades;
    data = { trades };
    loaded = { candles: [], read: 0 };
  } else if (options.data !== undefined) {
    if (options.databaseUrl !== undefined || options.pglite !== undefined) {
      throw new UsageError(
        'give one data source: --data FILE, or --symbol/--from/--to with --database-url or --pglite, not both',
      );
    }
    if (!existsSync(options.data)) throw new UsageError(`--data ${options.data}: no such file`);
    loaded = await loadCsvCandles(options.data, {
      timeframe,
      ...(options.label !== undefined ? { label: options.label } : {}),
      ...(options.symbol !== undefined ? { symbol: options.symbol } : {}),
      ...(fromMs !== undefined ? { fromMs } : {}),
      ...(toMs !== undefined ? { toMs } : {}),
    });
    where = options.data;
  } else {
    const missing = (['symbol', 'from', 'to'] as const).filter((k) => options[k] === undefined);
    if (missing.length === 3) {
      throw new UsageError(
        'no data: give --data FILE.csv, --trades FILE.csv, or --symbol S --from ISO --to ISO (stored candles)',
      );
    }
    if (missing.length > 0) {
      throw new UsageError(
        `stored candles need --symbol, --from and --to: missing ${missing.map((k) => `--${k}`).join(', ')}`,
      );
    }
    if (options.label !== undefined) throw new UsageError('--label only applies to --data');
    const choice = chooseDatabase(options, readEnv(env));
    where = choice.where;
    if (choice.url === undefined && !existsSync(choice.pglitePath)) {
      throw new UsageError(
        `--pglite ${choice.pglitePath}: no database there (import candles first: rxtrade import)`,
      );
    }
    const db = await openChosen(choice);
    try {
      await migrate(db);
      loaded = await loadDatabaseCandles(db, {
        symbol: options.symbol as string,
        timeframe,
        fromMs: fromMs as number,
        toMs: toMs as number,
      });
    } finally {
      await db.close();
    }
  }
  if (data === undefined && loaded.candles.length === 0) {
    const range =
      fromMs === undefined && toMs === undefined ? '' : ` in ${options.from ?? '…'} … ${options.to ?? '…'}`;
    const sym = options.symbol !== undefined ? `${options.symbol} ` : '';
    throw new UsageError(`no ${sym}${timeframe} candles${range} in ${where}`);
  }

  const total = loaded.candles.length;
  const progress =
    total >= PROGRESS_MIN_CANDLES
      ? new Progress(io, `backtesting ${settings.strategyName}:`, total, (done) => `${done} candles`)
      : undefined;
  const result = runBacktest(data ?? { candles: loaded.candles }, {
    strategy: settings.strategy,
    risk: settings.risk,
    venue: settings.venue,
    initialCash: settings.initialCash,
    ...(progress !== undefined ? { onProgress: (done: number) => progress.update(done) } : {}),
  });
  progress?.done();

  const warnings = result.warnings;
  if (options.json) {
    await write(io.stdout, `${JSON.stringify(backtestJson(result))}\n`);
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
  await write(io.stdout, `${lines.join('\n')}\n`);
  return result;
}

/** ISO-8601 (UTC when no zone) or epoch ms. */
function isoTime(text: string, flag: string): number {
  const t = text.trim();
  let ms: number;
  if (/^\d{11,}$/.test(t)) ms = Number(t);
  else {
    const hasZone = /(?:Z|[+-]\d\d:?\d\d)$/i.test(t);
    const dateOnly = /^\d{4}-\d\d-\d\d$/.test(t);
    ms = Date.parse(hasZone || dateOnly ? t : `${t.replace(' ', 'T')}Z`);
  }
  if (!Number.isFinite(ms))
    throw new UsageError(`${flag} "${text}" is not an ISO-8601 time such as 2021-05-01 or 2021-05-01T12:00Z`);
  return ms;
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
