/** Missing intervals between two consecutive candles of one timeframe (never filled: inventing prices is the caller's decision). */
export interface CandleGap {
  readonly afterCloseTimeMs: number;
  readonly beforeCloseTimeMs: number;
  /** Whole candles missing in between. */
  readonly missing: number;
}

/** The gap between consecutive candles closing at `prevCloseMs` and `closeMs`, or undefined when they follow on. */
export function gapBetween(prevCloseMs: number, closeMs: number, intervalMs: number): CandleGap | undefined {
  if (closeMs - prevCloseMs <= intervalMs) return undefined;
  return {
    afterCloseTimeMs: prevCloseMs,
    beforeCloseTimeMs: closeMs,
    missing: (closeMs - prevCloseMs) / intervalMs - 1,
  };
}

/** Consecutive candles further apart than one interval. */
export function findGaps(
  candles: readonly { readonly closeTimeMs: number }[],
  intervalMs: number,
): CandleGap[] {
  const gaps: CandleGap[] = [];
  for (let i = 1; i < candles.length; i++) {
    const a = candles[i - 1] as { readonly closeTimeMs: number };
    const b = candles[i] as { readonly closeTimeMs: number };
    const gap = gapBetween(a.closeTimeMs, b.closeTimeMs, intervalMs);
    if (gap !== undefined) gaps.push(gap);
  }
  return gaps;
}
