import {
  Adx,
  Atr,
  BollingerBands,
  Dmi,
  Ema,
  Macd,
  Obv,
  Roc,
  Rsi,
  Sma,
  Vwap,
  type BatchSeries,
  type Indicator,
  type IndicatorInput,
  type SeriesAlloc,
} from '../src/domain/indicators/index.js';
import type { ColumnRange, PreparedBacktest } from './backtestTypes.js';
import { streamCandle, streamLength } from './prepareBacktest.js';

/**
 * An indicator's values over a stream's decision candles. The usual shape — undefined while it warms up,
 * numbers after — is kept as a Float64Array and the index of the first number (a long-lived array of
 * boxed numbers per series cost a search a seventh of its time in garbage collection); any other shape
 * as the values came.
 */
export type Series =
  | { readonly numbers: Float64Array; readonly from: number }
  | { readonly numbers?: undefined; readonly values: readonly unknown[] };

/**
 * The built-in indicators: `update` reads the input's fields and keeps no reference to it, so a series
 * over candle columns may feed them one input object rewritten row by row (no candle object per row and
 * indicator: 21 series of 71 k rows made 1.5 M of them, a fifth of an optimize worker's time with the
 * garbage collection). Exact classes: a subclass, or any other indicator, gets a candle per row.
 */
const READS_FIELDS_ONLY: ReadonlySet<unknown> = new Set([
  Adx,
  Atr,
  BollingerBands,
  Dmi,
  Ema,
  Macd,
  Obv,
  Roc,
  Rsi,
  Sma,
  Vwap,
]);

/**
 * The built-in indicators that compute a series over candle columns in one loop (BatchSeries). Exact
 * classes, as above: a subclass may change what `update` returns.
 */
const BATCH: ReadonlySet<unknown> = new Set([Atr, Ema, Rsi, Sma]);

/** An indicator's values over a prepared stream's candles of `timeframe` (its decision candles). */
export function seriesOf(
  probe: Indicator<unknown>,
  prepared: PreparedBacktest,
  timeframe: string,
  numbersOnly?: false,
  /** Where a series of numbers goes (see SeriesAlloc); new arrays without it. */
  alloc?: SeriesAlloc,
): Series;
/**
 * `numbersOnly`: undefined as soon as a value is neither undefined nor a number (MACD's and the bands'
 * objects): a run that would only use such a series once does without it (see candidatesOf).
 */
export function seriesOf(
  probe: Indicator<unknown>,
  prepared: PreparedBacktest,
  timeframe: string,
  numbersOnly: true,
): Series | undefined;
export function seriesOf(
  probe: Indicator<unknown>,
  prepared: PreparedBacktest,
  timeframe: string,
  numbersOnly = false,
  alloc?: SeriesAlloc,
): Series | undefined {
  const rows = prepared.columns;
  if (rows !== undefined && BATCH.has(probe.constructor) && rows.to - rows.from === prepared.decisions) {
    const numbers = (probe as unknown as BatchSeries).seriesOver(rows.columns, rows.from, rows.to, alloc);
    return { numbers, from: Math.min(probe.lookback, numbers.length) };
  }
  const out = new SeriesBuilder(prepared.decisions, alloc);
  const complete =
    rows !== undefined && READS_FIELDS_ONLY.has(probe.constructor)
      ? feedRows(probe, rows, out, numbersOnly)
      : feedStream(probe, prepared, timeframe, out, numbersOnly);
  return complete ? out.series() : undefined;
}

/*
 * seriesOf's two loops, each a function that ends with it: V8 compiles a long loop while it runs (on-stack
 * replacement) and keeps that code, and code after the loop that had not run then deoptimized every later
 * call there (a macd_trend search: once per series, --trace-deopt). False: given up (`numbersOnly` and a
 * value that is not a number).
 */

/** The columns are the decision candles themselves (prepareColumns). */
function feedRows(
  probe: Indicator<unknown>,
  rows: ColumnRange,
  out: SeriesBuilder,
  numbersOnly: boolean,
): boolean {
  const c = rows.columns;
  const input: { -readonly [K in keyof IndicatorInput]: IndicatorInput[K] } = {
    closeTimeMs: 0,
    timeframe: c.timeframe,
    open: 0,
    high: 0,
    low: 0,
    close: 0,
    volume: 0,
  };
  for (let i = rows.from; i < rows.to; i++) {
    input.closeTimeMs = c.closeTimeMs[i] as number;
    input.open = c.open[i] as number;
    input.high = c.high[i] as number;
    input.low = c.low[i] as number;
    input.close = c.close[i] as number;
    input.volume = c.volume[i] as number;
    if (!out.push(probe.update(input)) && numbersOnly) return false;
  }
  return true;
}

function feedStream(
  probe: Indicator<unknown>,
  prepared: PreparedBacktest,
  timeframe: string,
  out: SeriesBuilder,
  numbersOnly: boolean,
): boolean {
  const count = streamLength(prepared);
  for (let j = 0; j < count; j++) {
    const c = streamCandle(prepared, j);
    if (c.timeframe === timeframe && !out.push(probe.update(c)) && numbersOnly) return false;
  }
  return true;
}

/** Takes values one by one and keeps them as a Series (the usual shape while they have it). */
class SeriesBuilder {
  private readonly numbers: Float64Array;
  private from = -1;
  private values: unknown[] | undefined;
  private k = 0;

  constructor(room: number, alloc?: SeriesAlloc) {
    this.numbers = alloc === undefined ? new Float64Array(room) : alloc(room);
  }

  /** Takes the next value; false once the values are not of the usual shape. */
  push(v: unknown): boolean {
    const k = this.k++;
    const numbers = this.numbers;
    if (this.values !== undefined) {
      this.values.push(v);
      return false;
    }
    if (typeof v === 'number' && k < numbers.length) {
      if (this.from < 0) this.from = k;
      numbers[k] = v;
    } else if (v !== undefined || this.from >= 0 || k >= numbers.length) {
      // Not the usual shape: every value as it came.
      const values: unknown[] = [];
      for (let i = 0; i < k; i++) values.push(this.from >= 0 && i >= this.from ? numbers[i] : undefined);
      values.push(v);
      this.values = values;
      return false;
    }
    return true;
  }

  series(): Series {
    if (this.values !== undefined) return { values: this.values };
    return { numbers: this.numbers, from: this.from < 0 ? this.k : this.from };
  }
}

/**
 * A strategy's main-timeframe indicator replaying values computed once per stream: the indicator `key`
 * names the indicator and its parameters (`sma_20`), and StrategyRunner feeds a strategy's indicators every
 * candle of its timeframe in order, so the n-th update of a replay is the n-th value.
 */
export function replaying(key: string, lookback: number, series: Series): Indicator<unknown> {
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
