import type { Candle } from '../domain/candle.js';
import { InvalidDataError, UsageError } from '../domain/errors.js';
import type { Indicator } from '../domain/indicators/indicator.js';
import type { Signal } from '../domain/signal.js';
import { timeframeMs, type Timeframe } from '../domain/timeframe.js';
import type { IndicatorSpec, IndicatorValues } from '../domain/indicators/spec.js';
import { StrategyContext, type Strategy, type TimeframeView } from './strategy.js';
import { iso } from '../domain/time.js';

/** A strategy threw (or returned something that is not a valid Signal) on one candle. */
export interface StrategyErrorEvent {
  readonly type: 'strategy-error';
  readonly strategy: string;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  /** Close time of the candle it was deciding on. */
  readonly closeTimeMs: number;
  readonly message: string;
  /** The stack of what was thrown (its message when it has none). */
  readonly stack: string;
  readonly error: unknown;
}

/**
 * Throws UsageError when `strategy` cannot run at all (a "higher" timeframe that is not longer than its
 * own): checked once, when an operator is built, before any candle.
 */
export function checkStrategy(strategy: Strategy): void {
  const mainMs = timeframeMs(strategy.timeframe);
  for (const tf of Object.keys(strategy.higherTimeframes ?? {}) as Timeframe[]) {
    if (timeframeMs(tf) <= mainMs) {
      throw new UsageError(
        `strategy ${strategy.name}: higher timeframe ${tf} is not longer than its timeframe ${strategy.timeframe}`,
      );
    }
  }
}

/**
 * One run of a strategy over one symbol's closed candles: the synchronous core of `runStrategy` and
 * `tradeStrategy`. It owns fresh instances of the strategy's indicators, feeds them each candle of their
 * timeframe, and asks the strategy for a decision on each candle of its own timeframe (see runStrategy for
 * the rules: higher-timeframe candles seen only from the decision closing at or after them, strategy
 * errors turned into holds, data faults thrown as InvalidDataError).
 *
 * Per candle: one update per declared indicator, one call to `onCandle`, no other allocation than the
 * strategy's Signal.
 */
export class StrategyRunner<S extends IndicatorSpec = IndicatorSpec> {
  /** The error of the last decision, when the strategy failed on it (undefined after a good one). */
  lastError: StrategyErrorEvent | undefined = undefined;
  private readonly mainTf: Timeframe;
  private readonly names: string[];
  private readonly indicators: Indicator<unknown>[];
  private current: Record<string, unknown>;
  private previous: Record<string, unknown>;
  private readonly ctx: StrategyContext<S>;
  private readonly higher: HigherState[];
  private readonly update: ValuesUpdater;
  private readonly copy: ValuesCopier;
  private symbol: string | undefined = undefined;
  private lastMs = Number.NEGATIVE_INFINITY;
  private readonly label: string;

  /**
   * `scratchHolds`: see StrategyContext.scratchHolds (the caller keeps no hold it is given).
   * `indicators`: instances to use for some of the strategy's main-timeframe indicators instead of fresh
   * ones from its factories (an optimizer replaying series it computed once); each must give exactly what
   * a fresh instance of that factory would, update by update.
   */
  constructor(
    private readonly strategy: Strategy<S>,
    scratchHolds = false,
    indicators?: Readonly<Record<string, Indicator<unknown>>>,
  ) {
    this.label = strategy.name;
    this.mainTf = strategy.timeframe;
    this.names = Object.keys(strategy.indicators);
    this.indicators = this.names.map(
      (n) => indicators?.[n] ?? (strategy.indicators[n] as () => Indicator<unknown>)(),
    );
    this.update = valuesUpdater(this.names);
    this.copy = valuesCopier(this.names);
    this.current = emptyValues(this.names);
    this.previous = emptyValues(this.names);
    this.ctx = new StrategyContext<S>(
      this.current as IndicatorValues<S>,
      this.previous as IndicatorValues<S>,
      scratchHolds,
    );
    const higherSpecs = Object.entries(strategy.higherTimeframes ?? {}) as [Timeframe, IndicatorSpec][];
    this.higher = higherSpecs.map(([tf, spec]) => new HigherState(tf, spec));
    for (const h of this.higher) this.ctx.views[h.timeframe] = h;
  }

