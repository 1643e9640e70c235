import type { Observable } from 'rxjs';
import { filter, map, share, type Subscription } from 'rxjs';
import type { Bus } from '../bus/bus.js';
import { candleFromMessage, marketChannel } from '../bus/messages.js';
import type { Candle } from '../domain/candle.js';

/** 1m candles kept per symbol, so a bot (re)starting finds what is not in `market_data` yet. */
const RECENT = 1440;

/**
 * The live 1m candles of each symbol, ONE shared stream per symbol whatever the number of bots on it: the
 * bots resample them to their own timeframes (as backtests do), so every bot sees the same prices in the
 * same order. Only first emissions of closed 1m candles pass (`revision` 0: what a bot decided or filled
 * on is never rewritten).
 *
 * The source is the in-process collector (`collector.candles$`) or the bus (`market:{symbol}`, published by
 * a collector in another process): see `collectorCandles` and `busCandles`.
 */
export class CandleFeed {
  private readonly streams = new Map<string, Observable<Candle>>();
  private readonly recentBySymbol = new Map<string, Candle[]>();
  private readonly keepers = new Map<string, Subscription>();

  constructor(private readonly source: (symbol: string) => Observable<Candle>) {}

  /** The hot stream of `symbol`'s closed 1m candles (shared; the first subscriber connects it). */
  candles(symbol: string): Observable<Candle> {
    let stream = this.streams.get(symbol);
    if (stream === undefined) {
      stream = this.source(symbol).pipe(
        filter((c) => c.symbol === symbol && c.timeframe === '1m' && c.closed && c.revision === 0),
        share(),
      );
      this.streams.set(symbol, stream);
      // Keeps the recent candles (and the upstream subscription) while the feed lives.
      this.keepers.set(
        symbol,
        stream.subscribe((c) => {
          let list = this.recentBySymbol.get(symbol);
          if (list === undefined) this.recentBySymbol.set(symbol, (list = []));
          const last = list[list.length - 1];
          if (last !== undefined && c.closeTimeMs <= last.closeTimeMs) return;
          list.push(c);
          if (list.length > RECENT * 2) list.splice(0, list.length - RECENT);
        }),
      );
    }
    return stream;
  }

  /** The last candles seen of `symbol` (oldest first), at most a day of them. */
  recent(symbol: string): readonly Candle[] {
    return this.recentBySymbol.get(symbol) ?? [];
  }

  /** Close time of the newest candle seen of `symbol` (−∞: none yet). */
  lastCloseMs(symbol: string): number {
    const list = this.recentBySymbol.get(symbol);
    return list?.[list.length - 1]?.closeTimeMs ?? Number.NEGATIVE_INFINITY;
  }

  close(): void {
    for (const s of this.keepers.values()) s.unsubscribe();
    this.keepers.clear();
    this.streams.clear();
  }
}

/** The in-process collector's candles as a CandleFeed source. */
export function collectorCandles(candles$: Observable<Candle>): (symbol: string) => Observable<Candle> {
  return () => candles$;
}

/** `market:{symbol}` on the bus as a CandleFeed source (a collector running in another process). */
export function busCandles(bus: Bus): (symbol: string) => Observable<Candle> {
  return (symbol) =>
    bus.subscribe(marketChannel(symbol)).pipe(
      map((d) => d.message),
      filter((m) => m.type === 'candle'),
      map(candleFromMessage),
    );
}
