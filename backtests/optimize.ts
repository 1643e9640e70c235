import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../src/cli/packageRoot.js';
import type { Candle } from '../src/domain/candle.js';
import type { Indicator, IndicatorFactory } from '../src/domain/indicators/indicator.js';
import type { Strategy } from '../src/strategies/strategy.js';
import {
  ERROR_CODES,
  InvalidDataError,
  RxtradeError,
  UsageError,
  type ErrorCode,
} from '../src/domain/errors.js';
import type { Metrics } from '../src/domain/metrics.js';
import type { RiskConfig, VenueModel } from '../src/domain/trading/config.js';
import type { RoundTrip } from '../src/domain/trading/types.js';
import { candlesOfColumns, type CandleColumns } from '../src/streams/candleColumns.js';
import { defaultStrategyRegistry, type StrategyRegistry } from '../src/strategies/registry.js';
import type { Combination } from './grid.js';
import { streamCandle, streamLength } from './prepareBacktest.js';
import {
  prepareBacktest,
  prepareColumns,
  runPreparedBacktest,
  type BacktestResult,
  type PreparedBacktest,
} from './runBacktest.js';

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
    const r = this.backtest(job, { curve: false });
    return { id: job.id, params: r.params, metrics: r.result.metrics, warnings: r.result.warnings };
  }

  /** The strategy's main-timeframe indicators as replays of series computed once per stream. */
  private cachedIndicators(
    strategy: Strategy,
    prepared: PreparedBacktest,
    streamKey: string,
  ): Record<string, Indicator<unknown>> {
    const spec = strategy.indicators;
    const cached: Record<string, Indicator<unknown>> = {};
    for (const name of Object.keys(spec)) {
      const probe = (spec[name] as IndicatorFactory)();
      const key = `${streamKey}|${probe.key}`;
      let values = this.series.get(key);
      if (values === undefined) {
        values = seriesOf(probe, prepared, strategy.timeframe);
        this.series.set(key, values);
      }
      cached[name] = replaying(probe.key, probe.lookback, values);
    }
    return cached;
  }

  /** The whole backtest of a job (walk-forward's out-of-sample runs want more than the metrics). */
  backtest(
    job: OptimizeJob,
    more: {
      readonly initialCash?: number;
      readonly series?: boolean;
      /** false: metrics only, no equity curve (see BacktestOptions.curve). */
      readonly curve?: boolean;
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
    const result = runPreparedBacktest(prepared, {
      strategy,
      indicators: this.cachedIndicators(strategy, prepared, key),
      risk: s.risk,
      venue: s.venue,
      initialCash: more.initialCash ?? s.initialCash,
      ...(more.series ? { series: true } : {}),
      ...(more.curve === false ? { curve: false } : {}),
      ...(more.onRoundTrip !== undefined ? { onRoundTrip: more.onRoundTrip } : {}),
    });
    return { params: strategy.params, result };
  }
}

/**
 * An indicator's values over a stream's decision candles. The usual shape — undefined while it warms up,
 * numbers after — is kept as a Float64Array and the index of the first number (a long-lived array of
 * boxed numbers per series cost a search a seventh of its time in garbage collection); any other shape
 * as the values came.
 */
type Series =
  | { readonly numbers: Float64Array; readonly from: number }
  | { readonly numbers?: undefined; readonly values: readonly unknown[] };

function seriesOf(probe: Indicator<unknown>, prepared: PreparedBacktest, timeframe: string): Series {
  const count = streamLength(prepared);
  const numbers = new Float64Array(prepared.decisions);
  let from = -1;
  let values: unknown[] | undefined;
  let k = 0;
  for (let j = 0; j < count; j++) {
    const c = streamCandle(prepared, j);
    if (c.timeframe !== timeframe) continue;
    const v = probe.update(c);
    if (values !== undefined) values.push(v);
    else if (typeof v === 'number' && k < numbers.length) {
      if (from < 0) from = k;
      numbers[k] = v;
    } else if (v !== undefined || from >= 0 || k >= numbers.length) {
      // Not the usual shape: every value as it came.
      values = [];
      for (let i = 0; i < k; i++) values.push(from >= 0 && i >= from ? numbers[i] : undefined);
      values.push(v);
    }
    k++;
  }
  if (values !== undefined) return { values };
  return { numbers, from: from < 0 ? k : from };
}

