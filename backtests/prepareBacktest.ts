import { filter, type Observable } from 'rxjs';
import type { Candle } from '../src/domain/candle.js';
import { findGaps, gapBetween, type CandleGap } from '../src/domain/candleGaps.js';
import { InvalidDataError, UsageError } from '../src/domain/errors.js';
import { sortTimeframes, timeframeMs, type Timeframe } from '../src/domain/timeframe.js';
import type { Trade } from '../src/domain/trade.js';
import { resampleCandleArray, resampleCandles, Resampler } from '../src/operators/resampleCandles.js';
import { skipPartialStart } from '../src/operators/skipPartialStart.js';
import { tradesToCandles } from '../src/operators/tradesToCandles.js';
import { VirtualClock } from '../src/scheduling/virtualClock.js';
import { replayInVirtualTime } from '../src/streams/replay.js';
import type { Strategy } from '../src/strategies/strategy.js';
import { candleOfRow, candlesOfColumns } from '../src/streams/candleColumns.js';
import type { BacktestData, ColumnRange, PreparedBacktest } from './backtestTypes.js';

/** Builds the candle stream of `data` for a strategy deciding on `strategy`'s timeframes (see PreparedBacktest). */
export function prepareBacktest(
  data: BacktestData,
  strategy: Pick<Strategy, 'name' | 'timeframe' | 'higherTimeframes'>,
): PreparedBacktest {
  if ('columns' in data) {
    const columns = data.columns;
    return (
      prepareColumns({ columns, from: 0, to: columns.length }, strategy) ??
      prepareBacktest({ candles: candlesOfColumns(columns) }, strategy)
    );
  }
  const mainTf = strategy.timeframe;
  const periodMs = timeframeMs(mainTf);
  const decisionTimeframes = [mainTf, ...(Object.keys(strategy.higherTimeframes ?? {}) as Timeframe[])];

  let symbol = '';
  let gaps: CandleGap[] = [];
  let candles$: Observable<Candle> | undefined;
  let stream: Candle[] = [];
  // The input's own candles (the shortest there are) carry the prices orders fill at.
  let priceTf: Timeframe = '1m';
  let inputTf: Timeframe | undefined;
  let endMs = Number.POSITIVE_INFINITY;
  if ('candles' in data) {
    const candles = data.candles;
    const first = candles[0];
    const last = candles[candles.length - 1];
    if (first !== undefined) {
      symbol = first.symbol;
      priceTf = first.timeframe;
      inputTf = first.timeframe;
      if (timeframeMs(first.timeframe) > periodMs) {
        throw new UsageError(
          `strategy ${strategy.name} decides on ${mainTf} candles: it cannot run on ${first.timeframe} candles`,
        );
      }
      gaps = findGaps(candles, timeframeMs(first.timeframe));
    }
    if (last !== undefined) endMs = Math.floor(last.closeTimeMs / periodMs) * periodMs;
    // Candles need no clock (nothing downstream runs timers): resampled in a plain loop, no stream layer.
    stream = resampleCandleArray(candles, sortTimeframes([priceTf, ...decisionTimeframes]));
    // The run ends with the last candle of the strategy's timeframe: the price candles after it (a bucket
    // that never completes) could only fill orders that no later decision or mark would follow.
    if (priceTf !== mainTf) stream = stream.filter((c) => c.closeTimeMs <= endMs);
  } else {
    const trades = data.trades;
    const first = trades[0];
    const last = trades[trades.length - 1];
    if (first !== undefined) symbol = first.symbol;
    const clock = new VirtualClock(first === undefined ? 0 : first.tsMs);
    const built$ = replayInVirtualTime(trades, tsOf, clock).pipe(
      tradesToCandles({ timeframe: '1m' }, clock),
      resampleCandles(sortTimeframes(['1m', ...decisionTimeframes])),
    );
    candles$ = (data.skipPartialStart ?? true) ? built$.pipe(skipPartialStart()) : built$;
    // The last minute the trades complete closes at or before the last trade.
    if (last !== undefined) endMs = Math.floor(last.tsMs / periodMs) * periodMs;
  }
  if (candles$ !== undefined) {
    // As for candles: the run ends with the last candle of the strategy's timeframe.
    if (priceTf !== mainTf) candles$ = candles$.pipe(filter((c) => c.closeTimeMs <= endMs));
    let failure: unknown;
    let failed = false;
    candles$.subscribe({
      next: (c) => stream.push(c),
      error: (err: unknown) => {
        failed = true;
        failure = err;
      },
    });
    if (failed) throw failure;
  }
  return {
    symbol,
    priceTimeframe: priceTf,
    timeframes: sortTimeframes(decisionTimeframes),
    stream,
    decisions: stream.reduce((k, c) => (c.timeframe === mainTf ? k + 1 : k), 0),
    gaps,
    inputTimeframe: inputTf,
  };
}

