import type { Candle } from '../domain/candle.js';
import { bucketCloseOf, MINUTE_MS, timeframeMs, type Timeframe } from '../domain/timeframe.js';
import type { StoredEnd } from '../operators/mergeExchangeCandles.js';

/** How a restarted collector continues one symbol's stored history (see planRestart). */
export interface RestartPlan {
  readonly symbol: string;
  /** Close time of the newest stored 1m candle: the trades from here on are fetched before the live ones. */
  readonly resumeFromMs: number;
  /** That candle's close time and close (quiet minutes after it carry the close). */
  readonly storedEnd: StoredEnd;
  /**
   * The stored 1m candles of the 5m…1d buckets still open at `resumeFromMs`, oldest first, without a hole up
   * to it: they seed the resampler, so the first 5m…1d candles after the restart hold their whole interval.
   */
  readonly seed: readonly Candle[];
  /**
   * Open time from which the stored 1m candles run without a hole up to `resumeFromMs`: a 5m…1d candle
   * spanning the restart is whole when it opens at or after this.
   */
  readonly wholeFromMs: number;
}

/**
 * The close times (`fromMs` inclusive, `toMs` exclusive) of the stored 1m candles a restart needs after the
 * newest one closing at `newestCloseMs`: those of the largest timeframe's bucket still open then.
 */
export function restartSeedRange(
  newestCloseMs: number,
  timeframes: readonly Timeframe[],
): { readonly fromMs: number; readonly toMs: number } {
  const largest = timeframes.reduce((m, tf) => Math.max(m, timeframeMs(tf)), MINUTE_MS);
  const bucketOpen = bucketCloseOf(newestCloseMs + MINUTE_MS, largest) - largest;
  return { fromMs: Math.min(bucketOpen + MINUTE_MS, newestCloseMs), toMs: newestCloseMs + 1 };
}

/**
 * Plans a restart from what is stored: `stored` are the symbol's 1m candles in `restartSeedRange` (any
 * order), the newest closing at `newestCloseMs`. Undefined when that candle is not among them.
 *
 * ```
 * stored 1m:  10:01 10:02 ·hole· 10:04 10:05 10:06 10:07   (newest 10:07; restarted at 10:09:30)
 * plan:       resumeFromMs 10:07, seed 10:04…10:07, wholeFromMs 10:03
 *             → the 10:10 5m candle (10:05–10:10) is whole; the 11:00 1h candle (10:00–11:00) is not.
 * ```
 */
export function planRestart(
  symbol: string,
  newestCloseMs: number,
  stored: readonly Candle[],
  timeframes: readonly Timeframe[],
): RestartPlan | undefined {
  const { fromMs } = restartSeedRange(newestCloseMs, timeframes);
  const byClose = new Map<number, Candle>();
  for (const c of stored) {
    if (c.symbol === symbol && c.timeframe === '1m' && c.closed) byClose.set(c.closeTimeMs, c);
  }
  const newest = byClose.get(newestCloseMs);
  if (newest === undefined) return undefined;
  const seed: Candle[] = [];
  for (let t = newestCloseMs; t >= fromMs; t -= MINUTE_MS) {
    const c = byClose.get(t);
    if (c === undefined) break;
    seed.push(c);
  }
  seed.reverse();
  return {
    symbol,
    resumeFromMs: newestCloseMs,
    storedEnd: { closeTimeMs: newestCloseMs, close: newest.close },
    seed,
    wholeFromMs: (seed[0] as Candle).closeTimeMs - MINUTE_MS,
  };
}
