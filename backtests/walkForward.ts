import { UsageError } from '../src/domain/errors.js';
import { computeMetrics, type Metrics } from '../src/domain/metrics.js';
import { timeframeMs } from '../src/domain/timeframe.js';
import type { RoundTrip } from '../src/domain/trading/types.js';
import type { Combination } from './grid.js';
import {
  JobRunner,
  rankRuns,
  runJobs,
  type OptimizeJob,
  type OptimizeMetric,
  type OptimizeRun,
  type OptimizeSetup,
} from './optimize.js';
import type { WorkerPool } from './workerPool.js';

/** `--walk-forward train=30d,test=7d[,step=7d]` (units m, h, d, w; step defaults to test). */
export interface WalkForwardSpec {
  readonly trainMs: number;
  readonly testMs: number;
  readonly stepMs: number;
}

const UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseWalkForward(text: string, flag = '--walk-forward'): WalkForwardSpec {
  const parts = new Map<string, number>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const m = /^(train|test|step)\s*=\s*(\d+(?:\.\d+)?)\s*([mhdw])$/i.exec(part);
    if (m === null) {
      throw new UsageError(
        `${flag} "${text}": "${part}" is not train=N, test=N or step=N with a unit m, h, d or w (train=30d,test=7d)`,
      );
    }
    const key = (m[1] as string).toLowerCase();
    if (parts.has(key)) throw new UsageError(`${flag} "${text}": ${key} is given twice`);
    const ms = Number(m[2]) * (UNIT_MS[(m[3] as string).toLowerCase()] as number);
    if (!(ms > 0)) throw new UsageError(`${flag} "${text}": ${key} must be longer than 0`);
    parts.set(key, ms);
  }
  const trainMs = parts.get('train');
  const testMs = parts.get('test');
  if (trainMs === undefined || testMs === undefined) {
    throw new UsageError(`${flag} "${text}": give both train= and test= (train=30d,test=7d[,step=7d])`);
  }
  return { trainMs, testMs, stepMs: parts.get('step') ?? testMs };
}

/** One fold: candle index ranges [from, to) of its training and test windows, and their times. */
export interface Fold {
  readonly trainFrom: number;
  readonly trainTo: number;
  readonly testFrom: number;
  readonly testTo: number;
  readonly trainStartMs: number;
  readonly testStartMs: number;
  readonly testEndMs: number;
}

/**
 * Folds over candles (close times `closeTimeMs`, of `timeframe` length `intervalMs`): the first training
 * window opens with the first candle; each fold trains on the candles lying wholly in
 * [start, start + train) and tests on those wholly in [start + train, start + train + test); the next fold
 * starts `step` later. Only folds whose test window ends by the last candle's close are made. A candle is
 * in the test window only if it opens at or after the training window's end: no candle is in both.
 */
