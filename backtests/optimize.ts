import type { Candle } from '../src/domain/candle.js';
import type { Indicator, IndicatorFactory } from '../src/domain/indicators/indicator.js';
import type { Strategy } from '../src/strategies/strategy.js';
import type { Metrics } from '../src/domain/metrics.js';
import type { RiskConfig, VenueModel } from '../src/domain/trading/config.js';
import type { RoundTrip } from '../src/domain/trading/types.js';
import { candlesOfColumns, type CandleColumns } from '../src/streams/candleColumns.js';
import { defaultStrategyRegistry, type StrategyRegistry } from '../src/strategies/registry.js';
import type { Combination } from './grid.js';
import { replaying, seriesOf, type Series } from './indicatorReplay.js';
import {
  prepareBacktest,
  prepareColumns,
  runPreparedBacktest,
  type BacktestResult,
  type PreparedBacktest,
} from './runBacktest.js';
import type { WorkerPool } from './workerPool.js';

/** What `--metric` ranks by, and the Metrics key behind each. */
export const OPTIMIZE_METRICS = ['sharpe', 'sortino', 'calmar', 'return', 'profit_factor', 'sqn'] as const;
export type OptimizeMetric = (typeof OPTIMIZE_METRICS)[number];
export const METRIC_KEYS: Readonly<Record<OptimizeMetric, keyof Metrics>> = {
  sharpe: 'sharpe',
  sortino: 'sortino',
  calmar: 'calmar',
  return: 'totalReturn',
  profit_factor: 'profitFactor',
  sqn: 'sqn',
};

/**
 * What every run of a search shares. Structured-cloneable: it is sent to each worker once, and candle
 * columns on SharedArrayBuffers (readCandleCsvColumns `shared`) reach the workers without a copy.
 */
export interface OptimizeSetup {
  readonly strategyName: string;
  /** Parameters every combination starts from (the grid's override them). */
  readonly baseParams: Readonly<Record<string, unknown>>;
  readonly risk: RiskConfig;
  readonly venue: VenueModel;
  readonly initialCash: number;
  readonly columns: CandleColumns;
}

/** One backtest of a search: the combination's parameters on the candles `from` … `to` − 1. */
export interface OptimizeJob {
  readonly id: number;
  readonly params: Combination;
  readonly from: number;
  readonly to: number;
}

export interface OptimizeRun {
  readonly id: number;
  /** Every parameter of the strategy as it ran (defaults included). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly metrics: Metrics;
  readonly warnings: readonly string[];
}

/**
 * Runs jobs on one setup, in one thread. The candles are built from the columns once, and the candle
 * stream a backtest runs on (replayed, resampled: prepareBacktest) once per range and timeframe set, so
 * every combination after the first of its kind costs only the strategy, the engine and the metrics.
 */
export class JobRunner {
  private candles: Candle[] | undefined;
  private readonly prepared = new Map<string, PreparedBacktest>();
  /** Indicator values over a prepared stream's decision candles, by stream and indicator key. */
  private readonly series = new Map<string, Series>();

  constructor(
    private readonly setup: OptimizeSetup,
    private readonly registry: StrategyRegistry = defaultStrategyRegistry(),
  ) {}

  run(job: OptimizeJob): OptimizeRun {
    const r = this.backtest(job, { curve: false, trades: false });
    return { id: job.id, params: r.params, metrics: r.result.metrics, warnings: r.result.warnings };
  }

  /** The strategy's main-timeframe indicators' series over a prepared stream, computed once per stream. */
  private cachedSeries(
    strategy: Strategy,
    prepared: PreparedBacktest,
    streamKey: string,
  ): { series: Record<string, Series>; replays: Record<string, Indicator<unknown>> } {
    const spec = strategy.indicators;
    const series: Record<string, Series> = {};
    const replays: Record<string, Indicator<unknown>> = {};
    for (const name of Object.keys(spec)) {
      const probe = (spec[name] as IndicatorFactory)();
      const key = `${streamKey}|${probe.key}`;
      let values = this.series.get(key);
      if (values === undefined) {
        values = seriesOf(probe, prepared, strategy.timeframe);
        this.series.set(key, values);
      }
      series[name] = values;
      replays[name] = replaying(probe.key, probe.lookback, values);
    }
    return { series, replays };
  }

