import { availableParallelism } from 'node:os';
import { Option, type Command } from 'commander';
import {
  type Combination,
  combinations,
  METRIC_KEYS,
  metricsJson,
  type MetricsJson,
  metricsTable,
  OPTIMIZE_METRICS,
  type OptimizeMetric,
  type OptimizeRun,
  type OptimizeSetup,
  parseConstraint,
  parseGrid,
  parseWalkForward,
  rankRuns,
  resolveBacktestSettings,
  runJobs,
  walkForward,
  type WalkForwardResult,
  WorkerPool,
} from '../../../backtests/index.js';
import type { OptimizeReportInput } from '../../../backtests/index.js';
import type { Candle } from '../../domain/candle.js';
import { UsageError } from '../../domain/errors.js';
import { timeframeMs } from '../../domain/timeframe.js';
import type { Metrics } from '../../domain/metrics.js';
import { defaultStrategyRegistry, parameterNames } from '../../strategies/registry.js';
import type { CandleColumns } from '../../streams/candleColumns.js';
import type { CandleLabel } from '../../streams/candleCsvParser.js';
import { DATABASE_URL_HELP, PGLITE_HELP } from '../helpTexts.js';
import { type CliIo, writeText } from '../io.js';
import { Progress } from '../progress.js';
import { fitStrategyToData, loadCandleData, parseDataSelection } from './backtest.js';
import { databaseRunSink, type BacktestRunSink } from './optimizeRuns.js';
import { isoMinute } from '../../domain/time.js';
import { DEFAULT_EXCHANGE } from '../../domain/exchange.js';
import { addAccountOptions } from '../accountOptions.js';
import { queueSettings } from '../../research/queue/settings.js';

export interface OptimizeCommandOptions {
  readonly strategy?: string;
  readonly params?: string;
  readonly config?: string;
  readonly grid?: string;
  readonly constraint?: readonly string[];
  readonly metric?: OptimizeMetric;
  readonly workers?: string;
  readonly top?: string;
  readonly walkForward?: string;
  readonly symbol?: string;
  readonly from?: string;
  readonly to?: string;
  readonly databaseUrl?: string;
  readonly pglite?: string;
  readonly data?: string;
  readonly label?: CandleLabel;
  readonly timeframe?: string;
  readonly exchange?: string;
  readonly balance?: string;
  readonly fee?: string;
  readonly slippageBps?: string;
  readonly sizing?: string;
  readonly json?: boolean;
  readonly report?: string;
  /** `redis`: run the combinations on `rxtrade worker` processes through a BullMQ queue. */
  readonly queue?: 'redis';
  readonly redisUrl?: string;
  readonly timeout?: string;
}

/** One row of the result: a combination's parameters (every one, defaults included) and its metrics. */
export interface OptimizeRow {
  readonly params: Readonly<Record<string, unknown>>;
  readonly metrics: Metrics;
}

export type { BacktestRunSink } from './optimizeRuns.js';

