import { UsageError } from '../src/domain/errors.js';
import { timeframeMs } from '../src/domain/timeframe.js';
import type { TradingEngine, TradingListener } from '../src/domain/trading/engine.js';
import type { Signal } from '../src/domain/signal.js';
import type { Fill, RiskDecision, RoundTrip } from '../src/domain/trading/types.js';
import { scratchCandle, toRow, type MutableCandle } from '../src/streams/candleColumns.js';
import { StrategyRunner, type DecisionValues } from '../src/strategies/runner.js';
import type { CandleSeries, IndicatorSeries, Strategy } from '../src/strategies/strategy.js';
import type { BacktestOptions, ColumnRange, PreparedBacktest } from './backtestTypes.js';
import type { EquityRecorder } from './equityRecorder.js';
import { seriesOf, type Series } from './indicatorReplay.js';
import type { IndicatorFactory } from '../src/domain/indicators/indicator.js';
import type { RunTally } from './runTally.js';
import { objectArray } from '../src/domain/objectArray.js';

/**
 * The candles a run needs to ask the strategy about, when it can ask on those only: a stream on candle
 * columns (one timeframe, the strategy's), a strategy with `candidates`, nobody watching every signal
 * (`onSignal` wants the holds too) and no `everyCandle`. The indicator series are `indicatorSeries` (an
 * optimizer's, computed once for many runs), else computed here when they are all numbers. Undefined
 * otherwise: the run then asks on every candle.
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
    // Computed for this run alone: taken when every series is numbers. Values of another shape (MACD's,
    // the bands' objects: one per candle, kept to the end of the run) cost a single run more in garbage
    // collection than the shortcut saves: 71k 1m candles (7 weeks) in a fresh process, medians of 3, the run
    // alone, candidates / every candle: macd_trend 211 / 131 ms, bollinger_breakout 160 / 95 ms, momentum
    // 179 / 142 ms (rsi_reversion 75 / 85 ms, sma_cross about even). Such a series is given up at its
    // first value. An optimizer computes its series once for many runs, and gives them (indicatorSeries).
    const computed: Record<string, Series> = {};
    for (const [name, make] of Object.entries(strategy.indicators)) {
      const s = seriesOf((make as IndicatorFactory)(), prepared, strategy.timeframe, true);
      if (s === undefined) return undefined;
      computed[name] = s;
    }
    indicatorSeries = computed;
  }
  for (const name of Object.keys(strategy.indicators)) {
    if (indicatorSeries[name] === undefined) return undefined;
  }
  const { columns: c, from, to } = rows;
  const count = to - from;
  const candles: CandleSeries = {
    closeTimeMs: c.closeTimeMs.subarray(from, to),
    open: c.open.subarray(from, to),
    high: c.high.subarray(from, to),
    low: c.low.subarray(from, to),
    close: c.close.subarray(from, to),
    volume: c.volume.subarray(from, to),
  };
  const listed = strategy.candidates(indicatorSeries as IndicatorSeries, count, candles);
  if (listed === undefined) return undefined;
  for (let i = 0; i < listed.length; i++) {
    const k = listed[i] as number;
    if (!(Number.isInteger(k) && k >= 0 && k < count && (i === 0 || k > (listed[i - 1] as number)))) {
      throw new UsageError(
        `strategy ${strategy.name}: candidates() must list increasing candle indexes from 0 to ${count - 1}, got ${k} at ${i}`,
      );
    }
  }
  const candidates = listed instanceof Int32Array ? listed : Int32Array.from(listed);
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
 *   the quantity read after the last engine call: nothing else changes them. The curve and its metrics
 *   take the points at the end, in one block (metrics keep candles and trades apart: the order between
 *   them changes nothing).
 * The stretches between the candles the engine takes are filled by a loop of their own: small code that
 * V8 compiles at once, where the whole loop took it ~35 ms per compilation, several times per worker.
 */
