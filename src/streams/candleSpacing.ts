import { TIMEFRAMES, timeframeMs, type Timeframe } from '../domain/timeframe.js';
import { iso } from '../domain/time.js';

/** CandleSpacing's state (JSON: no NaN, no undefined). */
export interface CandleSpacingState {
  readonly gcdMs: number;
  readonly gaps: number;
  readonly previousMs: number | null;
  readonly previousLine: number;
  readonly firstPair: {
    readonly fromMs: number;
    readonly toMs: number;
    readonly fromLine: number;
    readonly toLine: number;
  } | null;
}

/**
 * Which timeframe the rows of a candle file are spaced like, from the times alone.
 *
 * Every gap between consecutive candles of one timeframe is a whole number of its intervals, so the
 * greatest common divisor of all the gaps is a multiple of the file's real interval, and almost always
 * equal to it: one pair of adjacent candles is enough. Daily rows read as 1m candles are not misaligned
 * (midnight is a whole minute), they just never come closer than a day: this is how that is caught.
 *
 * A sparse file of the right timeframe (an illiquid market with no row for quiet intervals) can have only
 * gaps that happen to share a larger divisor. Treating its gaps as random whole numbers of intervals, k gaps
 * all multiples of r intervals happen by chance with probability r^-k, so `contradicts` waits for
 * r^k ≥ 10^6 (2 gaps for days read as minutes, 9 for 5m read as 1m) before calling the file wrong.
 */
export class CandleSpacing {
  private gcdMs = 0;
  private gaps = 0;
  /** The last row's time and line (NaN: none yet); numbers, not an object per row. */
  private previousMs = Number.NaN;
  private previousLine = 0;
  /** The first two rows: the example a message shows. */
  private firstPair:
    | { readonly fromMs: number; readonly toMs: number; readonly fromLine: number; readonly toLine: number }
    | undefined;

  /** Adds the next row (times strictly increasing; any consistent stamp: open or close). */
  add(timeMs: number, line: number): void {
    const prevMs = this.previousMs;
    const prevLine = this.previousLine;
    this.previousMs = timeMs;
    this.previousLine = line;
    if (Number.isNaN(prevMs)) return;
    const gap = timeMs - prevMs;
    if (!(gap > 0)) return; // the parser reports rows out of order
    // Every row of a file calls this: the usual gap, the gcd already, costs no division.
    if (gap !== this.gcdMs) this.gcdMs = gcd(this.gcdMs, gap);
    this.gaps += 1;
    this.firstPair ??= { fromMs: prevMs, toMs: timeMs, fromLine: prevLine, toLine: line };
  }

  /** What it has seen, as data (kept with a file's columns by the candle CSV cache). */
  snapshot(): CandleSpacingState {
    return {
      gcdMs: this.gcdMs,
      gaps: this.gaps,
      previousMs: Number.isNaN(this.previousMs) ? null : this.previousMs,
      previousLine: this.previousLine,
      firstPair: this.firstPair ?? null,
    };
  }

  /** Takes on what `snapshot` gave: as if it had seen those rows itself. */
  restore(state: CandleSpacingState): void {
    this.gcdMs = state.gcdMs;
    this.gaps = state.gaps;
    this.previousMs = state.previousMs ?? Number.NaN;
    this.previousLine = state.previousLine;
    this.firstPair = state.firstPair ?? undefined;
  }

  /** How many gaps (pairs of consecutive rows) were seen. */
  get pairs(): number {
    return this.gaps;
  }

  /** The longest timeframe every gap is a whole number of; undefined before two rows or below 1m. */
  timeframe(): Timeframe | undefined {
    if (this.gaps === 0) return undefined;
    let best: Timeframe | undefined;
    for (const tf of TIMEFRAMES) if (this.gcdMs % timeframeMs(tf) === 0) best = tf;
    return best;
  }

  /**
   * The timeframe the rows are really spaced like when the evidence says `timeframe` cannot be right,
   * else undefined.
   */
  contradicts(timeframe: Timeframe): Timeframe | undefined {
    const seen = this.timeframe();
    if (seen === undefined) return undefined;
    const ratio = timeframeMs(seen) / timeframeMs(timeframe);
    if (ratio <= 1) return undefined;
    return this.gaps * Math.log10(ratio) >= 6 ? seen : undefined;
  }

  /** `every row is a whole number of 1d apart (line 2 → line 3: 2021-01-01T00:00Z → 2021-01-02T00:00Z, …)`. */
  describe(): string {
    const p = this.firstPair;
    const tf = this.timeframe();
    if (p === undefined || tf === undefined) return '';
    const more = this.gaps - 1;
    return (
      `consecutive rows are always a whole number of ${tf} apart (line ${p.fromLine} → line ${p.toLine}: ` +
      `${iso(p.fromMs)} → ${iso(p.toMs)}${more > 0 ? `, and ${more} more pair${more === 1 ? '' : 's'} like it` : ''})`
    );
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const r = a % b;
    a = b;
    b = r;
  }
  return a;
}
