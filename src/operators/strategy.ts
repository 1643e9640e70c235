import { Observable, type OperatorFunction } from 'rxjs';
import type { Candle } from '../domain/candle.js';
import type { Signal } from '../domain/signal.js';
import { checkStrategy, StrategyRunner, type StrategyErrorEvent } from '../strategies/runner.js';
import type { Strategy } from '../strategies/strategy.js';
import type { IndicatorSpec } from '../domain/indicators/spec.js';

export type { StrategyErrorEvent } from '../strategies/runner.js';

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
 *   strategy's Signal (the work is StrategyRunner's, which `tradeStrategy` runs too).
 *
 * ```ts
 * const strategy = loadStrategyFile('config/strategies/ema_crossover.json').strategy;
 * candles$.pipe(runStrategy(strategy, { onError: (e) => log.error(e.stack) }));
 * ```
 *
 * @see Strategy
 * @see tradeStrategy
 */
export function runStrategy<S extends IndicatorSpec>(
  strategy: Strategy<S>,
  options: RunStrategyOptions = {},
): OperatorFunction<Candle, Signal> {
  checkStrategy(strategy);
  const onError = options.onError;
  return (source) =>
    new Observable<Signal>((subscriber) => {
      const runner = new StrategyRunner(strategy);
      return source.subscribe({
        next: (candle) => {
          let signal: Signal | undefined;
          try {
            signal = runner.onCandle(candle);
            if (signal === undefined) return;
            if (runner.lastError !== undefined) onError?.(runner.lastError);
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
