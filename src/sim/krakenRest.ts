import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatDecimal } from './decimal.js';
import { deriveSeed, Prng } from './prng.js';
import type { KrakenPair } from './krakenNames.js';
import { krakenAsset } from './krakenNames.js';
import type { SimTrade } from './market.js';

/** What the Kraken REST dialect reads: the pairs, their steps, and the simulator's trades. */
export interface KrakenRestHost {
  readonly pairs: readonly (KrakenPair & { readonly tickSz: string; readonly lotSz: string })[];
  now(): number;
  /** Trades after a trade id (all kept ones when undefined), oldest first. */
  tradesAfter(instId: string, afterId?: number): readonly SimTrade[];
  /** The newest trade (undefined before the first). */
  lastTrade(instId: string): SimTrade | undefined;
}

/** A Kraken error answer: `{"error": ["EQuery:Unknown asset pair"], "result": {}}` (HTTP 200, as Kraken does). */
class KrakenError extends Error {}

type Handler = (q: URLSearchParams, host: KrakenRestHost) => unknown;

const ENDPOINTS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  [
    '/0/public/Time',
    (_q, h) => ({ unixtime: Math.floor(h.now() / 1000), rfc1123: new Date(h.now()).toUTCString() }),
  ],
  ['/0/public/SystemStatus', (_q, h) => ({ status: 'online', timestamp: new Date(h.now()).toISOString() })],
  ['/0/public/Assets', assets],
  ['/0/public/AssetPairs', assetPairs],
  ['/0/public/Ticker', ticker],
  ['/0/public/OHLC', ohlc],
  ['/0/public/Trades', trades],
  ['/0/public/Depth', depth],
]);

/** Kraken's public REST API (`/0/public/…`) over the simulator's instruments: GET only, `{error, result}`. */
export function krakenRestHandler(host: KrakenRestHost): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const handle = ENDPOINTS.get(url.pathname);
    if (handle === undefined) return reply(res, 404, { error: ['EGeneral:Unknown method'] });
    try {
      reply(res, 200, { error: [], result: handle(url.searchParams, host) });
    } catch (err) {
      if (err instanceof KrakenError) return reply(res, 200, { error: [err.message] });
      reply(res, 500, { error: ['EService:Internal error'] });
    }
  };
}

