import { InternalError } from '../domain/errors.js';
import { BAR_SPECS, bucketOpen, type BarSpec } from './bars.js';
import type { SimMarket, TakerOrder } from './market.js';
import { deriveSeed, Prng } from './prng.js';

export type ChannelKind = 'trades' | 'trades-all' | 'tickers' | 'books5' | 'candle';
export type WsPath = 'public' | 'business';

export interface ChannelInfo {
  readonly kind: ChannelKind;
  readonly path: WsPath;
  readonly spec?: BarSpec;
}

/** Which channels exist and on which URL (OKX moved candles and trades-all to /business). */
export function channelInfo(channel: string): ChannelInfo | undefined {
  switch (channel) {
    case 'trades':
      return { kind: 'trades', path: 'public' };
    case 'tickers':
      return { kind: 'tickers', path: 'public' };
    case 'books5':
      return { kind: 'books5', path: 'public' };
    case 'trades-all':
      return { kind: 'trades-all', path: 'business' };
  }
  const spec = channel.startsWith('candle') ? BAR_SPECS.get(channel.slice('candle'.length)) : undefined;
  return spec === undefined ? undefined : { kind: 'candle', path: 'business', spec };
}

/** A push as text, with what changed-detection needs. */
export interface Push {
  readonly text: string;
  /** Changes whenever the content does (tickers, books). */
  readonly sig: string;
}

const BOOK_LEVELS = 5;

/**
 * The text of every push, computed once per tick and instrument and shared by all connections (OKX sends
 * the same bytes to every subscriber; so do we, which also keeps `seqId`s identical across connections).
 */
export class Feeds {
  private cache = new Map<string, Push | undefined>();
  private readonly tradeSeq = new Map<string, number>();
  private readonly bookSeq = new Map<string, { sig: string; seq: number }>();

  constructor(
    private readonly markets: ReadonlyMap<string, SimMarket>,
    private readonly seed: number,
  ) {}

  /** Forgets the texts of the previous tick (their content may have changed since). */
  beginTick(): void {
    this.cache.clear();
  }

  /** One `trades` push per taker order: tradeId = the order's last id, count, summed size, seqId. */
  tradesPushes(market: SimMarket, orders: readonly TakerOrder[]): string[] {
    let seq = this.tradeSeq.get(market.instId) ?? 0;
    const texts = orders.map((o) => {
      const last = o.trades[o.trades.length - 1];
      if (last === undefined) throw new InternalError('empty taker order');
      seq += 1;
      return JSON.stringify({
        arg: { channel: 'trades', instId: market.instId },
        data: [
          {
            instId: market.instId,
            tradeId: last.sim.tradeId,
            px: last.sim.px,
            sz: market.formatLots(o.lots),
            side: last.side,
            ts: String(last.ts),
            count: String(o.trades.length),
            source: '0',
            seqId: seq,
          },
        ],
      });
    });
    this.tradeSeq.set(market.instId, seq);
    return texts;
  }

  /** One `trades-all` push per individual trade. */
  tradesAllPushes(market: SimMarket, orders: readonly TakerOrder[]): string[] {
    return orders.flatMap((o) =>
      o.trades.map((t) =>
        JSON.stringify({
          arg: { channel: 'trades-all', instId: market.instId },
          data: [
            {
              instId: market.instId,
              tradeId: t.sim.tradeId,
              px: t.sim.px,
              sz: t.sim.sz,
              side: t.side,
              ts: String(t.ts),
              source: '0',
            },
          ],
        }),
      ),
    );
  }

  /** The candle push of the bar opening at `openMs` (confirm "1" once the bar has closed). */
  candle(instId: string, channel: string, spec: BarSpec, openMs: number): Push | undefined {
    return this.cached(`${channel}|${instId}|${openMs}`, () => {
      const market = this.markets.get(instId);
      const bar = market?.bars.bar(spec, openMs);
      if (market === undefined || bar === undefined) return undefined;
      const row = market.candleRow(spec, bar);
      const text = JSON.stringify({ arg: { channel, instId }, data: [row] });
      return { text, sig: row.join(',') };
    });
  }

  /** Open time of the newest bar of this size (undefined before the first trade). */
  newestCandleOpen(instId: string, spec: BarSpec): number | undefined {
    const market = this.markets.get(instId);
    if (market === undefined) return undefined;
    const newest = market.bars.newestOpen(spec);
    return newest === undefined ? undefined : Math.max(newest, bucketOpen(spec, market.clockMs));
  }

