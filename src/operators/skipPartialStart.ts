import { filter, type MonoTypeOperatorFunction } from 'rxjs';
import { openTimeMs, type Candle } from '../domain/candle.js';

export interface SkipPartialStartOptions {
  /** Told about every candle dropped. */
  readonly onSkip?: (candle: Candle) => void;
  /**
   * Asked once per symbol, at its first candle: the open time from which this stream's candles of the symbol
   * are known to be whole, when the caller knows better than the stream (a restarted collector that fetched
   * the trades it missed and seeded the 5m…1d buckets with the candles it had stored). Undefined: the
   * default rule.
   */
  readonly wholeFromMs?: (symbol: string, first: Candle) => number | undefined;
}

/**
 * Drops, per symbol, the candles a live stream cannot have seen whole: the first 1m candle (the stream
 * started somewhere inside it) and every higher-timeframe candle whose interval opened before the first
 * whole minute. Without it, a collector (re)started at 12:20 would store a 13:00 1h candle holding only
 * 40 minutes of trades — and overwrite the complete one an earlier run stored.
 *
 * With `wholeFromMs`, the candles kept are those opening at or after the time it gives: a restarted
 * collector that resumed where it stopped keeps its first minute and the 5m…1d candles spanning the restart.
 *
 * ```
 * input (1m, 5m):  --a(1m)--b(2m)--c(3m)--d(4m)--e(5m) E5(5m)--f(6m)--|
 * skipPartialStart: ---------b------c------d------e------------f------|
 * ```
 *
 * Input: closed candles of one stream, 1m first per symbol (as `resampleCandles` emits them).
 */
export function skipPartialStart(
  options: SkipPartialStartOptions | ((candle: Candle) => void) = {},
): MonoTypeOperatorFunction<Candle> {
  const { onSkip, wholeFromMs } =
    typeof options === 'function' ? { onSkip: options, wholeFromMs: undefined } : options;
  return (source) => {
    // Per symbol: the open time of the first whole minute.
    const firstWhole = new Map<string, number>();
    return source.pipe(
      filter((candle) => {
        let from = firstWhole.get(candle.symbol);
        if (from === undefined) {
          // The first candle of a symbol closes the interval the stream started in: whole ones open after it.
          from = wholeFromMs?.(candle.symbol, candle) ?? candle.closeTimeMs;
          firstWhole.set(candle.symbol, from);
        }
        const keep = openTimeMs(candle) >= from;
        if (!keep) onSkip?.(candle);
        return keep;
      }),
    );
  };
}
