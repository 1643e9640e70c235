import type { z } from 'zod';
import type { Candle } from '../domain/candle.js';
import type { Signal, SignalAction } from '../domain/signal.js';
import type { Timeframe } from '../domain/timeframe.js';
import type { IndicatorSpec, IndicatorValues } from '../domain/indicators/spec.js';

/** Indicator values as they go into a Signal (`ema_12: 43210.5`). */
export type SignalIndicators = Readonly<Record<string, number | undefined>>;

/** Shared by the signals that carry no indicator value (warm-up, errors): never mutated. */
export const NO_INDICATORS: SignalIndicators = Object.freeze({});

/**
 * A trading strategy: it declares the indicators it needs on its main timeframe (and, optionally, on
 * higher timeframes), and decides on every closed candle of the main timeframe.
 *
 * - `onCandle` must depend on its context only. Everything that has to be remembered between candles
 *   lives in indicators (custom ones implement `Indicator`): `runStrategy` makes fresh ones for every
 *   subscription, so one strategy object can run in many pipelines at once, and what it decides on a
 *   candle depends on that candle and earlier ones only (no look-ahead).
 * - It returns exactly one Signal, made with `ctx.buy`, `ctx.sell` or `ctx.hold`. No buy or sell before
 *   the indicators it uses are warmed up (their value is `undefined` until then).
 * - A strategy that throws does not stop the stream: `runStrategy` emits a hold and reports the error.
 *
 * @see runStrategy
 */
export interface Strategy<S extends IndicatorSpec = IndicatorSpec> {
  /** Registry name (`ema_crossover`). */
  readonly name: string;
  /** Its validated parameters, frozen. */
  readonly params: Readonly<Record<string, unknown>>;
  /** The timeframe it decides on: one Signal per closed candle of it. */
  readonly timeframe: Timeframe;
  /** Indicators on the main timeframe; `ctx.values` has one entry per key. */
  readonly indicators: S;
  /** Indicators on higher timeframes; `ctx.higher(tf)` shows the last closed candle there and them. */
  readonly higherTimeframes?: Readonly<Partial<Record<Timeframe, IndicatorSpec>>>;
  onCandle(ctx: StrategyContext<S>): Signal;
  /**
   * Optional, a shortcut for whole series (an optimizer's, see runPreparedBacktest): the candles on which
   * `onCandle` may return a buy or a sell, found from each main-timeframe indicator's values over all
   * candles at once. `onCandle` is then asked on those candles only, with the same context it would have
   * had; every other candle is a hold. The list must hold every candle where `onCandle` does not hold (it
   * may hold more); undefined when the series are not of the shape it knows (the run then asks every candle).
   * `candles` are the run's candles as columns (index k: the k-th candle, as in the series). The indexes
   * increasing, in an array or an Int32Array: returning the array a loop filled (`return out`, not
   * `Int32Array.from(out)`) keeps code after the loop out of a function V8 compiles while its loop runs
   * (code that had not run then deoptimized every later call: see runCandidates' driveRows).
   * test/backtests/candidateRun.test.ts checks each built-in strategy's list against `onCandle`.
   * On that path `ctx.candle` and `ctx.previousCandle` are two objects rewritten for each decision: a
   * strategy with `candidates` reads them in `onCandle` and keeps no reference to them.
   */
  candidates?(
    series: IndicatorSeries<S>,
    length: number,
    candles: CandleSeries,
  ): readonly number[] | Int32Array | undefined;
}

/**
 * An indicator's values over candles 0 … length − 1, in the usual shape: undefined before `from`, then the
 * numbers in `numbers` (whose entries before `from` mean nothing).
 */
export interface NumberSeries {
  readonly numbers: Float64Array;
  readonly from: number;
  readonly values?: undefined;
}

/** An indicator's values of any other shape (MACD's objects, …), as they came (undefined while warming). */
export interface ValueSeries {
  readonly numbers?: undefined;
  readonly values: readonly unknown[];
}

