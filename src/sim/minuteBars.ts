import { bucketOpen, type BarSpec } from './bars.js';

/** One aggregated bar in live time; volume in lots (exact), quote volume in quote currency. */
export interface Bar {
  readonly openMs: number;
  readonly o: number;
  readonly h: number;
  readonly l: number;
  readonly c: number;
  readonly lots: number;
  readonly quote: number;
}

interface MutableBar {
  openMs: number;
  /** Trades in this minute: a quiet bar takes its prices from the first trade that arrives after all. */
  trades: number;
  o: number;
  h: number;
  l: number;
  c: number;
  lots: number;
  quote: number;
}

const MINUTE = 60_000;

/**
 * The 1m bars of one instrument in live time, contiguous from the minute of its first trade: a minute
 * without trades gets a bar with OHLC = previous close and volume 0, as OKX does. Every bigger bar is
 * aggregated from these on demand, so all bar sizes agree with each other and with the trades.
 */
export class MinuteBars {
  private readonly bars: MutableBar[] = [];

  constructor(private readonly lotSize: number) {}

  get firstOpenMs(): number | undefined {
    return this.bars[0]?.openMs;
  }

  /** Adds a trade; trades must come in time order. */
  add(tsMs: number, px: number, lots: number): void {
    const open = Math.floor(tsMs / MINUTE) * MINUTE;
    this.rollTo(open);
    let bar = this.bars[this.bars.length - 1];
    if (bar === undefined) {
      bar = { openMs: open, trades: 0, o: px, h: px, l: px, c: px, lots: 0, quote: 0 };
      this.bars.push(bar);
    }
    if (bar.trades === 0) {
      bar.o = px;
      bar.h = px;
      bar.l = px;
    }
    bar.trades += 1;
    bar.h = Math.max(bar.h, px);
    bar.l = Math.min(bar.l, px);
    bar.c = px;
    bar.lots += lots;
    bar.quote += px * lots * this.lotSize;
  }

  /** Makes sure quiet minutes up to the one containing `tsMs` have their bars (after the first trade). */
  rollTo(tsMs: number): void {
    const last = this.bars[this.bars.length - 1];
    if (last === undefined) return;
    const target = Math.floor(tsMs / MINUTE) * MINUTE;
    for (let open = last.openMs + MINUTE; open <= target; open += MINUTE) {
      const prev = this.bars[this.bars.length - 1] as MutableBar;
      this.bars.push({
        openMs: open,
        trades: 0,
        o: prev.c,
        h: prev.c,
        l: prev.c,
        c: prev.c,
        lots: 0,
        quote: 0,
      });
    }
  }

  /** Open time of the newest bar of size `spec` (the one holding the newest 1m bar). */
  newestOpen(spec: BarSpec): number | undefined {
    const last = this.bars[this.bars.length - 1];
    return last === undefined ? undefined : bucketOpen(spec, last.openMs);
  }

  /** Open time of the oldest bar of size `spec`. */
  oldestOpen(spec: BarSpec): number | undefined {
    const first = this.bars[0];
    return first === undefined ? undefined : bucketOpen(spec, first.openMs);
  }

  /**
   * The bar of size `spec` opening at `openMs` (a bucket boundary), or undefined when it has no minute yet.
   * Its OHLC are those of the trades inside it (a quiet first minute does not set the open); a bucket
   * without any trade is a quiet bar at the previous close.
   */
  bar(spec: BarSpec, openMs: number): Bar | undefined {
    const first = this.bars[0];
    if (first === undefined) return undefined;
    const from = Math.max(0, (openMs - first.openMs) / MINUTE);
    const to = Math.min(this.bars.length, (openMs + spec.ms - first.openMs) / MINUTE);
    if (from >= to) return undefined;
    const head = this.bars[from] as MutableBar;
    if (to - from === 1 && spec.ms === MINUTE) return head;
    let out: MutableBar | undefined;
    for (let i = from; i < to; i++) {
      const b = this.bars[i] as MutableBar;
      if (b.trades === 0) continue;
      if (out === undefined) {
        out = { ...b, openMs };
        continue;
      }
      out.h = Math.max(out.h, b.h);
      out.l = Math.min(out.l, b.l);
      out.c = b.c;
      out.lots += b.lots;
      out.quote += b.quote;
      out.trades += b.trades;
    }
    return out ?? { ...head, openMs };
  }

  /** The 1m bars opening at or after `fromMs` (for rolling 24-hour figures). */
  since(fromMs: number): readonly Bar[] {
    const first = this.bars[0];
    if (first === undefined) return [];
    return this.bars.slice(Math.max(0, Math.ceil((fromMs - first.openMs) / MINUTE)));
  }
}