export function makeFolds(closeTimeMs: Float64Array, intervalMs: number, spec: WalkForwardSpec): Fold[] {
  const n = closeTimeMs.length;
  if (n === 0) return [];
  const first = (closeTimeMs[0] as number) - intervalMs;
  const last = closeTimeMs[n - 1] as number;
  // Index of the first candle opening at or after t (close ≥ t + interval).
  const firstOpeningAt = (t: number): number => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((closeTimeMs[mid] as number) - intervalMs >= t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  // Index after the last candle closing at or before t.
  const afterClosingBy = (t: number): number => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((closeTimeMs[mid] as number) <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const folds: Fold[] = [];
  for (let start = first; start + spec.trainMs + spec.testMs <= last; start += spec.stepMs) {
    const trainEnd = start + spec.trainMs;
    const testEnd = trainEnd + spec.testMs;
    const fold: Fold = {
      trainFrom: firstOpeningAt(start),
      trainTo: afterClosingBy(trainEnd),
      testFrom: firstOpeningAt(trainEnd),
      testTo: afterClosingBy(testEnd),
      trainStartMs: start,
      testStartMs: trainEnd,
      testEndMs: testEnd,
    };
    if (fold.trainTo > fold.trainFrom && fold.testTo > fold.testFrom) folds.push(fold);
  }
  return folds;
}

export interface FoldResult {
  readonly fold: Fold;
  /** Parameters chosen on the training window (the best by the metric). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly inSample: Metrics;
  readonly outOfSample: Metrics;
}

export interface WalkForwardResult {
  readonly folds: readonly FoldResult[];
  /** The test windows' equity, one run after the other (each starting with the equity the last ended with). */
  readonly equityTimesMs: Float64Array;
  readonly equity: Float64Array;
  /** Metrics of the stitched out-of-sample curve and its trades. */
  readonly metrics: Metrics;
  readonly runs: number;
}

/**
 * Walk-forward analysis: for every fold, each combination is backtested on the training window (on the
 * pool's workers when given), the best by `metric` is chosen, and it is run on the test window alone (its
 * indicators warm up inside that window: nothing of the training window carries over). The test runs are
 * chained: each starts with the equity the previous one ended with, so their curves stitch into one
 * out-of-sample curve, whose metrics are computed like a backtest's.
 */
export async function walkForward(
  setup: OptimizeSetup,
  combos: readonly Combination[],
  spec: WalkForwardSpec,
  metric: OptimizeMetric,
  options: { readonly pool?: WorkerPool; readonly onDone?: (done: number, total: number) => void } = {},
): Promise<WalkForwardResult> {
  const cols = setup.columns;
  const intervalMs = timeframeMs(cols.timeframe);
  const folds = makeFolds(cols.closeTimeMs, intervalMs, spec);
  if (folds.length === 0) {
    throw new UsageError(
      `--walk-forward: the data (${cols.length} ${cols.timeframe} candles) is shorter than one training window plus one test window`,
    );
  }
  const jobs: OptimizeJob[] = [];
  folds.forEach((f, k) =>
    combos.forEach((params, c) =>
      jobs.push({ id: k * combos.length + c, params, from: f.trainFrom, to: f.trainTo }),
    ),
  );
  const total = jobs.length + folds.length;
  const trained = await runJobs(setup, jobs, {
    ...(options.pool !== undefined ? { pool: options.pool } : {}),
    onDone: (done) => options.onDone?.(done, total),
  });

  const runner = new JobRunner(setup);
  const results: FoldResult[] = [];
  const times: number[] = [];
  const equity: number[] = [];
  const prices: number[] = [];
  const inMarket: boolean[] = [];
  const trips: RoundTrip[] = [];
  let fees = 0;
  let cash = setup.initialCash;
  for (let k = 0; k < folds.length; k++) {
    const fold = folds[k] as Fold;
    const runs: OptimizeRun[] = trained.slice(k * combos.length, (k + 1) * combos.length);
    const best = rankRuns(runs, metric)[0] as OptimizeRun;
    const combo = combos[best.id - k * combos.length] as Combination;
    const { result } = runner.backtest(
      { id: -1, params: combo, from: fold.testFrom, to: fold.testTo },
      { initialCash: cash, series: true, onRoundTrip: (t) => trips.push(t) },
    );
    const series = result.series as { prices: Float64Array; inMarket: Uint8Array };
    for (let i = 0; i < result.equity.length; i++) {
      times.push(result.equityTimesMs[i] as number);
      equity.push(result.equity[i] as number);
      prices.push(series.prices[i] as number);
      inMarket.push(series.inMarket[i] === 1);
    }
    fees += result.metrics.feesPaid;
    if (result.equity.length > 0) cash = result.equity[result.equity.length - 1] as number;
    results.push({ fold, params: best.params, inSample: best.metrics, outOfSample: result.metrics });
    options.onDone?.(jobs.length + k + 1, total);
  }
  const metrics = computeMetrics({
    initialEquity: setup.initialCash,
    periodMs: intervalMsOfStrategy(results, intervalMs),
    timesMs: times,
    equity,
    prices,
    inMarket,
    trades: trips,
    feesPaid: fees,
  });
  return {
    folds: results,
    equityTimesMs: Float64Array.from(times),
    equity: Float64Array.from(equity),
    metrics,
    runs: total,
  };
}

/** The candle length the equity points are spaced by: the strategy's timeframe (every fold's is the same). */
function intervalMsOfStrategy(results: readonly FoldResult[], fallback: number): number {
  const tf = results[0]?.params.timeframe;
  return typeof tf === 'string' ? timeframeMs(tf as Parameters<typeof timeframeMs>[0]) : fallback;
}