  oldestCandleOpen(instId: string, spec: BarSpec): number | undefined {
    return this.markets.get(instId)?.bars.oldestOpen(spec);
  }

  ticker(instId: string): Push | undefined {
    return this.cached(`tickers|${instId}`, () => {
      const market = this.markets.get(instId);
      const data = market === undefined ? undefined : tickerData(market, this.seed);
      if (data === undefined) return undefined;
      return {
        text: JSON.stringify({ arg: { channel: 'tickers', instId }, data: [data] }),
        sig: data.ts + data.last,
      };
    });
  }

  books5(instId: string): Push | undefined {
    return this.cached(`books5|${instId}`, () => {
      const market = this.markets.get(instId);
      const book = market === undefined ? undefined : syntheticBook(market, this.seed);
      if (book === undefined || market === undefined) return undefined;
      const sig = `${book.asks[0]?.[0]}|${book.bids[0]?.[0]}|${market.lastTrade?.id}`;
      let seq = this.bookSeq.get(instId) ?? { sig: '', seq: 0 };
      if (seq.sig !== sig) this.bookSeq.set(instId, (seq = { sig, seq: seq.seq + 1 }));
      const data = { asks: book.asks, bids: book.bids, instId, ts: String(book.ts), seqId: seq.seq };
      return { text: JSON.stringify({ arg: { channel: 'books5', instId }, data: [data] }), sig };
    });
  }

  private cached(key: string, compute: () => Push | undefined): Push | undefined {
    if (this.cache.has(key)) return this.cache.get(key);
    const value = compute();
    this.cache.set(key, value);
    return value;
  }
}

export interface TickerData {
  readonly instType: 'SPOT';
  readonly instId: string;
  readonly last: string;
  readonly lastSz: string;
  readonly askPx: string;
  readonly askSz: string;
  readonly bidPx: string;
  readonly bidSz: string;
  readonly open24h: string;
  readonly high24h: string;
  readonly low24h: string;
  readonly volCcy24h: string;
  readonly vol24h: string;
  readonly sodUtc0: string;
  readonly sodUtc8: string;
  readonly ts: string;
}

/** OKX's ticker, from the trades (and the synthetic book for bid/ask). */
export function tickerData(market: SimMarket, seed: number): TickerData | undefined {
  const f = market.tickerFigures();
  const book = syntheticBook(market, seed);
  const last = market.lastTrade;
  if (f === undefined || book === undefined || last === undefined) return undefined;
  const [askPx = '', askSz = ''] = book.asks[0] ?? [];
  const [bidPx = '', bidSz = ''] = book.bids[0] ?? [];
  return {
    instType: 'SPOT',
    instId: market.instId,
    last: market.formatPx(f.last),
    lastSz: market.formatLots(f.lastLots),
    askPx,
    askSz,
    bidPx,
    bidSz,
    open24h: market.formatPx(f.open24h),
    high24h: market.formatPx(f.high24h),
    low24h: market.formatPx(f.low24h),
    volCcy24h: market.formatQuote(f.volCcy24h),
    vol24h: market.formatLots(f.vol24hLots),
    sodUtc0: market.formatPx(f.sodUtc0),
    sodUtc8: market.formatPx(f.sodUtc8),
    ts: String(last.ts),
  };
}

type Level = [string, string, string, string];

/**
 * Five made-up levels a tick apart on each side of the last price; sizes are seeded by the last trade id,
 * so the same trade always shows the same book.
 */
export function syntheticBook(
  market: SimMarket,
  seed: number,
): { asks: Level[]; bids: Level[]; ts: number } | undefined {
  const last = market.lastTrade;
  if (last === undefined) return undefined;
  const rng = new Prng(deriveSeed(seed, `${market.instId}#${last.id}`));
  const tick = Number(market.tickSz);
  const level = (px: number): Level => [
    market.formatPx(px),
    market.formatLots(rng.int(1, 5000) * Math.max(1, Math.round(1e-4 / Number(market.lotSz)))),
    '0',
    String(rng.int(1, 12)),
  ];
  const asks: Level[] = [];
  const bids: Level[] = [];
  for (let k = 1; k <= BOOK_LEVELS; k++) {
    asks.push(level(last.px + k * tick));
    if (last.px - k * tick > 0) bids.push(level(last.px - k * tick));
  }
  return { asks, bids, ts: Math.max(last.ts, market.clockMs) };
}
