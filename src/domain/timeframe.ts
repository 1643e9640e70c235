import { UsageError } from './errors.js';

/**
 * Timeframes rxtrade builds and stores. Every interval is aligned to multiples of its length since the
 * UTC epoch (so `1d` runs 00:00–24:00 UTC, `4h` starts at 00, 04, 08… UTC) and candles are stamped with
 * their CLOSE time: the `5m` candle stamped 09:05:00 holds trades with 09:00:00.000 ≤ ts < 09:05:00.000.
 */
export const TIMEFRAMES = ['1m', '5m', '15m', '1h', '4h', '1d'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];

export const MINUTE_MS = 60_000;

const TIMEFRAME_MS: Readonly<Record<Timeframe, number>> = Object.freeze({
  '1m': MINUTE_MS,
  '5m': 5 * MINUTE_MS,
  '15m': 15 * MINUTE_MS,
  '1h': 60 * MINUTE_MS,
  '4h': 240 * MINUTE_MS,
  '1d': 1440 * MINUTE_MS,
});

export function timeframeMs(timeframe: Timeframe): number {
  return TIMEFRAME_MS[timeframe];
}

export function isTimeframe(text: string): text is Timeframe {
  return (TIMEFRAMES as readonly string[]).includes(text);
}

/** Parses one timeframe name. `1H`/`4H` (OKX spelling) are accepted; `1M` is refused: OKX means a month. */
export function parseTimeframe(text: string): Timeframe {
  const t = text.trim();
  const normalized = /^[14]H$/.test(t) ? t.toLowerCase() : t;
  if (isTimeframe(normalized)) return normalized;
  throw new UsageError(`unknown timeframe "${text}": use one of ${TIMEFRAMES.join(', ')}`);
}

/** Parses `1m,5m,1h` into distinct timeframes, shortest first. */
export function parseTimeframeList(text: string): Timeframe[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length === 0) throw new UsageError(`no timeframe given: use some of ${TIMEFRAMES.join(', ')}`);
  return sortTimeframes(parts.map(parseTimeframe));
}

export function sortTimeframes(timeframes: readonly Timeframe[]): Timeframe[] {
  return [...new Set(timeframes)].sort((a, b) => TIMEFRAME_MS[a] - TIMEFRAME_MS[b]);
}

/** Close time of the interval of length `intervalMs` that contains the instant `tsMs`. */
export function closeTimeOf(tsMs: number, intervalMs: number): number {
  return Math.floor(tsMs / intervalMs) * intervalMs + intervalMs;
}

/** Close time of the `intervalMs` bucket that a smaller candle closing at `closeTimeMs` belongs to. */
export function bucketCloseOf(closeTimeMs: number, intervalMs: number): number {
  return Math.ceil(closeTimeMs / intervalMs) * intervalMs;
}

export function isAligned(timeMs: number, intervalMs: number): boolean {
  return timeMs % intervalMs === 0;
}
