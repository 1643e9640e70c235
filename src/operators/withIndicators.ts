import { Observable, type OperatorFunction } from 'rxjs';
import type { Candle } from '../domain/candle.js';
import { InvalidDataError } from '../domain/errors.js';
import type { Indicator, IndicatorFactory } from '../domain/indicators/indicator.js';
import type { IndicatorSpec, IndicatorValues } from '../domain/indicators/spec.js';
import { iso } from '../domain/time.js';

export type { IndicatorSpec, IndicatorValueOf, IndicatorValues } from '../domain/indicators/spec.js';

export interface CandleWithIndicators<S extends IndicatorSpec> {
  readonly candle: Candle;
  readonly indicators: IndicatorValues<S>;
}

/**
 * Computes indicators on closed candles, per symbol and timeframe.
 *
 * <span class="informal">Each (symbol, timeframe) stream gets its own fresh indicators, fed only closed
 * candles in time order, so a value depends on that candle and earlier ones only: no look-ahead, no
 * repainting.</span>
 *
 * ```
 * candles:        --a--b--(c')--c--d--|      c' = forming (closed: false)
 * withIndicators: --A--B--------C--D--|      A = { candle: a, indicators: { sma: undefined, … } }
 * ```
 *
 * - One output per closed candle, emitted synchronously with it. Forming candles (`closed: false`) are
 *   ignored: they never touch the state. Revised candles (`revision` > 0) are ignored too: an indicator
 *   value, once emitted, is never rewritten.
 * - Candles are used as given: a gap is not filled (the next candle simply follows the previous one).
 * - A closed candle not after the previous one of its symbol and timeframe errors (InvalidDataError), as
 *   does an indicator that throws.
 *
 * ```ts
 * candles$.pipe(withIndicators({ fast: () => new Ema(12), slow: () => new Ema(26) }))
 *   .subscribe(({ candle, indicators }) => indicators.fast); // number | undefined
 * ```
 *
 * @see Indicator
 */
export function withIndicators<S extends IndicatorSpec>(
  spec: S,
): OperatorFunction<Candle, CandleWithIndicators<S>> {
  const names = Object.keys(spec);
  const factories = names.map((n) => spec[n] as IndicatorFactory);

  return (source) =>
    new Observable<CandleWithIndicators<S>>((subscriber) => {
      const states = new Map<string, SeriesState>();
      let lastKey = '';
      let last: SeriesState | undefined;

      return source.subscribe({
        next: (candle) => {
          if (!candle.closed || candle.revision > 0) return;
          let indicators: Record<string, unknown>;
          try {
            const key = `${candle.symbol}\u0000${candle.timeframe}`;
            let s = key === lastKey ? last : states.get(key);
            if (s === undefined) {
              s = { lastCloseTimeMs: Number.NEGATIVE_INFINITY, indicators: factories.map((f) => f()) };
              states.set(key, s);
            }
            lastKey = key;
            last = s;
            if (candle.closeTimeMs <= s.lastCloseTimeMs) {
              throw new InvalidDataError(
                `withIndicators: ${candle.symbol} ${candle.timeframe} candle closing at ${iso(candle.closeTimeMs)} ` +
                  `arrived after ${iso(s.lastCloseTimeMs)}: input must be in time order without duplicates`,
              );
            }
            s.lastCloseTimeMs = candle.closeTimeMs;
            indicators = {};
            const list = s.indicators;
            for (let i = 0; i < list.length; i++) {
              indicators[names[i] as string] = (list[i] as Indicator<unknown>).update(candle);
            }
          } catch (err) {
            subscriber.error(err);
            return;
          }
          subscriber.next({ candle, indicators: indicators as IndicatorValues<S> });
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}

interface SeriesState {
  lastCloseTimeMs: number;
  readonly indicators: readonly Indicator<unknown>[];
}
