import { UsageError } from '../src/domain/errors.js';
import { timeframeMs } from '../src/domain/timeframe.js';
import type { TradingEngine, TradingListener } from '../src/domain/trading/engine.js';
import type { Signal } from '../src/domain/signal.js';
import type { Fill, RiskDecision, RoundTrip } from '../src/domain/trading/types.js';
import { candleOfRow } from '../src/streams/candleColumns.js';
import { StrategyRunner, type DecisionValues } from '../src/strategies/runner.js';
import type { IndicatorSeries, NumberSeries, Strategy } from '../src/strategies/strategy.js';
import type { BacktestOptions, ColumnRange, PreparedBacktest } from './backtestTypes.js';
import type { EquityRecorder } from './equityRecorder.js';
import { seriesOf, type Series } from './indicatorReplay.js';
import type { IndicatorFactory } from '../src/domain/indicators/indicator.js';
import type { RunTally } from './runTally.js';

/**
 * The candles a run needs to ask the strategy about, when it can ask on those only: a stream on candle
 * columns (one timeframe, the strategy's), a strategy with `candidates`, nobody watching every signal
 * (`onSignal` wants the holds too) and no `everyCandle`. The indicator series are `indicatorSeries` (an optimizer's, computed
 * once for many runs), else computed here. Undefined otherwise: the run then asks on every candle.
 */
export function candidatesOf(
  prepared: PreparedBacktest,
  options: BacktestOptions,
):
  | {
      readonly rows: ColumnRange;
      readonly candidates: Int32Array;
      readonly series: Readonly<Record<string, Series>>;
    }
  | undefined {
  const { strategy } = options;
  const rows = prepared.columns;
  if (rows === undefined || strategy.candidates === undefined) return undefined;
  if (options.onSignal !== undefined || options.everyCandle === true) return undefined;
  let indicatorSeries = options.indicatorSeries;
  if (indicatorSeries === undefined) {
    const computed: Record<string, Series> = {};
    for (const [name, make] of Object.entries(strategy.indicators)) {
      computed[name] = seriesOf((make as IndicatorFactory)(), prepared, strategy.timeframe);
    }
    indicatorSeries = computed;
  }
  const numbers: Record<string, NumberSeries | undefined> = {};
  for (const name of Object.keys(strategy.indicators)) {
    const s = indicatorSeries[name];
    if (s === undefined) return undefined;
    numbers[name] = s.numbers === undefined ? undefined : { numbers: s.numbers, from: s.from };
  }
  const count = rows.to - rows.from;
  const candidates = strategy.candidates(numbers as IndicatorSeries, count);
  if (candidates === undefined) return undefined;
  for (let i = 0; i < candidates.length; i++) {
    const k = candidates[i] as number;
    if (!(k >= 0 && k < count && (i === 0 || k > (candidates[i - 1] as number)))) {
      throw new UsageError(
        `strategy ${strategy.name}: candidates() must list increasing candle indexes from 0 to ${count - 1}, got ${k} at ${i}`,
      );
    }
  }
  return { rows, candidates, series: indicatorSeries };
}

/**
 * The run's loop when the strategy is asked on its candidate candles only (see candidatesOf). It makes the
 * same engine calls, events and equity points, in the same order and with the same numbers, as the loop
 * over every candle (test/backtests/candidateRun.test.ts holds the two equal), without a Candle object, an
 * indicator update, a strategy call or an engine call on most candles:
 * - The engine takes a candle (`onBar`: fills, exits, the mark) when it can act on it: the simulated venue
 *   has an order waiting or an exit to watch, or the strategy decides on it (a candidate); and the last
 *   one, so the engine ends as the other loop leaves it. On any other candle it would only mark the book
 *   at the close, which nothing reads before the next mark overwrites it: sizing reads the equity after
 *   the candle's own mark, and a fill marks the book at its own price (PortfolioBook.applyFill).
 * - A candidate candle is decided on with its indicator values taken from the series
 *   (StrategyRunner.decideAt: the context the strategy would have had); every other one is a hold.
 * - Equity after a candle is the book's (`cash + Σ qty × close`, PortfolioBook.equity), from the cash and
 *   the quantity read after the last engine call: nothing else changes them. The points go to the curve
 *   in blocks of `progress.every`, progress reported after each (metrics keep candles and trades apart:
 *   the order between them changes nothing).
 */
