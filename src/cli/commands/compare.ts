import { Option, type Command } from 'commander';
import {
  compareJson,
  compareRuns,
  compareText,
  DEFAULT_SEED,
  loadReportWriters,
  loadRunsFile,
  parseRunFlag,
  resolveBacktestSettings,
  uniqueLabels,
  type CompareResult,
  type RunSpec,
} from '../../../backtests/index.js';
import { RxtradeError, UsageError } from '../../domain/errors.js';
import type { CandleLabel } from '../../streams/candleCsvParser.js';
import { DATABASE_URL_HELP, PGLITE_HELP } from '../helpTexts.js';
import type { CliIo } from '../io.js';
import { fitStrategyToData, loadBacktestData } from './backtest.js';
import { addAccountOptions } from '../accountOptions.js';

export interface CompareCommandOptions {
  readonly run?: readonly string[];
  readonly runs?: string;
  readonly config?: string;
  readonly samples?: string;
  readonly blockLength?: string;
  readonly seed?: string;
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

export function registerCompare(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  const accountCommand = program
    .command('compare')
    .description(
      'Backtest several strategies on the same data and settings, side by side, with a bootstrap test of their differences and a Monte Carlo of trade order.',
    )
    .option(
      '--run <spec>',
      'a run: STRATEGY, STRATEGY:JSON or LABEL=STRATEGY:JSON, e.g. \'sma_cross:{"fast_period":10}\' (repeatable; the first is the baseline)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--runs <file>', 'YAML or JSON list of runs: [{ strategy, params, label }] (before any --run)')
    .option('--config <file>', 'JSON config for every run: risk, venue, initial_balance')
    .option('--samples <n>', 'bootstrap resamples and trade-order shuffles (default 2000)')
    .option('--block-length <periods>', 'mean block length of the stationary bootstrap (default ⌈n^(1/3)⌉)')
    .option(
      '--seed <n>',
      `seed of the random draws (default ${DEFAULT_SEED}): the same seed, the same output`,
    )
    .option(
      '--symbol <symbol>',
      'symbol of the stored candles (with --from/--to), or the label of --data candles',
    )
    .option('--from <iso>', 'start of the period (candles opening at or after it)')
    .option('--to <iso>', 'end of the period (candles closing at or before it)')
    .option('--database-url <url>', `${DATABASE_URL_HELP}: where the stored candles are`)
    .option('--pglite <path>', PGLITE_HELP)
    .option('--exchange <name>', 'exchange of the stored candles (default: the only one that has the symbol)')
    .option('--data <file>', 'candle CSV instead of the database (as for backtest)')
    .option('--trades <file>', 'recorded trades instead (built into 1m candles, as for backtest)')
    .addOption(
      new Option('--label <label>', 'whether the --data time column holds open or close times').choices([
        'open',
        'close',
      ]),
    )
    .option('--timeframe <tf>', 'interval of the candles read (default: 1m; for --data, their spacing)');
  addAccountOptions(accountCommand)
    .option(
      '--json',
      'print the runs (params, all metrics, drawdown distribution) and the tests as one JSON object',
    )
    .option(
      '--report <file.html>',
      'also write a self-contained HTML report (charts and tables; opens offline)',
    )
    .addHelpText(
      'after',
      `
Each run is what \`rxtrade backtest\` runs with that strategy and those parameters. Every run after the
first is tested against the first: a paired stationary bootstrap of the per-period returns gives an
interval and a p-value for the Sharpe and the return differences. Each run's closed trades are shuffled
to give the distribution of its max drawdown. All draws are seeded.

Examples:
  rxtrade compare --data BTC_USDT-1m.csv --run sma_cross --run 'sma_cross:{"fast_period":5}' \\
      --run 'ema=ema_crossover:{"fast_period":9,"slow_period":21}' --report compare.html
  rxtrade compare --runs runs.yaml --symbol BTC-USDT --from 2021-05-01 --to 2021-06-01 --json`,
    )
    .action(async (options: CompareCommandOptions) => {
      await runCompareCommand(options, io, env);
    });
}

export async function runCompareCommand(
  options: CompareCommandOptions,
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CompareResult> {
  const note = (text: string): void => {
    io.stderr.write(`rxtrade compare: ${text}\n`);
  };
  const specs = uniqueLabels([
    ...(options.runs !== undefined ? loadRunsFile(options.runs) : []),
    ...(options.run ?? []).map((text, i) => parseRunFlag(text, i)),
  ]);
  if (specs.length < 2) {
    throw new UsageError(
      `give at least two runs to compare (--run STRATEGY[:JSON], repeated, or --runs FILE), got ${specs.length}`,
    );
  }
  const samples =
    options.samples === undefined ? undefined : whole(options.samples, '--samples', 1, 1_000_000);
  const blockLength =
    options.blockLength === undefined ? undefined : whole(options.blockLength, '--block-length', 1, 1e9);
  const seed = options.seed === undefined ? DEFAULT_SEED : whole(options.seed, '--seed', 0, 2 ** 32 - 1);
  let settings = specs.map((spec) => settingsOf(spec, options));

  const { loaded, where, data } = await loadBacktestData(options, note, env);
  settings = settings.map((s) => fitStrategyToData(s, loaded, where, note));
  const result = compareRuns(
    data,
    specs.map((spec, i) => ({ label: spec.label, settings: settings[i] as (typeof settings)[number] })),
    {
      seed,
      series: options.report !== undefined,
      ...(samples !== undefined ? { samples } : {}),
      ...(blockLength !== undefined ? { blockLength } : {}),
    },
  );
  if (options.report !== undefined) {
    const { writeCompareReport } = await loadReportWriters();
    await writeCompareReport(options.report, { result, candles: loaded.candles, where });
    note(`report written to ${options.report}`);
  }
  const text = options.json
    ? JSON.stringify(compareJson(result, { where }))
    : compareText(result, { where }).join('\n');
  await new Promise<void>((resolve, reject) =>
    io.stdout.write(`${text}\n`, (err) => (err ? reject(err) : resolve())),
  );
  return result;
}

function settingsOf(
  spec: RunSpec,
  options: CompareCommandOptions,
): ReturnType<typeof resolveBacktestSettings> {
  try {
    return resolveBacktestSettings({
      ...options,
      strategy: spec.strategy,
      params: JSON.stringify(spec.params),
    });
  } catch (err) {
    // "--params: fast_period …" would name a flag this command does not have: name the run instead.
    if (err instanceof RxtradeError && err.kind === 'input') {
      throw new UsageError(
        `${spec.where} (${spec.label}): ${err.message.replace(/^--(params|strategy):?\s*/, '')}`,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
}

function whole(text: string, flag: string, min: number, max: number): number {
  const v = Number(text.trim());
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return v;
}