export function runCandidates(
  strategy: Strategy,
  rows: ColumnRange,
  candidates: Int32Array,
  series: Readonly<Record<string, Series>>,
  engine: TradingEngine,
  curve: EquityRecorder,
  tally: RunTally,
): void {
  const { from, to } = rows;
  const columns = takeScratch(to);
  const run = new CandidateRun(strategy, rows, series, engine, tally, columns);
  try {
    driveRows(run, engine.venue, candidates, from, to);
  } finally {
    // The method, not attach's function: a closure made per run, called here, would undo V8's code for
    // this function at the end of every run (it inlines the one function it saw).
    engine.detach(run.events);
  }
  const { closeTimeMs, close } = rows.columns;
  curve.nextMany(closeTimeMs, run.equity, run.inMarket, close, from, to);
  scratch = new WeakRef(columns);
}

/**
 * runCandidates' loop over rows `from` … `to` − 1, a function of its own that ends with it. V8 compiles a
 * run's long loop while it runs (on-stack replacement), before the code after it has ever run, and keeps
 * that code for the next runs: when the code after the loop was runCandidates' own, every later run
 * deoptimized there ("insufficient type feedback"), 60–100 times in some searches of the grid
 * (--trace-deopt, one thread), each ~0.5 ms.
 */
function driveRows(
  run: CandidateRun,
  venue: TradingEngine['venue'],
  candidates: Int32Array,
  from: number,
  to: number,
): void {
  const last = to - 1;
  let next = 0;
  let row = from;
  while (row < to) {
    const candidate = next < candidates.length ? from + (candidates[next] as number) : to;
    // The rows before the next one the engine must take: only their marks would change.
    const stop = venue.idle ? Math.min(candidate, last) : row;
    if (stop > row) {
      run.quiet(row, stop);
      row = stop;
    }
    run.engineRow(row, row === candidate);
    if (row === candidate) next++;
    row++;
  }
}

/** The equity and position columns of a run, kept for the next run of this thread (see takeScratch). */
interface Scratch {
  readonly equity: Float64Array;
  readonly inMarket: Uint8Array;
}

let scratch: WeakRef<Scratch> | undefined;

/**
 * Columns of at least `length` rows for one run: the last run's when they are long enough (nothing keeps
 * them after a run: the curve copies its points). New columns for every run are 640 kB of new memory a run
 * over 71 k candles, which the kernel maps page by page on first write (~8 µs a page fault on this kind of
 * machine): reused, the 90-combination search takes ~1.2 k fewer page faults (of ~23 k). Held
 * weakly between runs (a long-lived process does not keep a big backtest's columns), and taken while a run
 * uses them, so a run inside a run (a strategy that backtests) gets its own.
 */
function takeScratch(length: number): Scratch {
  const s = scratch?.deref();
  scratch = undefined;
  if (s !== undefined && s.equity.length >= length) return s;
  return { equity: new Float64Array(length), inMarket: new Uint8Array(length) };
}

/** One run's state between the candles the engine takes (see runCandidates). */
class CandidateRun {
  readonly events = new EventQueue();
  /** Equity and position (1: open) after each row (the rows' times and closes are the columns' own). */
  readonly equity: Float64Array;
  readonly inMarket: Uint8Array;
  private readonly runner: StrategyRunner;
  private readonly values: SeriesValues;
  /**
   * The candles a decision is asked on (ctx.candle and ctx.previousCandle), rewritten for each candidate:
   * a strategy with `candidates` keeps no reference to them (see Strategy.candidates). Two objects per run
   * instead of two per decision: a search's most allocated objects (~16 % of its bytes).
   */
  private readonly candle: MutableCandle;
  private readonly previousCandle: MutableCandle;
  private readonly periodMs: number;
  private cash: number;
  private qty: number;
  private held: boolean;