/** A run's candles as columns: entry k of each is the run's k-th candle. */
export interface CandleSeries {
  readonly closeTimeMs: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/** Each main-timeframe indicator's values over the whole run. */
export type IndicatorSeries<S extends IndicatorSpec = IndicatorSpec> = {
  readonly [K in keyof S]: NumberSeries | ValueSeries;
};

/** The last closed candle of a higher timeframe and its indicator values (all undefined before one). */
export interface TimeframeView {
  readonly candle: Candle | undefined;
  readonly values: Readonly<Record<string, unknown>>;
}

/**
 * What a strategy sees on one candle. `runStrategy` reuses one context per subscription and updates it in
 * place (allocation-light): read it during `onCandle`, do not keep it.
 */
export class StrategyContext<S extends IndicatorSpec = IndicatorSpec> {
  /** The closed main-timeframe candle being decided on. */
  candle!: Candle;
  /** The previous main-timeframe candle (undefined on the first). */
  previousCandle: Candle | undefined = undefined;
  /** Indicator values after `candle` (undefined while an indicator warms up). */
  values: IndicatorValues<S>;
  /** Indicator values after `previousCandle` (all undefined on the first candle). */
  previous: IndicatorValues<S>;
  /** @internal the higher-timeframe views, set by runStrategy */
  views: Partial<Record<Timeframe, TimeframeView>> = {};
  /**
   * True when whoever drives the strategy reads a hold during the call and keeps nothing of it but its
   * action, time and price, and reads no signal's indicator values (a backtest nobody watches the signals
   * of: the engine takes a buy's or sell's action, time, price, confidence and reason): `hold()` then
   * reuses one Signal, and a strategy may leave out the indicator values of any signal (NO_INDICATORS), so
   * a candle without a trade allocates nothing and a trade no record keyed by the parameters' names (with
   * a grid's many names, V8's stores into such records ran at ~0.4 µs each). What is decided is the same
   * either way.
   */
  readonly scratchHolds: boolean;
  private scratchSignal: { -readonly [K in keyof Signal]: Signal[K] } | undefined = undefined;

  constructor(values: IndicatorValues<S>, previous: IndicatorValues<S>, scratchHolds = false) {
    this.values = values;
    this.previous = previous;
    this.scratchHolds = scratchHolds;
  }

  /** The last higher-timeframe candle that closed no later than `candle`, with its indicators. */
  higher(timeframe: Timeframe): TimeframeView | undefined {
    return this.views[timeframe];
  }

  buy(confidence: number, reason: string, indicators: SignalIndicators): Signal {
    return this.signal('buy', confidence, reason, indicators);
  }

  sell(confidence: number, reason: string, indicators: SignalIndicators): Signal {
    return this.signal('sell', confidence, reason, indicators);
  }

  hold(reason: string, indicators: SignalIndicators = NO_INDICATORS): Signal {
    if (!this.scratchHolds) return this.signal('hold', 0, reason, indicators);
    const c = this.candle;
    const h = (this.scratchSignal ??= { ...this.signal('hold', 0, reason, indicators) });
    h.symbol = c.symbol;
    h.timeframe = c.timeframe;
    h.closeTimeMs = c.closeTimeMs;
    h.action = 'hold';
    h.confidence = 0;
    h.reason = reason;
    h.price = c.close;
    h.indicators = indicators;
    return h;
  }

  signal(action: SignalAction, confidence: number, reason: string, indicators: SignalIndicators): Signal {
    const c = this.candle;
    return {
      symbol: c.symbol,
      timeframe: c.timeframe,
      closeTimeMs: c.closeTimeMs,
      action,
      confidence,
      reason,
      price: c.close,
      indicators,
    };
  }
}

/**
 * A registered kind of strategy: its name, its parameter schema (zod, strict, with a default for every
 * parameter) and how to build one from validated parameters.
 */
export interface StrategyDefinition<P extends object = Record<string, unknown>> {
  /** Registry name, snake_case (`ema_crossover`). */
  readonly name: string;
  /** The requirements' spelling (`EMA_Crossover`); names are matched case-insensitively anyway. */
  readonly displayName: string;
  /** One line for listings. */
  readonly summary: string;
  readonly schema: z.ZodType<P>;
  create(params: P): Strategy;
}

/** 1 for an upward crossing of `a` over `b`, −1 for a downward one, 0 otherwise (strict inequalities:
 *  up = previous a < previous b and a > b). Any undefined value: 0 (not warmed up, no crossing). */
export function crossing(
  previousA: number | undefined,
  previousB: number | undefined,
  a: number | undefined,
  b: number | undefined,
): 1 | -1 | 0 {
  if (previousA === undefined || previousB === undefined || a === undefined || b === undefined) return 0;
  if (previousA < previousB && a > b) return 1;
  if (previousA > previousB && a < b) return -1;
  return 0;
}

/** `x` clamped to 0..1 (NaN → 0). */
export function unit(x: number): number {
  return x > 1 ? 1 : x > 0 ? x : 0;
}