export function registerOptimize(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  const accountCommand = program
    .command('optimize')
    .description(
      "Search a strategy's parameters: backtest every combination of a grid (on all cores) and rank them; with --walk-forward, choose on each training window and test on the next.",
    )
    .option('--strategy <name>', 'strategy to optimize (ema_crossover, sma_cross, rsi_reversion, …)')
    .option(
      '--grid <spec>',
      "parameters to search: name=start:stop:step, name=a,b,c or name=value, comma-separated, e.g. 'fast_period=5:50:5,slow_period=20:200:20'",
    )
    .option(
      '--constraint <expr>',
      "keep only combinations where it holds, e.g. 'fast_period < slow_period' (repeatable: all must hold)",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .addOption(
      new Option('--metric <name>', 'what ranks the combinations (higher is better)')
        .choices([...OPTIMIZE_METRICS])
        .default('sharpe'),
    )
    .option(
      '--workers <n>',
      `threads running the combinations: this one and n − 1 worker threads (default: all cores, ${availableParallelism()} here)`,
    )
    .option('--top <k>', 'rows to print (default 10; --json prints all)')
    .option(
      '--walk-forward <spec>',
      'train=30d,test=7d[,step=7d]: optimize on each training window, run the best on the test window after it, roll on (units m, h, d, w)',
    )
    .option('--params <json>', 'parameters every combination starts from (the grid overrides them)')
    .option('--config <file>', 'JSON config: strategy_name, parameters, risk, venue, initial_balance')
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
    .addOption(
      new Option('--label <label>', 'whether the --data time column holds open or close times').choices([
        'open',
        'close',
      ]),
    )
    .option('--timeframe <tf>', 'interval of the candles read (default: 1m; for --data, their spacing)');
  addAccountOptions(accountCommand)
    .option('--json', 'print every combination (params and all metrics), best first, as one JSON object')
    .option(
      '--report <file.html>',
      'also write a self-contained HTML report (charts and tables; opens offline)',
    )
    .addOption(
      new Option(
        '--queue <backend>',
        'run the combinations on `rxtrade worker` processes (any machine reaching the same Redis and database) instead of threads here; stored candles only',
      ).choices(['redis']),
    )
    .option('--redis-url <url>', 'with --queue: the Redis of the queue (default: REDIS_URL)')
    .option(
      '--timeout <s>',
      'with --queue: give up when no result has come for this many seconds (default 300; 0: wait as long as it takes)',
    )
    .addHelpText(
      'after',
      `
Every combination runs exactly what \`rxtrade backtest\` runs with those parameters (same metrics).
The candles are read once and shared with the worker threads (no copy per combination).

Examples:
  rxtrade optimize --strategy sma_cross --data BTC_USDT-1m.csv \\
      --grid 'fast_period=5:50:5,slow_period=20:200:20' --constraint 'fast_period < slow_period'
  rxtrade optimize --strategy ema_crossover --data BTC_USDT-1m.csv --grid 'fast_period=5,9,12' \\
      --walk-forward train=14d,test=3d --metric sortino --json`,
    )
    .action(async (options: OptimizeCommandOptions) => {
      await runOptimizeCommand(options, io, env);
    });
}

export interface OptimizeOutcome {
  readonly combinations: number;
  /** Best first (a plain search). */
  readonly rows?: readonly OptimizeRow[];
  readonly walkForward?: WalkForwardResult;
}

export async function runOptimizeCommand(
  options: OptimizeCommandOptions,
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
  sink?: BacktestRunSink,
): Promise<OptimizeOutcome> {
  const note = (text: string): void => {
    io.stderr.write(`rxtrade optimize: ${text}\n`);
  };
  if (options.grid === undefined) {
    throw new UsageError("give --grid, e.g. --grid 'fast_period=5:50:5,slow_period=20:200:20'");
  }
  const metric: OptimizeMetric = options.metric ?? 'sharpe';
  const workers =
    options.workers === undefined ? availableParallelism() : count(options.workers, '--workers', 1, 256);
  const top = options.top === undefined ? 10 : count(options.top, '--top', 1, Number.MAX_SAFE_INTEGER);
  const spec = options.walkForward === undefined ? undefined : parseWalkForward(options.walkForward);

  let settings = resolveBacktestSettings(options);
  const registry = defaultStrategyRegistry();
  const definition = registry.get(settings.strategyName);
  const axes = parseGrid(options.grid);
  const known = parameterNames(definition);
  if (known.length > 0) {
    const unknown = axes.filter((a) => !known.includes(a.name));
    if (unknown.length > 0) {
      throw new UsageError(
        `--grid: ${unknown.map((a) => a.name).join(', ')}: not a parameter of ${settings.strategyName} (its parameters: ${known.join(', ')})`,
      );
    }
  }
  const names = [...new Set([...axes.map((a) => a.name), ...known])];
  const constraints = (options.constraint ?? []).map((c) => parseConstraint(c, names));
  const all = combinations(axes, constraints);
  if (all.length === 0) throw new UsageError('--grid/--constraint: no combination is left to run');

  const queue = await queueSettings(options, spec, env);
  const cores = availableParallelism();
  // The threads a local search starts: one per combination at most (see the pool below).
  if (queue === undefined && Math.min(workers, all.length) > cores) {
    note(
      `--workers ${workers} on ${cores} core${cores === 1 ? '' : 's'}: every thread compiles the code and computes its own indicator series, so threads beyond the cores slow the search down`,
    );
  }
  // N threads: this one and N − 1 workers (runJobs), which load their code while this thread reads the
  // candles.
  const pool =
    queue === undefined && workers > 1 && all.length > 1
      ? WorkerPool.start(Math.min(workers, all.length) - 1)
      : undefined;
  const threads = pool === undefined ? 1 : pool.size + 1;
  let ranOn = `${threads} thread${threads === 1 ? '' : 's'}`;
  try {
    const { asked, fromMs, toMs, exchange } = await parseDataSelection(options);
    if (exchange !== undefined && options.data !== undefined) {
      throw new UsageError('--exchange only applies to stored candles (not to --data files)');
    }
    const {
      loaded,
      where,
      exchange: storedOn,
    } = await loadCandleData(options, { asked, fromMs, toMs, exchange, shared: true }, note, env);
    settings = fitStrategyToData(settings, loaded, where, note);

    // Validate every combination here (a refused one names its parameters), not in a worker.
    const runnable: Combination[] = [];
    let refused: string | undefined;
    for (const combo of all) {
      try {
        registry.create(
          settings.strategyName,
          { ...settings.parameters, ...combo },
          `--grid ${describe(combo)}`,
        );
        runnable.push(combo);
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        refused ??= err.message;
      }
    }
    if (runnable.length === 0) throw new UsageError(`no combination can run: ${refused}`);
    if (runnable.length < all.length) {
      note(
        `${all.length - runnable.length} of ${all.length} combinations skipped: the strategy refuses them (first: ${refused})`,
      );
    }

    const setup: OptimizeSetup = {
      strategyName: settings.strategyName,
      baseParams: settings.parameters,
      risk: settings.risk,
      venue: settings.venue,
      initialCash: settings.initialCash,
      // A CSV is read straight onto shared memory; stored candles are copied there.
      columns: loaded.columns ?? sharedColumns(loaded.candles),
    };
    // What a report shows besides the results (the candles are made from the columns only for it).
    const reportOf = () => ({
      settings,
      candles: loaded.candles,
      where,
      metric,
      axes: axes.map((a) => a.name),
    });
    const started = Date.now();
    let progress: Progress | undefined;
    const tick = (done: number, total: number): void => {
      progress ??= new Progress(io, `optimizing ${settings.strategyName}:`, total, (k) => {
        const elapsed = (Date.now() - started) / 1000;
        const eta = k > 0 ? Math.ceil((elapsed * (total - k)) / k) : undefined;
        const filled = Math.round((20 * k) / total);
        return `[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${k}/${total} runs${eta === undefined ? '' : `, ETA ${eta} s`}`;
      });
      progress.update(done);
    };

    if (spec !== undefined) {
      const wf = await walkForward(setup, runnable, spec, metric, {
        ...(pool !== undefined ? { pool } : {}),
        onDone: tick,
      });
      progress?.done();
      if (options.report !== undefined)
        await writeReport(options.report, { ...reportOf(), walkForward: wf }, note);
      if (options.json) await writeText(io.stdout, `${JSON.stringify(walkForwardJson(wf, metric))}\n`);
      else
        await writeText(
          io.stdout,
          `${walkForwardText(wf, settings.strategyName, where, metric).join('\n')}\n`,
        );
      return { combinations: runnable.length, walkForward: wf };
    }

    const jobs = runnable.map((params, id) => ({ id, params, from: 0, to: setup.columns.length }));
    let runs: OptimizeRun[];
    if (queue !== undefined) {
      const queued = await (
        await import('../../research/queue/coordinator.js')
      ).runQueued({
        ...queue,
        setup,
        jobs,
        candles: {
          exchange: storedOn ?? DEFAULT_EXCHANGE,
          symbol: options.symbol ?? setup.columns.symbol,
          timeframe: setup.columns.timeframe,
          fromMs: fromMs as number,
          toMs: toMs as number,
        },
        interrupted: io.interrupted,
        note,
        onDone: (done) => tick(done, jobs.length),
      });
      runs = queued.runs;
      ranOn = `queue: ${queued.workers} worker${queued.workers === 1 ? '' : 's'}`;
    } else {
      runs = await runJobs(setup, jobs, {
        ...(pool !== undefined ? { pool } : {}),
        onDone: (done) => tick(done, jobs.length),
      });
    }
    progress?.done();
    const ranked = rankRuns(runs, metric);
    const rows: OptimizeRow[] = ranked.map((r) => ({ params: r.params, metrics: r.metrics }));
    // Stored candles: every run goes to backtest_runs in that database (or to the sink given).
    const runSink = sink ?? (storedOn !== undefined ? databaseRunSink(options, env) : undefined);
    if (runSink !== undefined) {
      // Loaded here: node:crypto is ~6 ms of a command's start, and a search on a CSV stores nothing.
      const { randomUUID } = await import('node:crypto');
      const symbol = loaded.candles[0]?.symbol ?? options.symbol ?? 'UNKNOWN';
      await runSink.save(
        ranked.map((r) => ({
          id: randomUUID(),
          strategy: settings.strategyName,
          params: r.params,
          symbol,
          exchange: storedOn ?? DEFAULT_EXCHANGE,
          timeframe: setup.columns.timeframe,
          fromMs: fromMs ?? (loaded.candles[0]?.closeTimeMs ?? 0) - timeframeMs(setup.columns.timeframe),
          toMs: toMs ?? loaded.candles[loaded.candles.length - 1]?.closeTimeMs ?? 0,
          initialBalance: settings.initialCash,
          risk: settings.risk,
          venue: settings.venue,
          candles: r.metrics.candles,
          metrics: metricsJson(r.metrics),
          warnings: r.warnings,
        })),
      );
    }
    const seconds = (Date.now() - started) / 1000;
    if (options.report !== undefined) await writeReport(options.report, { ...reportOf(), rows }, note);
    if (options.json) {
      await writeText(
        io.stdout,
        `${JSON.stringify({
          strategy: settings.strategyName,
          metric,
          combinations: runs.length,
          candles: setup.columns.length,
          results: rows.map((r) => ({ params: r.params, metrics: metricsJson(r.metrics) })),
        })}\n`,
      );
    } else {
      const best = ranked[0] as OptimizeRun;
      const lines = [
        `${settings.strategyName} on ${setup.columns.symbol} ${setup.columns.timeframe} (${where}): ` +
          `${runs.length} combinations × ${setup.columns.length} candles in ${seconds.toFixed(2)} s ` +
          `(${ranOn}), ranked by ${metric}`,
        '',
        ...rowsTable(
          ranked.slice(0, top),
          axes.map((a) => a.name),
        ),
        '',
        `best: ${JSON.stringify(best.params)}`,
        ...metricsTable(best.metrics),
      ];
      if (best.warnings.length > 0) lines.push('', ...best.warnings.map((w) => `warning: ${w}`));
      await writeText(io.stdout, `${lines.join('\n')}\n`);
    }
    return { combinations: runs.length, rows };
  } finally {
    await pool?.close();
  }
}

function count(text: string, flag: string, min: number, max: number): number {
  const v = Number(text.trim());
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new UsageError(
      `${flag} must be a whole number from ${min}${max < 1e9 ? ` to ${max}` : ' up'}, got "${text}"`,
    );
  }
  return v;
}

