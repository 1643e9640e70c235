import { Observable, type OperatorFunction } from 'rxjs';
import type { Candle } from '../domain/candle.js';
import { InvalidDataError, UsageError } from '../domain/errors.js';
import type { Indicator } from '../domain/indicators/indicator.js';
import type { Signal } from '../domain/signal.js';
import { timeframeMs, type Timeframe } from '../domain/timeframe.js';
import { StrategyContext, type Strategy, type TimeframeView } from '../strategies/strategy.js';
import type { IndicatorSpec, IndicatorValues } from './withIndicators.js';

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

export interface RunStrategyOptions {
  /**
   * Called with each strategy error, synchronously, before the hold that replaces the failed decision is
   * emitted. Without it the error is only visible in that hold's reason (`strategy error: …`).
   * A callback that throws errors the stream.
   */
  readonly onError?: (event: StrategyErrorEvent) => void;
}

/**
 * Runs a strategy on closed candles: one Signal per closed candle of the strategy's timeframe.
 *
 * <span class="informal">The indicators the strategy declares are computed here, incrementally, on fresh
 * instances per subscription; then the strategy decides. Every decision is emitted, holds included, so
 * downstream sees each one. A strategy that throws gives a hold and a strategy-error event; the stream
 * goes on.</span>
 *
 * ```
 * candles (1m, 15m):  --a--b--c--Q--d--|      Q = the 15m candle closing with c
 * runStrategy(s):     --A--B--C-----D--|      D is the first decision that can see Q
 * ```
 *
 * - Input: closed candles of ONE symbol, of the main timeframe and any higher ones the strategy declares
 *   (e.g. the output of `resampleCandles(['1m', '15m'])`), each timeframe in time order. Candles of other
 *   timeframes are ignored, and so are forming (`closed: false`) and revised (`revision` > 0) candles: a
 *   decision once made is never rewritten.
 * - Higher timeframes: a higher candle is used by the decisions on main candles closing at or after it
 *   closes, never earlier, whatever the order of arrival. With resampleCandles (which emits the 1m candle
 *   before the 15m candle it completes) the 15m candle closing at 09:15 is first seen at the 1m decision
 *   of 09:16.
 * - Out-of-order or duplicate candles of a used timeframe, a second symbol, or an indicator that throws,
 *   error the stream (InvalidDataError): those are data or code faults, not strategy decisions.
 * - Per candle: one update per declared indicator, one call to `onCandle`, no other allocation than the
 *   strategy's Signal.
 *
 * ```ts
 * const strategy = loadStrategyFile('config/strategies/ema_crossover.json').strategy;
 * candles$.pipe(runStrategy(strategy, { onError: (e) => log.error(e.stack) }));
 * ```
 *
 * @see Strategy
 */
export function runStrategy<S extends IndicatorSpec>(
  strategy: Strategy<S>,
  options: RunStrategyOptions = {},
): OperatorFunction<Candle, Signal> {
  const mainTf = strategy.timeframe;
  const mainMs = timeframeMs(mainTf);
  const names = Object.keys(strategy.indicators);
  const factories = names.map((n) => strategy.indicators[n] as () => Indicator<unknown>);
  const higherSpecs = Object.entries(strategy.higherTimeframes ?? {}) as [Timeframe, IndicatorSpec][];
  for (const [tf] of higherSpecs) {
    if (timeframeMs(tf) <= mainMs) {
      throw new UsageError(
        `strategy ${strategy.name}: higher timeframe ${tf} is not longer than its timeframe ${mainTf}`,
      );
    }
  }
  const onError = options.onError;
  const label = strategy.name;

  return (source) =>
    new Observable<Signal>((subscriber) => {
      const indicators = factories.map((f) => f());
      const n = indicators.length;
      let current = emptyValues(names);
      let previous = emptyValues(names);
      const ctx = new StrategyContext<S>(current as IndicatorValues<S>, previous as IndicatorValues<S>);
      const higher = higherSpecs.map(([tf, spec]) => new HigherState(tf, spec));
      for (const h of higher) ctx.views[h.timeframe] = h;
      const nHigher = higher.length;
      let symbol: string | undefined;
      let lastMs = Number.NEGATIVE_INFINITY;

      const decide = (candle: Candle): Signal => {
        let signal: Signal;
        try {
          signal = strategy.onCandle(ctx);
          checkSignal(signal, candle);
        } catch (err) {
          const event = errorEvent(label, candle, err);
          signal = ctx.hold(`strategy error: ${event.message}`);
          onError?.(event);
        }
        return signal;
      };

      return source.subscribe({
        next: (candle) => {
          if (!candle.closed || candle.revision > 0) return;
          let signal: Signal;
          try {
            if (candle.symbol !== symbol) {
              if (symbol !== undefined) {
                throw new InvalidDataError(
                  `runStrategy(${label}): ${candle.symbol} candle in a stream of ${symbol}: one symbol per stream (group by symbol first)`,
                );
              }
              symbol = candle.symbol;
            }
            const t = candle.closeTimeMs;
            if (candle.timeframe !== mainTf) {
              for (let i = 0; i < nHigher; i++) {
                const h = higher[i] as HigherState;
                if (h.timeframe === candle.timeframe) {
                  h.arrive(candle, lastMs, label);
                  break;
                }
              }
              return;
            }
            if (t <= lastMs) throw outOfOrder(label, candle, lastMs);
            lastMs = t;
            for (let i = 0; i < nHigher; i++) (higher[i] as HigherState).catchUp(t);
            // The values of the previous candle become `previous`; this candle's go in the other record.
            const swap = previous;
            previous = current;
            current = swap;
            for (let i = 0; i < n; i++) {
              current[names[i] as string] = (indicators[i] as Indicator<unknown>).update(candle);
            }
            ctx.previousCandle = ctx.candle;
            ctx.candle = candle;
            ctx.values = current as IndicatorValues<S>;
            ctx.previous = previous as IndicatorValues<S>;
            signal = decide(candle);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          subscriber.next(signal);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
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

function emptyValues(names: readonly string[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const name of names) values[name] = undefined;
  return values;
}

function checkSignal(signal: Signal, candle: Candle): void {
  const a = signal.action;
  if (a !== 'hold' && a !== 'buy' && a !== 'sell') {
    throw new TypeError(`onCandle returned action ${String(a)}: use buy, sell or hold`);
  }
  if (!(signal.confidence >= 0 && signal.confidence <= 1)) {
    throw new RangeError(`onCandle returned confidence ${signal.confidence}: it must be from 0 to 1`);
  }
  if (signal.closeTimeMs !== candle.closeTimeMs || signal.timeframe !== candle.timeframe) {
    throw new TypeError('onCandle returned a signal for another candle: make it with ctx.buy/sell/hold');
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

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
