import { parentPort, workerData } from 'node:worker_threads';
import { metricsJson, runBacktest } from '../../../backtests/index.js';
import { RxtradeError } from '../../domain/errors.js';
import { timeframeMs, type Timeframe } from '../../domain/timeframe.js';
import type { RiskConfig, VenueModel } from '../../domain/trading/config.js';
import type { BacktestRunFill, BacktestRunOutcome } from '../../storage/backtestRuns.js';
import { candlesOfColumns } from '../../storage/candleColumns.js';
import { defaultStrategyRegistry } from '../../strategies/registry.js';

/** What the service hands the worker: settings already validated, candles as columns. */
export interface BacktestWorkerInput {
  readonly strategy: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly risk: RiskConfig;
  readonly venue: VenueModel;
  readonly initialCash: number;
  readonly closeTimeMs: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  readonly tradesCount: Uint32Array;
}

export type BacktestWorkerMessage =
  | { readonly type: 'progress'; readonly done: number; readonly total: number }
  | { readonly type: 'result'; readonly outcome: BacktestRunOutcome }
  | { readonly type: 'error'; readonly message: string };

/**
 * Runs one backtest off the event loop (a worker_thread started by WorkerBacktestService): builds the
 * strategy from the built-in registry, replays the candles through `runBacktest` and posts progress about
 * 50 times, then the outcome.
 */
function main(input: BacktestWorkerInput): void {
  const post = (m: BacktestWorkerMessage): void => parentPort?.postMessage(m);
  try {
    const strategy = defaultStrategyRegistry().create(input.strategy, input.parameters, 'parameters');
    const candles = candlesOfColumns(input, input.symbol, input.timeframe);
    const total = Math.max(
      1,
      Math.floor(
        (candles.length * timeframeMs(input.timeframe)) / timeframeMs(strategy.timeframe as Timeframe),
      ),
    );
    const fills: BacktestRunFill[] = [];
    const result = runBacktest(
      { candles },
      {
        strategy,
        risk: input.risk,
        venue: input.venue,
        initialCash: input.initialCash,
        onFill: (f) => fills.push({ tMs: f.timeMs, side: f.side, price: f.price, qty: f.qty }),
        onProgress: (done) => post({ type: 'progress', done: Math.min(done, total), total }),
        progressEvery: Math.max(1, Math.ceil(total / 50)),
      },
    );
    post({ type: 'progress', done: total, total });
    post({
      type: 'result',
      outcome: {
        candles: result.candles,
        metrics: metricsJson(result.metrics),
        trades: result.trades,
        equity: result.equity_curve,
        fills,
        warnings: result.warnings,
      },
    });
  } catch (err) {
    post({
      type: 'error',
      message: err instanceof RxtradeError ? err.message : `internal error: ${String(err)}`,
    });
  }
}

if (parentPort !== null) main(workerData as BacktestWorkerInput);