function describe(combo: Combination): string {
  return Object.entries(combo)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** The candles as columns on SharedArrayBuffers: the workers read them without a copy. */
function sharedColumns(candles: readonly Candle[]): CandleColumns {
  const n = candles.length;
  const column = (): Float64Array =>
    new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8)).subarray(0, n);
  const closeTimeMs = column();
  const open = column();
  const high = column();
  const low = column();
  const close = column();
  const volume = column();
  for (let i = 0; i < n; i++) {
    const c = candles[i] as Candle;
    closeTimeMs[i] = c.closeTimeMs;
    open[i] = c.open;
    high[i] = c.high;
    low[i] = c.low;
    close[i] = c.close;
    volume[i] = c.volume;
  }
  const first = candles[0];
  return {
    symbol: first?.symbol ?? 'UNKNOWN',
    timeframe: first?.timeframe ?? '1m',
    length: n,
    closeTimeMs,
    open,
    high,
    low,
    close,
    volume,
  };
}

const COLUMNS: readonly [keyof Metrics, string, 'pct' | 'num' | 'int'][] = [
  ['totalReturn', 'return', 'pct'],
  ['sharpe', 'sharpe', 'num'],
  ['sortino', 'sortino', 'num'],
  ['calmar', 'calmar', 'num'],
  ['maxDrawdown', 'max dd', 'pct'],
  ['trades', 'trades', 'int'],
  ['winRate', 'win rate', 'pct'],
  ['profitFactor', 'pf', 'num'],
  ['sqn', 'sqn', 'num'],
];