/**
 * A strategy's main-timeframe indicator replaying values computed once per stream: the indicator `key`
 * names the indicator and its parameters (`sma_20`), and StrategyRunner feeds a strategy's indicators every
 * candle of its timeframe in order, so the n-th update of a replay is the n-th value.
 */
function replaying(key: string, lookback: number, series: Series): Indicator<unknown> {
  return series.numbers === undefined
    ? new ValuesReplay(key, lookback, series.values)
    : new NumbersReplay(key, lookback, series.numbers, series.from);
}

/**
 * The usual shape's replay. A class (one hidden class, one `update` for every replay) rather than a closure
 * per replay: the call site in the runner stays monomorphic and V8 inlines it.
 */
class NumbersReplay implements Indicator<unknown> {
  private i = 0;
  constructor(
    readonly key: string,
    readonly lookback: number,
    private readonly numbers: Float64Array,
    private readonly from: number,
  ) {}

  update(): number | undefined {
    const k = this.i++;
    return k >= this.from ? this.numbers[k] : undefined;
  }

  reset(): void {
    this.i = 0;
  }
}

/** Any other shape's replay: the values as they came. */
class ValuesReplay implements Indicator<unknown> {
  private i = 0;
  constructor(
    readonly key: string,
    readonly lookback: number,
    private readonly values: readonly unknown[],
  ) {}

  update(): unknown {
    return this.values[this.i++];
  }

  reset(): void {
    this.i = 0;
  }
}

/**
 * The worker script: the bundled one (dist/bundle/optimizeWorker.js: a few files to load, so a worker is
 * ready sooner), else the compiled module beside this one, else dist/'s (this module runs from sources).
 */
function workerScript(): string {
  const bundled = join(packageRoot(), 'dist', 'bundle', 'optimizeWorker.js');
  if (existsSync(bundled)) return bundled;
  const here = fileURLToPath(new URL('./optimizeWorker.js', import.meta.url));
  if (existsSync(here)) return here;
  return join(packageRoot(), 'dist', 'backtests', 'optimizeWorker.js');
}

/** Messages between the pool and its workers. */
export type ToWorker =
  | { readonly type: 'setup'; readonly setup: OptimizeSetup }
  | { readonly type: 'job'; readonly job: OptimizeJob };
export type FromWorker =
  | { readonly type: 'result'; readonly run: OptimizeRun }
  | {
      readonly type: 'error';
      readonly id: number;
      readonly code: string | undefined;
      readonly message: string;
      readonly stack: string;
    };

/**
 * Backtests on worker threads. Start it early (`WorkerPool.start`): the workers load their code while the
 * main thread reads the candles; `run` then sends the setup once and hands out jobs one at a time to
 * whichever worker is free. A run's result depends on its job only, never on the worker or the order.
 */
export class WorkerPool {
  private constructor(private readonly workers: Worker[]) {}

  static start(size: number): WorkerPool {
    const script = workerScript();
    youngGenerationForRuns();
    return new WorkerPool(Array.from({ length: size }, () => new Worker(script)));
  }

  get size(): number {
    return this.workers.length;
  }