function reply(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const decimalsOf = (step: string): number => (step.includes('.') ? (step.split('.')[1] ?? '').length : 0);

function pairOf(q: URLSearchParams, host: KrakenRestHost): KrakenRestHost['pairs'][number] {
  const id = q.get('pair');
  if (id === null || id === '') throw new KrakenError('EGeneral:Invalid arguments');
  const pair = host.pairs.find((p) => p.pairId === id || p.wsname === id || p.wsSymbol === id);
  if (pair === undefined) throw new KrakenError('EQuery:Unknown asset pair');
  return pair;
}

function assets(_q: URLSearchParams, host: KrakenRestHost): Record<string, object> {
  const out: Record<string, object> = {};
  for (const p of host.pairs) {
    for (const ccy of [p.wsSymbol.split('/')[0] ?? '', p.wsSymbol.split('/')[1] ?? '']) {
      const a = krakenAsset(ccy);
      out[a.id] = {
        aclass: 'currency',
        altname: a.altname,
        decimals: 10,
        display_decimals: 5,
        status: 'enabled',
      };
    }
  }
  return out;
}

function assetPairs(q: URLSearchParams, host: KrakenRestHost): Record<string, object> {
  const wanted = q.get('pair')?.split(',');
  const out: Record<string, object> = {};
  for (const p of host.pairs) {
    if (wanted !== undefined && !wanted.includes(p.pairId)) continue;
    out[p.pairId] = {
      altname: p.pairId,
      wsname: p.wsname,
      aclass_base: 'currency',
      base: p.base,
      aclass_quote: 'currency',
      quote: p.quote,
      lot: 'unit',
      cost_decimals: 5,
      pair_decimals: decimalsOf(p.tickSz),
      lot_decimals: decimalsOf(p.lotSz),
      lot_multiplier: 1,
      leverage_buy: [],
      leverage_sell: [],
      fees: [[0, 0.4]],
      fees_maker: [[0, 0.25]],
      fee_volume_currency: 'ZUSD',
      margin_call: 80,
      margin_stop: 40,
      ordermin: p.lotSz,
      costmin: '0.5',
      tick_size: p.tickSz,
      status: 'online',
    };
  }
  return out;
}

const DAY_MS = 86_400_000;

/** Kraken's ticker fields from the last 24 h of trades; the book is one tick either side of the last price. */
function ticker(q: URLSearchParams, host: KrakenRestHost): Record<string, object> {
  const ids = q.get('pair')?.split(',');
  const out: Record<string, object> = {};
  for (const p of host.pairs) {
    if (ids !== undefined && !ids.includes(p.pairId)) continue;
    const day = host.tradesAfter(p.instId).filter((t) => t.ts > host.now() - DAY_MS);
    const last = day[day.length - 1];
    if (last === undefined) continue;
    const px = day.map((t) => Number(t.px));
    const volume = day.reduce((s, t) => s + Number(t.sz), 0);
    const vwap = day.reduce((s, t) => s + Number(t.px) * Number(t.sz), 0) / (volume || 1);
    const d = decimalsOf(p.tickSz);
    const tick = Number(p.tickSz);
    const fmt = (n: number): string => formatDecimal(n, d);
    const vol = formatDecimal(volume, 8);
    out[p.pairId] = {
      a: [fmt(Number(last.px) + tick), '1', '1.000'],
      b: [fmt(Number(last.px) - tick), '1', '1.000'],
      c: [last.px, last.sz],
      v: [vol, vol],
      p: [fmt(vwap), fmt(vwap)],
      t: [day.length, day.length],
      l: [fmt(Math.min(...px)), fmt(Math.min(...px))],
      h: [fmt(Math.max(...px)), fmt(Math.max(...px))],
      o: day[0]?.px,
    };
  }
  return out;
}

const INTERVALS = new Set([1, 5, 15, 30, 60, 240, 1440, 10080, 21600]);

/** Candles of `interval` minutes from the trades, oldest first (the newest, still open, last), at most 720. */
function ohlc(q: URLSearchParams, host: KrakenRestHost): Record<string, unknown> {
  const pair = pairOf(q, host);
  const interval = Number(q.get('interval') ?? '1');
  if (!INTERVALS.has(interval)) throw new KrakenError('EGeneral:Invalid arguments:interval');
  const sinceSec = q.get('since') === null ? undefined : Number(q.get('since'));
  const ms = interval * 60_000;
  const rows: (string | number)[][] = [];
  let bucket: { open: number; trades: SimTrade[] } | undefined;
  const flush = (): void => {
    if (bucket === undefined) return;
    const px = bucket.trades.map((t) => Number(t.px));
    const vol = bucket.trades.reduce((s, t) => s + Number(t.sz), 0);
    const vwap = bucket.trades.reduce((s, t) => s + Number(t.px) * Number(t.sz), 0) / (vol || 1);
    const d = decimalsOf(pair.tickSz);
    rows.push([
      bucket.open / 1000,
      bucket.trades[0]?.px ?? '0',
      formatDecimal(Math.max(...px), d),
      formatDecimal(Math.min(...px), d),
      bucket.trades[bucket.trades.length - 1]?.px ?? '0',
      formatDecimal(vwap, d),
      formatDecimal(vol, 8),
      bucket.trades.length,
    ]);
  };
  for (const t of host.tradesAfter(pair.instId)) {
    const open = t.ts - (t.ts % ms);
    if (bucket?.open !== open) {
      flush();
      bucket = { open, trades: [] };
    }
    bucket.trades.push(t);
  }
  flush();
  const after = sinceSec === undefined ? rows : rows.filter((r) => (r[0] as number) > sinceSec);
  const newest = after.slice(-720);
  const committed = newest.length > 1 ? (newest[newest.length - 2]?.[0] as number) : 0;
  return { [pair.pairId]: newest, last: committed };
}

/** Trades after `since` (seconds, or nanoseconds as Kraken's `last`), oldest first, at most `count` (≤ 1000). */
function trades(q: URLSearchParams, host: KrakenRestHost): Record<string, unknown> {
  const pair = pairOf(q, host);
  const count = Math.min(1000, Math.max(1, Number(q.get('count') ?? '1000') || 1000));
  const sinceText = q.get('since');
  const all = host.tradesAfter(pair.instId);
  let chosen: readonly SimTrade[];
  if (sinceText === null || sinceText === '') chosen = all.slice(-count);
  else {
    const since = Number(sinceText);
    const sinceMs = since > 1e15 ? since / 1e6 : since * 1000;
    chosen = all.filter((t) => t.ts > sinceMs).slice(0, count);
  }
  const rows = chosen.map((t) => [
    t.px,
    t.sz,
    (t.ts / 1000).toFixed(4),
    t.side === 'buy' ? 'b' : 's',
    'm',
    '',
    Number(t.tradeId),
  ]);
  const lastTs = chosen[chosen.length - 1]?.ts ?? 0;
  return { [pair.pairId]: rows, last: String(lastTs * 1_000_000) };
}

/** Levels a side of the synthetic book (Kraken's `count` asks for fewer or more; the simulator has these). */
const BOOK_LEVELS = 5;

/**
 * The order book as Kraken's `Depth` shows it: the simulator's synthetic book, levels a tick apart from one
 * tick either side of the last price (the spread Ticker shows), sizes seeded by the last trade id (the same
 * trade always shows the same book); `[price, volume, timestamp]` rows, at most `count` a side.
 */
function depth(q: URLSearchParams, host: KrakenRestHost): Record<string, object> {
  const pair = pairOf(q, host);
  const countText = q.get('count');
  const count = countText === null || countText === '' ? 100 : Number(countText);
  if (!Number.isInteger(count) || count < 1 || count > 500)
    throw new KrakenError('EGeneral:Invalid arguments:count');
  const last = host.lastTrade(pair.instId);
  if (last === undefined) return { [pair.pairId]: { asks: [], bids: [] } };
  const rng = new Prng(deriveSeed(1, `${pair.instId}#${last.tradeId}`));
  const tick = Number(pair.tickSz);
  const d = decimalsOf(pair.tickSz);
  const lot = Number(pair.lotSz);
  const px = Number(last.px);
  const ts = Math.floor(last.ts / 1000);
  const level = (p: number): [string, string, number] => [
    formatDecimal(p, d),
    formatDecimal(rng.int(1, 5000) * Math.max(lot, 1e-4), decimalsOf(pair.lotSz)),
    ts,
  ];
  const asks: [string, string, number][] = [];
  const bids: [string, string, number][] = [];
  for (let k = 1; k <= Math.min(BOOK_LEVELS, count); k++) {
    asks.push(level(px + k * tick));
    if (px - k * tick > 0) bids.push(level(px - k * tick));
  }
  return { [pair.pairId]: { asks, bids } };
}