function rowsTable(runs: readonly OptimizeRun[], names: readonly string[]): string[] {
  const header = ['#', ...names, ...COLUMNS.map(([, label]) => label)];
  const body = runs.map((r, i) => [
    String(i + 1),
    ...names.map((n) => String(r.params[n])),
    ...COLUMNS.map(([key, , f]) => cell(r.metrics[key], f)),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => (row[c] as string).length)));
  const line = (cells: readonly string[]): string =>
    cells.map((x, c) => x.padStart(widths[c] as number)).join('  ');
  return [line(header), ...body.map(line)];
}

function cell(v: number, f: 'pct' | 'num' | 'int'): string {
  if (Number.isNaN(v)) return 'n/a';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  return f === 'pct' ? `${(v * 100).toFixed(2)}%` : f === 'num' ? v.toFixed(3) : String(v);
}

function walkForwardJson(wf: WalkForwardResult, metric: OptimizeMetric): object {
  const curve: [number, number][] = [];
  for (let i = 0; i < wf.equity.length; i++)
    curve.push([wf.equityTimesMs[i] as number, wf.equity[i] as number]);
  return {
    metric,
    folds: wf.folds.map((f) => ({
      train: {
        from_ms: f.fold.trainStartMs,
        to_ms: f.fold.testStartMs,
        candles: f.fold.trainTo - f.fold.trainFrom,
      },
      test: {
        from_ms: f.fold.testStartMs,
        to_ms: f.fold.testEndMs,
        candles: f.fold.testTo - f.fold.testFrom,
      },
      params: f.params,
      in_sample: metricsJson(f.inSample),
      out_of_sample: metricsJson(f.outOfSample),
    })),
    out_of_sample: { metrics: metricsJson(wf.metrics) as MetricsJson, equity_curve: curve },
  };
}