  /** Runs every job; results in job order. Rejects with the first failure (RxtradeErrors keep their code). */
  run(
    setup: OptimizeSetup,
    jobs: readonly OptimizeJob[],
    onDone?: (done: number) => void,
  ): Promise<OptimizeRun[]> {
    return new Promise((resolve, reject) => {
      const results = new Array<OptimizeRun>(jobs.length);
      const slot = new Map<number, number>(jobs.map((j, i) => [j.id, i]));
      // Each worker starts on its own contiguous share of the jobs (neighbours in a grid share parameters,
      // so a worker computes fewer distinct indicator series), then takes the back of the largest share left.
      const shares = contiguousShares(jobs.length, this.workers.length);
      let done = 0;
      let failed = false;
      const cleanups: (() => void)[] = [];
      const finish = (err?: unknown): void => {
        for (const c of cleanups) c();
        if (err !== undefined) reject(err);
        else resolve(results);
      };
      const give = (w: Worker, own: Share): void => {
        let share = own;
        if (share.next === share.end) {
          for (const s of shares) if (s.end - s.next > share.end - share.next) share = s;
          if (share.next === share.end) return;
          share.end--;
          w.postMessage({ type: 'job', job: jobs[share.end] as OptimizeJob } satisfies ToWorker);
          return;
        }
        w.postMessage({ type: 'job', job: jobs[share.next++] as OptimizeJob } satisfies ToWorker);
      };
      if (jobs.length === 0) {
        finish();
        return;
      }
      for (const [k, w] of this.workers.entries()) {
        const own = shares[k] as Share;
        const onMessage = (m: FromWorker): void => {
          if (failed) return;
          if (m.type === 'error') {
            failed = true;
            finish(rebuildError(m));
            return;
          }
          results[slot.get(m.run.id) as number] = m.run;
          done++;
          onDone?.(done);
          if (done === jobs.length) finish();
          else give(w, own);
        };
        const onError = (err: Error): void => {
          if (failed) return;
          failed = true;
          finish(err);
        };
        w.on('message', onMessage);
        w.on('error', onError);
        cleanups.push(() => {
          w.off('message', onMessage);
          w.off('error', onError);
        });
        w.postMessage({ type: 'setup', setup } satisfies ToWorker);
        give(w, own);
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Semi-spaces (V8's young generation) of their full 16 MB from the start in the worker threads created
 * after this call. A run makes ~9 MB of candles and signals it drops at once (see prepareColumns); young
 * spaces starting at 1 MB collect them in ~320 scavenges per search, 16 MB ones in ~150 (measured with
 * callgrind on the issue's grid: 12 % fewer instructions for the whole process). V8 reads the flag when it
 * creates a heap: it changes nothing in heaps that exist, and it is a no-op once set.
 */
function youngGenerationForRuns(): void {
  setFlagsFromString(`--min-semi-space-size=${SEMI_SPACE_MB}`);
}
const SEMI_SPACE_MB = 16;

/** Jobs `next` … `end` − 1 waiting in one worker's share. */
interface Share {
  next: number;
  end: number;
}

/** `n` jobs cut into `k` contiguous shares as even as can be. */
function contiguousShares(n: number, k: number): Share[] {
  return Array.from({ length: k }, (_, i) => ({
    next: Math.floor((i * n) / k),
    end: Math.floor(((i + 1) * n) / k),
  }));
}

function rebuildError(m: Extract<FromWorker, { type: 'error' }>): Error {
  if (m.code === 'usage') return new UsageError(m.message);
  if (m.code === 'invalid_data') return new InvalidDataError(m.message);
  if (m.code !== undefined && Object.hasOwn(ERROR_CODES, m.code))
    return new RxtradeError(m.code as ErrorCode, m.message);
  const err = new Error(m.message);
  err.stack = m.stack;
  return err;
}

/**
 * Runs jobs with `workers` threads (1: in this thread, yielding between runs so progress and Ctrl-C are
 * seen). Results in job order, the same whatever `workers` is.
 */
export async function runJobs(
  setup: OptimizeSetup,
  jobs: readonly OptimizeJob[],
  options: { readonly pool?: WorkerPool; readonly onDone?: (done: number) => void } = {},
): Promise<OptimizeRun[]> {
  if (options.pool !== undefined && options.pool.size > 0)
    return options.pool.run(setup, jobs, options.onDone);
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