export function runCandidates(
  strategy: Strategy,
  rows: ColumnRange,
  candidates: Int32Array,
  series: Readonly<Record<string, Series>>,
  engine: TradingEngine,
  curve: EquityRecorder,
  tally: RunTally,
  progress: { readonly every: number; readonly on: ((candles: number) => void) | undefined },
): void {
  const { columns, from, to } = rows;
  const { symbol, closeTimeMs, open, high, low, close } = columns;
  const periodMs = timeframeMs(columns.timeframe);
  const book = engine.book;
  const venue = engine.venue;
  const events = new EventQueue();
  engine.attach(events);
  const runner = new StrategyRunner(strategy, true);
  const values = new SeriesValues(series);
  // Equity and position per row, by blocks (the rows' times and closes are the columns' own).
  const block = Math.min(Math.max(1, progress.every), to - from);
  const equity = new Float64Array(to);
  const inMarket = new Uint8Array(to);
  let blockStart = from;
  let cash = book.cash;
  let qty = book.qtyOf(symbol);
  let held = book.openCount > 0;
  try {
    let next = 0;
    let nextK = candidates.length > 0 ? (candidates[0] as number) : -1;
    const last = to - 1;
    for (let row = from; row < to; row++) {
      const price = close[row] as number;
      const candidate = row - from === nextK;
      const idle = venue.idle;
      if (!idle || candidate || row === last) {
        const t = closeTimeMs[row] as number;
        engine.onBar(
          symbol,
          t - periodMs,
          t,
          open[row] as number,
          high[row] as number,
          low[row] as number,
          price,
        );
        let signal: Signal | undefined;
        let decision: RiskDecision | undefined;
        if (candidate) {
          const candle = candleOfRow(columns, row);
          values.k = row - from;
          signal = runner.decideAt(candle, row > from ? candleOfRow(columns, row - 1) : undefined, values);
          decision = engine.onSignal(signal);
          nextK = ++next < candidates.length ? (candidates[next] as number) : -1;
        } else engine.onHold(t);
        if (events.fills !== undefined || events.trips !== undefined) {
          const f = events.fills;
          const r = events.trips;
          events.fills = undefined;
          events.trips = undefined;
          tally.events(f, r);
        }
        if (signal !== undefined) tally.decided(signal, decision, runner.lastError);
        cash = book.cash;
        qty = book.qtyOf(symbol);
        held = book.openCount > 0;
      }
      // PortfolioBook.equity: cash + the positions' value summed from 0.
      equity[row] = held ? cash + (0 + qty * price) : cash;
      inMarket[row] = held ? 1 : 0;
      if (row - blockStart === block - 1 || row === last) {
        curve.nextMany(closeTimeMs, equity, inMarket, close, blockStart, row + 1);
        blockStart = row + 1;
        if (progress.on !== undefined && row !== last && curve.n > 0) progress.on(curve.n);
      }
    }
  } finally {
    // The method, not attach's function: a closure made per run, called here, would undo V8's code for
    // this loop at the end of every run (it inlines the one function it saw).
    engine.detach(events);
  }
}

/**
 * The engine's fills and round trips of one candle, kept for the tally. A class, not closures made per run:
 * V8 inlines a call site for the one function it saw there, and a new closure each run undid that.
 */
class EventQueue implements TradingListener {
  fills: Fill[] | undefined = undefined;
  trips: RoundTrip[] | undefined = undefined;

  fill(f: Fill): void {
    (this.fills ??= []).push(f);
  }

  roundTrip(t: RoundTrip): void {
    (this.trips ??= []).push(t);
  }
}

/** The indicator values of decision candle `k` (and of the one before) from the series. */
class SeriesValues implements DecisionValues {
  k = 0;

  constructor(private readonly series: Readonly<Record<string, Series>>) {}

  value(name: string, back: 0 | 1): unknown {
    const s = this.series[name] as Series;
    const i = this.k - back;
    if (i < 0) return undefined;
    return s.numbers === undefined ? s.values[i] : i >= s.from ? s.numbers[i] : undefined;
  }
}