  /**
   * Takes one candle: the strategy's decision when it is a closed candle of the strategy's timeframe,
   * undefined otherwise (a higher-timeframe candle is kept for the decisions closing at or after it;
   * forming, revised and other candles are ignored). Throws InvalidDataError on out-of-order or duplicate
   * candles, a second symbol, or an indicator that throws.
   */
  onCandle(candle: Candle): Signal | undefined {
    if (!candle.closed || candle.revision > 0) return undefined;
    const label = this.label;
    if (candle.symbol !== this.symbol) {
      if (this.symbol !== undefined) {
        throw new InvalidDataError(
          `runStrategy(${label}): ${candle.symbol} candle in a stream of ${this.symbol}: one symbol per stream (group by symbol first)`,
        );
      }
      this.symbol = candle.symbol;
    }
    const t = candle.closeTimeMs;
    const higher = this.higher;
    const nHigher = higher.length;
    if (candle.timeframe !== this.mainTf) {
      for (let i = 0; i < nHigher; i++) {
        const h = higher[i] as HigherState;
        if (h.timeframe === candle.timeframe) {
          h.arrive(candle, this.lastMs, label);
          break;
        }
      }
      return undefined;
    }
    if (t <= this.lastMs) throw outOfOrder(label, candle, this.lastMs);
    this.lastMs = t;
    for (let i = 0; i < nHigher; i++) (higher[i] as HigherState).catchUp(t);
    // The values of the previous candle become `previous`; this candle's go in the other record.
    const current = this.previous;
    this.previous = this.current;
    this.current = current;
    this.update(current, this.indicators, candle);
    const ctx = this.ctx;
    ctx.previousCandle = ctx.candle;
    ctx.candle = candle;
    ctx.values = current as IndicatorValues<S>;
    ctx.previous = this.previous as IndicatorValues<S>;
    return this.decide(ctx, label, candle);
  }

  /**
   * The decision on `candle` with its indicator values given instead of computed: `values.value(name, 0)`
   * is an indicator's value after `candle`, `values.value(name, 1)` after `previousCandle` (the
   * main-timeframe candle before it; undefined for the first). For a caller that asks on some candles only (see
   * Strategy.candidates); the strategy sees what onCandle would have shown it. No order checks, no
   * higher timeframes (the strategy must have none), and the runner's own indicators are not updated.
   */
  decideAt(candle: Candle, previousCandle: Candle | undefined, values: DecisionValues): Signal {
    if (this.higher.length > 0) {
      throw new UsageError(`decideAt: strategy ${this.label} has higher timeframes; feed it with onCandle`);
    }
    const current = this.current;
    const previous = this.previous;
    this.copy(current, previous, values);
    const ctx = this.ctx;
    ctx.previousCandle = previousCandle;
    ctx.candle = candle;
    ctx.values = current as IndicatorValues<S>;
    ctx.previous = previous as IndicatorValues<S>;
    return this.decide(ctx, this.label, candle);
  }

  private decide(ctx: StrategyContext<S>, label: string, candle: Candle): Signal {
    let signal: Signal;
    try {
      signal = this.strategy.onCandle(ctx);
      checkSignal(signal, candle);
      if (this.lastError !== undefined) this.lastError = undefined;
    } catch (err) {
      const event = errorEvent(label, candle, err);
      signal = ctx.hold(`strategy error: ${event.message}`);
      this.lastError = event;
    }
    return signal;
  }
}

/** Indicator values by name, of a candle (`back` 0) or of the main-timeframe candle before it (1). */
export interface DecisionValues {
  value(name: string, back: 0 | 1): unknown;
}

/** One higher timeframe: its indicators, its last applied candle, and candles waiting for their time. */
class HigherState implements TimeframeView {
  candle: Candle | undefined = undefined;
  readonly values: Record<string, unknown>;
  private readonly names: string[];
  private readonly indicators: Indicator<unknown>[];
  private readonly pending: Candle[] = [];
  private lastMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly timeframe: Timeframe,
    spec: IndicatorSpec,
  ) {
    this.names = Object.keys(spec);
    this.indicators = this.names.map((k) => (spec[k] as () => Indicator<unknown>)());
    this.values = emptyValues(this.names);
  }

  /** A candle of this timeframe arrived; `mainMs` is the close time of the last main candle decided. */
  arrive(candle: Candle, mainMs: number, label: string): void {
    const last =
      this.pending.length > 0 ? (this.pending[this.pending.length - 1] as Candle).closeTimeMs : this.lastMs;
    if (candle.closeTimeMs <= last) throw outOfOrder(label, candle, last);
    if (candle.closeTimeMs <= mainMs) this.apply(candle);
    else this.pending.push(candle);
  }

  /** Applies the waiting candles that closed no later than `mainMs`. */
  catchUp(mainMs: number): void {
    const p = this.pending;
    if (p.length === 0 || (p[0] as Candle).closeTimeMs > mainMs) return;
    let k = 0;
    while (k < p.length && (p[k] as Candle).closeTimeMs <= mainMs) this.apply(p[k++] as Candle);
    p.splice(0, k);
  }

  private apply(candle: Candle): void {
    this.lastMs = candle.closeTimeMs;
    this.candle = candle;
    for (let i = 0; i < this.indicators.length; i++) {
      this.values[this.names[i] as string] = (this.indicators[i] as Indicator<unknown>).update(candle);
    }
  }
}