  /** The whole backtest of a job (walk-forward's out-of-sample runs want more than the metrics). */
  backtest(
    job: OptimizeJob,
    more: {
      readonly initialCash?: number;
      readonly series?: boolean;
      /** false: metrics only, no equity curve (see BacktestOptions.curve). */
      readonly curve?: boolean;
      /** false: no list of trades (see BacktestOptions.trades). */
      readonly trades?: boolean;
      readonly onRoundTrip?: (t: RoundTrip) => void;
    } = {},
  ): { params: Readonly<Record<string, unknown>>; result: BacktestResult } {
    const s = this.setup;
    const strategy = this.registry.create(s.strategyName, { ...s.baseParams, ...job.params }, '--grid');
    const tfs = [strategy.timeframe, ...Object.keys(strategy.higherTimeframes ?? {})].join(',');
    const key = `${job.from}:${job.to}:${tfs}`;
    let prepared = this.prepared.get(key);
    if (prepared === undefined) {
      // On the columns themselves when the strategy decides on their timeframe alone (no candle objects
      // kept between runs), else a stream built from candles made once.
      prepared = prepareColumns({ columns: s.columns, from: job.from, to: job.to }, strategy);
      if (prepared === undefined) {
        this.candles ??= candlesOfColumns(s.columns);
        const candles =
          job.from === 0 && job.to === this.candles.length
            ? this.candles
            : this.candles.slice(job.from, job.to);
        prepared = prepareBacktest({ candles }, strategy);
      }
      this.prepared.set(key, prepared);
    }
    const { series, replays } = this.cachedSeries(strategy, prepared, key);
    const result = runPreparedBacktest(prepared, {
      strategy,
      indicators: replays,
      indicatorSeries: series,
      risk: s.risk,
      venue: s.venue,
      initialCash: more.initialCash ?? s.initialCash,
      ...(more.series ? { series: true } : {}),
      ...(more.curve === false ? { curve: false } : {}),
      ...(more.trades === false ? { trades: false } : {}),
      ...(more.onRoundTrip !== undefined ? { onRoundTrip: more.onRoundTrip } : {}),
    });
    return { params: strategy.params, result };
  }
}

/**
 * Runs jobs in this thread (yielding between runs so progress and Ctrl-C are seen) and on the pool's
 * workers, when there is one. Results in job order, the same whichever thread ran each.
 *
 * This thread takes a share of the jobs too: it is running already, its code is compiled, and the first
 * search of a worker is mostly V8 compiling (measured on the grid, 2 cores: 1.0–1.1 s for a first
 * search, 0.3 s warm). One worker beside this thread is as fast as one thread alone for a small grid, and
 * faster for a large one; two workers and an idle thread were slower than one thread alone.
 */
export async function runJobs(
  setup: OptimizeSetup,
  jobs: readonly OptimizeJob[],
  options: { readonly pool?: WorkerPool; readonly onDone?: (done: number) => void } = {},
): Promise<OptimizeRun[]> {
  if (options.pool !== undefined && options.pool.size > 0)
    return options.pool.run(setup, jobs, options.onDone, new JobRunner(setup));
  const runner = new JobRunner(setup);
  const out: OptimizeRun[] = [];
  for (const job of jobs) {
    out.push(runner.run(job));
    options.onDone?.(out.length);
    await new Promise((r) => setImmediate(r));
  }
  return out;
}

/**
 * Runs sorted best first by `metric` (higher is better); undefined values (NaN) last; ties keep grid order.
 */
export function rankRuns<R extends { readonly metrics: Metrics }>(
  runs: readonly R[],
  metric: OptimizeMetric,
): R[] {
  const key = METRIC_KEYS[metric];
  const score = (r: R): number => {
    const v = r.metrics[key];
    return Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
  };
  return runs
    .map((r, i) => ({ r, i, s: score(r) }))
    .sort((a, b) => (b.s === a.s ? a.i - b.i : b.s > a.s ? 1 : -1))
    .map((x) => x.r);
}