/**
 * prepareBacktest for candle columns, when the strategy decides on their own timeframe and on no other:
 * the stream is the rows themselves, checked as resampleCandles checks them (the same errors), and a run
 * makes each candle when it reaches it (PreparedBacktest.columns). Undefined when prepareBacktest is needed
 * instead: another timeframe wanted, or no rows.
 */
export function prepareColumns(
  range: ColumnRange,
  strategy: Pick<Strategy, 'name' | 'timeframe' | 'higherTimeframes'>,
): PreparedBacktest | undefined {
  const { columns, from, to } = range;
  const tf = columns.timeframe;
  if (to <= from || strategy.timeframe !== tf) return undefined;
  if (Object.keys(strategy.higherTimeframes ?? {}).length > 0) return undefined;
  const gaps = checkedGaps(range, tf);
  return {
    symbol: columns.symbol,
    priceTimeframe: tf,
    timeframes: [tf],
    stream: [],
    columns: range,
    decisions: to - from,
    gaps,
    inputTimeframe: tf,
  };
}

/**
 * prepareColumns' check of the rows (what resampleCandles checks of one timeframe's candles: aligned, in
 * time order, no duplicates) and their gaps: a loop in a function that ends with it, so that V8's code for
 * the loop, compiled while it runs, has no code after it that had not run yet (that deoptimized).
 */
function checkedGaps(range: ColumnRange, tf: Timeframe): CandleGap[] {
  const { columns, from, to } = range;
  const times = columns.closeTimeMs;
  const ms = timeframeMs(tf);
  const gaps: CandleGap[] = [];
  let previous = Number.NEGATIVE_INFINITY;
  for (let i = from; i < to; i++) {
    const t = times[i] as number;
    if (!(t % ms === 0 && t > previous)) {
      // Its own words for the first bad row: the rows up to it through a Resampler, which throws.
      const resampler = new Resampler([tf]);
      const sink = { next: () => undefined, closed: false };
      for (let k = from; k <= i; k++) resampler.take(candleOfRow(columns, k), sink);
      throw new InvalidDataError(`candle columns: row ${i} closing at ${t} is out of order or misaligned`);
    }
    // gapBetween's own test first: a call per row, not inlined (bin/rxtrade.js), boxed its numbers.
    if (i > from && t - previous > ms) {
      const gap = gapBetween(previous, t, ms);
      if (gap !== undefined) gaps.push(gap);
    }
    previous = t;
  }
  return gaps;
}

/** How many candles a prepared backtest's stream holds (see PreparedBacktest.columns). */
export function streamLength(p: PreparedBacktest): number {
  const rows = p.columns;
  return rows === undefined ? p.stream.length : rows.to - rows.from;
}

/** The `k`-th candle of a prepared backtest's stream: made from its columns, or taken from its array. */
export function streamCandle(p: PreparedBacktest, k: number): Candle {
  const rows = p.columns;
  return rows === undefined ? (p.stream[k] as Candle) : candleOfRow(rows.columns, rows.from + k);
}

function tsOf(t: Trade): number {
  return t.tsMs;
}