function walkForwardText(
  wf: WalkForwardResult,
  strategy: string,
  where: string,
  metric: OptimizeMetric,
): string[] {
  const key = METRIC_KEYS[metric];
  const names = [...new Set(wf.folds.flatMap((f) => Object.keys(f.params)))].filter(
    (n) => new Set(wf.folds.map((f) => String(f.params[n]))).size > 1 || n !== 'timeframe',
  );
  const header = [
    'fold',
    'train',
    'test',
    'params',
    `IS ${metric}`,
    `OOS ${metric}`,
    'OOS return',
    'OOS trades',
  ];
  const body = wf.folds.map((f, i) => [
    String(i + 1),
    `${isoMinute(f.fold.trainStartMs)} … ${isoMinute(f.fold.testStartMs)}`,
    `${isoMinute(f.fold.testStartMs)} … ${isoMinute(f.fold.testEndMs)}`,
    names.map((n) => `${n}=${String(f.params[n])}`).join(' '),
    cell(f.inSample[key], metric === 'return' ? 'pct' : 'num'),
    cell(f.outOfSample[key], metric === 'return' ? 'pct' : 'num'),
    cell(f.outOfSample.totalReturn, 'pct'),
    String(f.outOfSample.trades),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => (row[c] as string).length)));
  const line = (cells: readonly string[]): string =>
    cells.map((x, c) => x.padEnd(widths[c] as number)).join('  ');
  return [
    `walk-forward ${strategy} (${where}): ${wf.folds.length} folds, ${wf.runs} runs, chosen by ${metric}`,
    '',
    line(header),
    ...body.map(line),
    '',
    'stitched out-of-sample:',
    ...metricsTable(wf.metrics),
  ];
}

/** --report: the report code is loaded only when one is asked for. */
async function writeReport(
  path: string,
  input: OptimizeReportInput,
  note: (text: string) => void,
): Promise<void> {
  await (
    await (await import('../../../backtests/index.js')).loadReportWriters()
  ).writeOptimizeReport(path, input);
  note(`report written to ${path}`);
}
