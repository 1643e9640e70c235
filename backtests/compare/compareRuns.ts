import { YEAR_MS } from '../../src/domain/metrics.js';
import { timeframeMs } from '../../src/domain/timeframe.js';
import { deriveSeed } from '../../src/sim/prng.js';
import type { BacktestSettings } from '../config.js';
import {
  prepareBacktest,
  runPreparedBacktest,
  type BacktestData,
  type BacktestResult,
  type PreparedBacktest,
} from '../runBacktest.js';
import { pairedBootstrap, type PairedBootstrapResult } from './bootstrap.js';
import { periodReturns } from './stats.js';
import { tradeOrderMonteCarlo, type DrawdownDistribution } from './tradeOrderMonteCarlo.js';

export interface CompareRunInput {
  readonly label: string;
  readonly settings: BacktestSettings;
}

export interface CompareOptions {
  /** Bootstrap resamples and trade-order shuffles (default 2,000 each). */
  readonly samples?: number;
  /** Mean block length of the stationary bootstrap, in periods (default ⌈n^(1/3)⌉). */
  readonly blockLength?: number;
  /** Seed of every random draw (default 1): the same seed gives the same output. */
  readonly seed?: number;
  /** Keep each run's price series (for a report). */
  readonly series?: boolean;
}

export interface ComparedRun {
  readonly label: string;
  readonly settings: BacktestSettings;
  readonly result: BacktestResult;
  /** Max drawdown over shuffled trade orders. */
  readonly drawdowns: DrawdownDistribution;
}

/** One run against the first: the paired bootstrap of their Sharpe and return differences (run − first). */
export interface Significance {
  readonly label: string;
  readonly vs: string;
  readonly bootstrap: PairedBootstrapResult;
}

export interface CompareResult {
  readonly runs: readonly ComparedRun[];
  /** One per run after the first. */
  readonly significance: readonly Significance[];
  readonly seed: number;
  readonly samples: number;
}

export const DEFAULT_SEED = 1;

/**
 * Backtests every run on the same data (the candle stream prepared once per set of timeframes), then tests
 * each run after the first against it: a paired stationary bootstrap of the per-period returns (see
 * pairedBootstrap) and, per run, a Monte Carlo of its trade order (see tradeOrderMonteCarlo).
 *
 * Runs deciding on different timeframes are compared over the close times their equity curves share (a 5m
 * run's against a 1m run's every fifth point), with per-period returns from the initial cash.
 */
export function compareRuns(
  data: BacktestData,
  runs: readonly CompareRunInput[],
  options: CompareOptions = {},
): CompareResult {
  const seed = options.seed ?? DEFAULT_SEED;
  const samples = options.samples ?? 2000;
  const prepared = new Map<string, PreparedBacktest>();
  const compared: ComparedRun[] = runs.map((run, i) => {
    const strategy = run.settings.strategy;
    const key = [strategy.timeframe, ...Object.keys(strategy.higherTimeframes ?? {}).sort()].join(',');
    let p = prepared.get(key);
    if (p === undefined) {
      p = prepareBacktest(data, strategy);
      prepared.set(key, p);
    }
    const result = runPreparedBacktest(p, {
      strategy,
      risk: run.settings.risk,
      venue: run.settings.venue,
      initialCash: run.settings.initialCash,
      series: options.series ?? false,
    });
    const drawdowns = tradeOrderMonteCarlo(
      result.trades.map((t) => t.pnl),
      run.settings.initialCash,
      { seed: deriveSeed(seed, `trades#${i}`), samples },
    );
    return { label: run.label, settings: run.settings, result, drawdowns };
  });

  const first = compared[0];
  const significance: Significance[] = [];
  if (first !== undefined) {
    for (const run of compared.slice(1)) {
      const [a, b] = alignedReturns(first, run);
      const periodMs = Math.max(timeframeMs(first.result.timeframe), timeframeMs(run.result.timeframe));
      significance.push({
        label: run.label,
        vs: first.label,
        bootstrap: pairedBootstrap(a, b, {
          seed: deriveSeed(seed, 'bootstrap'),
          samples,
          periodsPerYear: YEAR_MS / periodMs,
          ...(options.blockLength !== undefined ? { blockLength: options.blockLength } : {}),
        }),
      });
    }
  }
  return { runs: compared, significance, seed, samples };
}

/** Both runs' per-period returns over the close times both equity curves have. */
export function alignedReturns(a: ComparedRun, b: ComparedRun): [Float64Array, Float64Array] {
  const ta = a.result.equityTimesMs;
  const tb = b.result.equityTimesMs;
  const ea: number[] = [];
  const eb: number[] = [];
  let i = 0;
  let j = 0;
  while (i < ta.length && j < tb.length) {
    const x = ta[i] as number;
    const y = tb[j] as number;
    if (x === y) {
      ea.push(a.result.equity[i] as number);
      eb.push(b.result.equity[j] as number);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return [periodReturns(a.settings.initialCash, ea), periodReturns(b.settings.initialCash, eb)];
}