/** Writes each indicator's update for `candle` into `values` under the indicator's name. */
type ValuesUpdater = (
  values: Record<string, unknown>,
  indicators: readonly Indicator<unknown>[],
  candle: Candle,
) => void;

/**
 * The updater of one set of indicator names, compiled once per set: `values["fast"] = indicators[0].update(c);
 * …`. Every store has its name in the code, so V8 makes it a plain field store; the loop it replaces,
 * `values[names[i]] = …`, is one store site seeing every name, which V8 handles as a megamorphic keyed store
 * (measured: 7 % of an optimizer's time).
 */
function valuesUpdater(names: readonly string[]): ValuesUpdater {
  return perNames('update', names, ['v', 'ind', 'c'], (q, i) => `v[${q}] = ind[${i}].update(c);`);
}

type ValuesCopier = (
  current: Record<string, unknown>,
  previous: Record<string, unknown>,
  values: DecisionValues,
) => void;

/**
 * decideAt's copier of one set of indicator names, compiled the same way: `cur["fast"] = v.value("fast", 0);
 * prev["fast"] = v.value("fast", 1); …` (the loop over the names, a megamorphic keyed store again: a
 * parameter search ran ~2–5 % fewer instructions without it, measured with callgrind).
 */
function valuesCopier(names: readonly string[]): ValuesCopier {
  return perNames(
    'copy',
    names,
    ['cur', 'prev', 'v'],
    (q) => `cur[${q}] = v.value(${q}, 0);\nprev[${q}] = v.value(${q}, 1);`,
  );
}

const compiled = new Map<string, unknown>();

/**
 * A function of `params` made of one `line` per name (the name JSON-quoted into the source: any string is
 * safe), compiled once per kind and set of names.
 */
function perNames<F>(
  kind: string,
  names: readonly string[],
  params: readonly string[],
  line: (quoted: string, i: number) => string,
): F {
  const key = `${kind} ${JSON.stringify(names)}`;
  let f = compiled.get(key) as F | undefined;
  if (f === undefined) {
    const body = names.map((n, i) => line(JSON.stringify(n), i)).join('\n');
    f = new Function(...params, body) as F;
    compiled.set(key, f);
  }
  return f;
}

function emptyValues(names: readonly string[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const name of names) values[name] = undefined;
  return values;
}

function checkSignal(signal: Signal, candle: Candle): void {
  const a = signal.action;
  if (a !== 'hold' && a !== 'buy' && a !== 'sell') {
    throw new UsageError(`onCandle returned action ${String(a)}: use buy, sell or hold`);
  }
  if (!(signal.confidence >= 0 && signal.confidence <= 1)) {
    throw new UsageError(`onCandle returned confidence ${signal.confidence}: it must be from 0 to 1`);
  }
  if (signal.closeTimeMs !== candle.closeTimeMs || signal.timeframe !== candle.timeframe) {
    throw new UsageError('onCandle returned a signal for another candle: make it with ctx.buy/sell/hold');
  }
}

function errorEvent(strategy: string, candle: Candle, err: unknown): StrategyErrorEvent {
  const message = err instanceof Error ? err.message : String(err);
  const stack = err instanceof Error && err.stack !== undefined ? err.stack : message;
  return {
    type: 'strategy-error',
    strategy,
    symbol: candle.symbol,
    timeframe: candle.timeframe,
    closeTimeMs: candle.closeTimeMs,
    message,
    stack,
    error: err,
  };
}

function outOfOrder(label: string, candle: Candle, lastMs: number): InvalidDataError {
  return new InvalidDataError(
    `runStrategy(${label}): ${candle.symbol} ${candle.timeframe} candle closing at ${iso(candle.closeTimeMs)} ` +
      `arrived after ${iso(lastMs)}: input must be in time order without duplicates`,
  );
}