  constructor(
    strategy: Strategy,
    private readonly rows: ColumnRange,
    series: Readonly<Record<string, Series>>,
    private readonly engine: TradingEngine,
    private readonly tally: RunTally,
    columns: Scratch,
  ) {
    this.equity = columns.equity;
    this.inMarket = columns.inMarket;
    // A flat stretch writes its equity only (quiet): its rows must say "not in the market" already.
    this.inMarket.fill(0, rows.from, rows.to);
    this.runner = new StrategyRunner(strategy, true);
    this.candle = scratchCandle(rows.columns);
    this.previousCandle = scratchCandle(rows.columns);
    this.values = new SeriesValues(series);
    this.periodMs = timeframeMs(rows.columns.timeframe);
    engine.attach(this.events);
    const book = engine.book;
    this.cash = book.cash;
    this.qty = book.qtyOf(rows.columns.symbol);
    this.held = book.openCount > 0;
  }

  /** Rows `from` … `to` − 1, on which the engine has nothing to do: their equity at their closes. */
  quiet(from: number, to: number): void {
    const cash = this.cash;
    if (!this.held) {
      this.equity.fill(cash, from, to);
      return;
    }
    const qty = this.qty;
    const close = this.rows.columns.close;
    const equity = this.equity;
    const inMarket = this.inMarket;
    for (let i = from; i < to; i++) {
      // PortfolioBook.equity: cash + the positions' value summed from 0.
      equity[i] = cash + (0 + qty * (close[i] as number));
      inMarket[i] = 1;
    }
  }

  /** A row the engine takes: its prices, the decision on it when it is a candidate, then its equity. */
  engineRow(row: number, candidate: boolean): void {
    const { columns, from } = this.rows;
    const engine = this.engine;
    const t = columns.closeTimeMs[row] as number;
    const price = columns.close[row] as number;
    engine.onBar(
      columns.symbol,
      t - this.periodMs,
      t,
      columns.open[row] as number,
      columns.high[row] as number,
      columns.low[row] as number,
      price,
    );
    let signal: Signal | undefined;
    let decision: RiskDecision | undefined;
    if (candidate) {
      const candle = toRow(this.candle, columns, row);
      this.values.k = row - from;
      signal = this.runner.decideAt(
        candle,
        row > from ? toRow(this.previousCandle, columns, row - 1) : undefined,
        this.values,
      );
      decision = engine.onSignal(signal);
    } else engine.onHold(t);
    const events = this.events;
    if (events.fillCount > 0 || events.tripCount > 0) events.drain(this.tally);
    if (signal !== undefined) this.tally.decided(signal, decision, this.runner.lastError);
    const book = engine.book;
    this.cash = book.cash;
    this.qty = book.qtyOf(columns.symbol);
    this.held = book.openCount > 0;
    this.quiet(row, row + 1);
  }
}

/**
 * The engine's fills and round trips of one candle, kept for the tally. A class, not closures made per run:
 * V8 inlines a call site for the one function it saw there, and a new closure each run undid that.
 */
class EventQueue implements TradingListener {
  /**
   * The candle's events are fills[0 … fillCount − 1] and trips[0 … tripCount − 1]: two arrays for the run,
   * not new ones for each candle with events (~9 % of a parameter search's garbage).
   */
  private readonly fills: (Fill | undefined)[] = objectArray<Fill>();
  private readonly trips: (RoundTrip | undefined)[] = objectArray<RoundTrip>();
  fillCount = 0;
  tripCount = 0;

  fill(f: Fill): void {
    this.fills[this.fillCount++] = f;
  }

  roundTrip(t: RoundTrip): void {
    this.trips[this.tripCount++] = t;
  }

  /** The fills, then the round trips, to the tally (as RunTally.events), and forgets them. */
  drain(tally: RunTally): void {
    const fills = this.fills;
    const trips = this.trips;
    for (let i = 0; i < this.fillCount; i++) {
      tally.fill(fills[i] as Fill);
      fills[i] = undefined;
    }
    for (let i = 0; i < this.tripCount; i++) {
      tally.roundTrip(trips[i] as RoundTrip);
      trips[i] = undefined;
    }
    this.fillCount = 0;
    this.tripCount = 0;
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
