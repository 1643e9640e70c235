import type { Candle } from '../domain/candle.js';
import { MINUTE_MS } from '../domain/timeframe.js';
import { okxCandle } from '../streams/okx/okxCandle.js';
import type { Logger } from '../infra/logger.js';
import { OkxRestClient } from '../streams/okx/rest.js';
import type { BookTop, MarketTicker, ScanExchange } from './exchange.js';

/** `BTC/USDT` → `BTC-USDT`. */
export const okxInstId = (symbol: string): string => symbol.replace('/', '-');

/**
 * The scanner's view of OKX (or its simulator) through the native REST client: instruments + tickers for
 * the universe, `candles` for 1m bars, `books` for the top 5. The client paces requests by OKX's limits.
 */
export class OkxScanExchange implements ScanExchange {
  private readonly rest: OkxRestClient;

  constructor(
    readonly name: string,
    baseUrl: string,
    logger?: Logger,
    /** The clock rate limits are counted on (the simulator's with --sim). Default Date.now. */
    now?: () => number,
  ) {
    this.rest = new OkxRestClient({
      baseUrl,
      ...(logger === undefined ? {} : { logger }),
      ...(now === undefined ? {} : { now }),
    });
  }

  async tickers(signal?: AbortSignal): Promise<MarketTicker[]> {
    const call = signal === undefined ? {} : { signal };
    const [instruments, tickers] = await Promise.all([
      this.rest.instruments('SPOT', undefined, call),
      this.rest.tickers('SPOT', call),
    ]);
    const live = new Map(instruments.filter((i) => i.state === 'live').map((i) => [i.instId, i]));
    const out: MarketTicker[] = [];
    for (const t of tickers) {
      const inst = live.get(t.instId);
      if (inst === undefined) continue;
      const [base = inst.baseCcy ?? '', quote = inst.quoteCcy ?? ''] = t.instId.split('-');
      out.push({
        symbol: `${base}/${quote}`,
        base,
        quote,
        volume24h: Number(t.volCcy24h),
        bid: t.bidPx === '' ? Number.NaN : Number(t.bidPx),
        ask: t.askPx === '' ? Number.NaN : Number(t.askPx),
        last: Number(t.last),
      });
    }
    return out.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  }

  async candles(symbol: string, limit: number, untilMs?: number, signal?: AbortSignal): Promise<Candle[]> {
    // `after` is exclusive on the open time: bars opening before it, so closing at or before untilMs.
    const rows = await this.rest.candles(
      okxInstId(symbol),
      '1m',
      {
        limit: Math.min(300, limit + 1),
        ...(untilMs === undefined ? {} : { after: untilMs - MINUTE_MS + 1 }),
      },
      signal === undefined ? {} : { signal },
    );
    const out: Candle[] = [];
    for (let i = rows.length - 1; i >= 0; i--) {
      const r = rows[i];
      if (r === undefined || !r.confirmed) continue;
      // A volume says the minute traded (the scanner's empty-minute check); OKX gives no trade count.
      out.push({ ...okxCandle(symbol, r), tradesCount: r.volume > 0 ? 1 : 0 });
    }
    return out.slice(-limit);
  }

  async book(symbol: string, signal?: AbortSignal): Promise<BookTop | undefined> {
    const row = await this.rest.books(okxInstId(symbol), 5, signal === undefined ? {} : { signal });
    if (row === undefined) return undefined;
    const levels = (side: string[][]): [number, number][] => side.map((l) => [Number(l[0]), Number(l[1])]);
    return { bids: levels(row.bids), asks: levels(row.asks) };
  }
}
