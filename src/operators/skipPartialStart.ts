import { filter, type MonoTypeOperatorFunction } from 'rxjs';
import { openTimeMs, type Candle } from '../domain/candle.js';

/**
 * Drops, per symbol, the candles a live stream cannot have seen whole: the first 1m candle (the stream
 * started somewhere inside it) and every higher-timeframe candle whose interval opened before the first
 * whole minute. Without it, a collector (re)started at 12:20 would store a 13:00 1h candle holding only
 * 40 minutes of trades — and overwrite the complete one an earlier run stored.
 *
 * Input: closed candles of one stream, 1m first per symbol (as `resampleCandles` emits them).
 */
export function skipPartialStart(onSkip?: (candle: Candle) => void): MonoTypeOperatorFunction<Candle> {
  return (source) => {
    // Per symbol: the open time of the first whole minute.
    const firstWhole = new Map<string, number>();
    return source.pipe(
      filter((candle) => {
        let from = firstWhole.get(candle.symbol);
        if (from === undefined) {
          // The first candle of a symbol closes the interval the stream started in: whole ones open after it.
          from = candle.closeTimeMs;
          firstWhole.set(candle.symbol, from);
        }
        const keep = openTimeMs(candle) >= from;
        if (!keep) onSkip?.(candle);
        return keep;
      }),
    );
  };
}
