import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import type { Candle } from '../domain/candle.js';
import { MINUTE_MS } from '../domain/timeframe.js';

/** Where a symbol's stored history ends: the close time and close price of its newest stored 1m candle. */
export interface StoredEnd {
  readonly closeTimeMs: number;
  readonly close: number;
}

export interface MergeExchangeCandlesOptions {
  /**
   * Asked at a symbol's first candle: where its stored history ends, when this stream continues it without
   * a hole (a restarted collector that got every trade since). The minutes in between that had no trade,
   * which no trade could close, are emitted as quiet candles carrying the stored close.
   */
  readonly continues?: (symbol: string) => StoredEnd | undefined;
}

/** OKX minutes remembered per symbol (to drop our partial candles for them): two days. */
const REMEMBERED_MINUTES = 2 * 24 * 60;

/**
 * Merges 1m candles built from trades with OKX's own 1m candles for minutes whose trades were lost
 * (`source: 'okx_candles'`), arriving interleaved, into one stream in time order per symbol, as
 * `resampleCandles` needs, so the exchange's candles feed the 5m…1d candles too.
 *
 * <span class="informal">An OKX candle holds every trade of its minute; ours, for such a minute, only the
 * trades we saw (or none: a quiet minute the clock closed while the trades waited). So OKX's wins.</span>
 *
 * ```
 * input:  --a(1m)--b(2m)--X(2m, okx)--Y(3m, okx)--c(3m)--d(4m)--|
 * output: --a------b------X'(rev 1)---Y--------------------d-----|
 * ```
 *
 * - A candle for a new minute passes.
 * - An OKX candle for a minute already passed comes out as a revision (`revision` ≥ 1): `resampleCandles`
 *   rebuilds the higher buckets it belongs to.
 * - A candle built from trades for a minute OKX's candle already gave is dropped.
 * - Any other candle for a minute already passed (a late-trade revision) passes, as a revision.
 *
 * @see resampleCandles
 */
export function mergeExchangeCandles(
  options: MergeExchangeCandlesOptions = {},
): MonoTypeOperatorFunction<Candle> {
  return (source) =>
    new Observable<Candle>((subscriber) => {
      const states = new Map<string, { last: number; okx: Set<number> }>();
      return source.subscribe({
        next: (c) => {
          if (!c.closed) return;
          let s = states.get(c.symbol);
          if (s === undefined) {
            s = { last: Number.NEGATIVE_INFINITY, okx: new Set() };
            states.set(c.symbol, s);
            let end: StoredEnd | undefined;
            try {
              end = options.continues?.(c.symbol);
            } catch (err) {
              subscriber.error(err);
              return;
            }
            if (end !== undefined) {
              s.last = end.closeTimeMs;
              for (let t = end.closeTimeMs + MINUTE_MS; t < c.closeTimeMs; t += MINUTE_MS) {
                subscriber.next(quiet(c.symbol, t, end.close));
              }
              if (c.closeTimeMs > end.closeTimeMs) s.last = c.closeTimeMs - MINUTE_MS;
            }
          }
          const fromOkx = c.source === 'okx_candles';
          if (c.closeTimeMs > s.last) {
            s.last = c.closeTimeMs;
            if (fromOkx) remember(s.okx, c.closeTimeMs);
            subscriber.next(c);
          } else if (fromOkx) {
            remember(s.okx, c.closeTimeMs);
            subscriber.next({ ...c, revision: Math.max(1, c.revision) });
          } else if (!s.okx.has(c.closeTimeMs)) {
            subscriber.next(c.revision > 0 ? c : { ...c, revision: 1 });
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}

function remember(okx: Set<number>, closeTimeMs: number): void {
  okx.add(closeTimeMs);
  if (okx.size <= REMEMBERED_MINUTES) return;
  for (const t of okx) {
    if (okx.size <= REMEMBERED_MINUTES) break;
    okx.delete(t); // the oldest first: a Set iterates in insertion order
  }
}

function quiet(symbol: string, closeTimeMs: number, close: number): Candle {
  return {
    symbol,
    timeframe: '1m',
    closeTimeMs,
    open: close,
    high: close,
    low: close,
    close,
    volume: 0,
    tradesCount: 0,
    closed: true,
    revision: 0,
  };
}
