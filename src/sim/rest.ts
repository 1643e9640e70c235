import type { IncomingMessage, ServerResponse } from 'node:http';
import { BAR_SPECS, bucketOpen, type BarSpec } from './bars.js';
import { syntheticBook, tickerData, type Feeds } from './feeds.js';
import type { GenTrade, SimMarket } from './market.js';
import { SlidingWindowLimiter } from './rateLimit.js';
import type { SimStats } from './stats.js';

export interface RestHost {
  now(): number;
  readonly markets: ReadonlyMap<string, SimMarket>;
  readonly feeds: Feeds;
  readonly stats: SimStats;
  readonly rateLimits: boolean;
  /** How many of the newest trades per instrument the trade endpoints can reach. */
  readonly historyTradesLimit: number;
  readonly seed: number;
  listTimeMs(): number;
  log(message: string): void;
}

/** An OKX error answer: its code, message and HTTP status, as OKX sends them. */
class OkxError extends Error {
  constructor(
    readonly okxCode: string,
    message: string,
    readonly status = 200,
  ) {
    super(message);
  }
}

const emptyParam = (name: string): OkxError =>
  new OkxError('50014', `Parameter ${name} can not be empty.`, 400);
const badParam = (name: string): OkxError => new OkxError('51000', `Parameter ${name} error`, 400);
const noInstrument = (): OkxError =>
  new OkxError('51001', "Instrument ID, Instrument ID code, or Spread ID doesn't exist.");

type Query = URLSearchParams;
type Handler = (q: Query, host: RestHost) => unknown[];

/** Endpoints with OKX's limits (requests per 2 s, per IP) and handlers. */
const ENDPOINTS: ReadonlyMap<string, { limit: number; handle: Handler }> = new Map([
  ['/api/v5/public/instruments', { limit: 20, handle: instruments }],
  ['/api/v5/public/time', { limit: 10, handle: (_q: Query, h: RestHost) => [{ ts: String(h.now()) }] }],
  ['/api/v5/market/ticker', { limit: 20, handle: ticker }],
  ['/api/v5/market/tickers', { limit: 20, handle: tickers }],
  ['/api/v5/market/books', { limit: 40, handle: books }],
  ['/api/v5/market/candles', { limit: 40, handle: (q: Query, h: RestHost) => candles(q, h, 300, true) }],
  [
    '/api/v5/market/history-candles',
    { limit: 20, handle: (q: Query, h: RestHost) => candles(q, h, 100, false) },
  ],
  ['/api/v5/market/trades', { limit: 100, handle: recentTrades }],
  ['/api/v5/market/history-trades', { limit: 20, handle: historyTrades }],
]);

const WINDOW_MS = 2000;

/** The REST half of the simulator: GET requests only, JSON envelope `{code, msg, data}`. */
export function restHandler(host: RestHost): (req: IncomingMessage, res: ServerResponse) => void {
  const limiters = new Map(
    [...ENDPOINTS].map(([path, e]) => [path, new SlidingWindowLimiter(e.limit, WINDOW_MS)] as const),
  );
  return (req, res) => {
    host.stats.restRequests += 1;
    const url = new URL(req.url ?? '/', 'http://sim');
    const endpoint = ENDPOINTS.get(url.pathname);
    if (endpoint === undefined) return reply(res, 404, { code: '404', msg: 'Not Found', data: [] });
    if (req.method !== 'GET') return reply(res, 405, { code: '405', msg: 'Method Not Allowed', data: [] });
    const ip = req.socket.remoteAddress ?? '?';
    if (host.rateLimits && !limiters.get(url.pathname)?.tryTake(ip, host.now())) {
      host.stats.rateLimited += 1;
      return reply(res, 429, { msg: 'Too Many Requests', code: '50011' });
    }
    try {
      reply(res, 200, { code: '0', msg: '', data: endpoint.handle(url.searchParams, host) });
    } catch (err) {
      if (err instanceof OkxError)
        return reply(res, err.status, { code: err.okxCode, msg: err.message, data: [] });
      host.log(`REST ${url.pathname}: internal error: ${err instanceof Error ? err.stack : String(err)}`);
      reply(res, 500, { code: '50026', msg: 'System error, please try again later.', data: [] });
    }
  };
}

function reply(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A parameter's value; OKX treats an empty one (`after=`) as absent. */
function param(q: Query, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === '' ? undefined : v;
}

function marketOf(q: Query, host: RestHost): SimMarket {
  const instId = param(q, 'instId');
  if (instId === undefined) throw emptyParam('instId');
  const market = host.markets.get(instId);
  if (market === undefined) throw noInstrument();
  return market;
}

function limitOf(q: Query, max: number, fallback: number): number {
  const text = param(q, 'limit');
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw badParam('limit');
  return Math.min(max, Number(text));
}

function cursorOf(q: Query, name: 'after' | 'before'): number | undefined {
  const text = param(q, name);
  if (text === undefined) return undefined;
  if (!/^\d{1,16}$/.test(text)) throw badParam(name);
  return Number(text);
}

function instruments(q: Query, host: RestHost): unknown[] {
  const instType = param(q, 'instType');
  if (instType === undefined) throw emptyParam('instType');
  if (!['SPOT', 'MARGIN', 'SWAP', 'FUTURES', 'OPTION'].includes(instType)) throw badParam('instType');
  const instId = param(q, 'instId');
  if (instId !== undefined && !host.markets.has(instId)) throw noInstrument();
  if (instType !== 'SPOT') return []; // the simulator lists spot pairs only
  return [...host.markets.values()]
    .filter((m) => instId === undefined || m.instId === instId)
    .map((m) => ({
      instType: 'SPOT',
      instId: m.instId,
      uly: '',
      instFamily: '',
      category: '1',
      baseCcy: m.baseCcy,
      quoteCcy: m.quoteCcy,
      settleCcy: '',
      ctVal: '',
      ctMult: '',
      ctValCcy: '',
      ctType: '',
      optType: '',
      stk: '',
      alias: '',
      listTime: String(host.listTimeMs()),
      expTime: '',
      lever: '',
      tickSz: m.tickSz,
      lotSz: m.lotSz,
      minSz: m.lotSz,
      maxLmtSz: '9999999999',
      maxMktSz: '1000000',
      maxLmtAmt: '20000000',
      maxMktAmt: '1000000',
      ruleType: 'normal',
      state: 'live',
    }));
}

function ticker(q: Query, host: RestHost): unknown[] {
  const data = tickerData(marketOf(q, host), host.seed);
  return data === undefined ? [] : [data];
}

/** Every spot instrument's ticker (the simulator lists spot pairs only). */
function tickers(q: Query, host: RestHost): unknown[] {
  const instType = param(q, 'instType');
  if (instType === undefined) throw emptyParam('instType');
  if (!['SPOT', 'SWAP', 'FUTURES', 'OPTION'].includes(instType)) throw badParam('instType');
  if (instType !== 'SPOT') return [];
  return [...host.markets.values()].flatMap((m) => tickerData(m, host.seed) ?? []);
}

/** The synthetic book's 5 levels a side (`sz` is accepted up to 400 but the book has 5). */
function books(q: Query, host: RestHost): unknown[] {
  const market = marketOf(q, host);
  const sz = param(q, 'sz');
  if (sz !== undefined && !(/^\d+$/.test(sz) && Number(sz) >= 1 && Number(sz) <= 400)) throw badParam('sz');
  const book = syntheticBook(market, host.seed);
  if (book === undefined) return [];
  const n = sz === undefined ? 1 : Number(sz);
  return [{ asks: book.asks.slice(0, n), bids: book.bids.slice(0, n), ts: String(book.ts) }];
}

/** Candle rows, newest first; `candles` reaches the newest 1,440 bars only, `history-candles` all. */
function candles(q: Query, host: RestHost, maxLimit: number, latestOnly: boolean): unknown[] {
  const market = marketOf(q, host);
  const spec: BarSpec | undefined = BAR_SPECS.get(param(q, 'bar') ?? '1m');
  if (spec === undefined) throw new OkxError('51000', 'Parameter bar error', 400);
  const after = cursorOf(q, 'after');
  const before = cursorOf(q, 'before');
  const limit = limitOf(q, maxLimit, 100);
  const newest = host.feeds.newestCandleOpen(market.instId, spec);
  const oldest = market.bars.oldestOpen(spec);
  if (newest === undefined || oldest === undefined) return [];
  const floor = latestOnly ? Math.max(oldest, newest - 1439 * spec.ms) : oldest;
  let open = after === undefined ? newest : Math.min(newest, bucketOpen(spec, after - 1));
  const rows: unknown[] = [];
  for (; open >= floor && rows.length < limit; open -= spec.ms) {
    if (before !== undefined && open <= before) break;
    const bar = market.bars.bar(spec, open);
    if (bar !== undefined) rows.push(market.candleRow(spec, bar));
  }
  return rows;
}

function tradeRow(t: GenTrade): object {
  const s = t.sim;
  return {
    instId: s.instId,
    side: s.side,
    sz: s.sz,
    source: '0',
    px: s.px,
    tradeId: s.tradeId,
    ts: String(s.ts),
  };
}

/** The trades the trade endpoints may show: the newest `historyTradesLimit` of those kept. */
function reachable(market: SimMarket, host: RestHost): readonly GenTrade[] {
  const all = market.trades();
  return all.length > host.historyTradesLimit ? all.slice(all.length - host.historyTradesLimit) : all;
}

function recentTrades(q: Query, host: RestHost): unknown[] {
  const market = marketOf(q, host);
  const limit = limitOf(q, 500, 100);
  const trades = reachable(market, host);
  const out: object[] = [];
  for (let i = trades.length - 1; i >= 0 && out.length < limit; i--)
    out.push(tradeRow(trades[i] as GenTrade));
  return out;
}

/** Pages of past trades, newest first: `after` → older than, `before` → newer than (both exclusive). */
function historyTrades(q: Query, host: RestHost): unknown[] {
  const market = marketOf(q, host);
  const type = param(q, 'type') ?? '1';
  if (type !== '1' && type !== '2') throw badParam('type');
  const after = cursorOf(q, 'after');
  const before = cursorOf(q, 'before');
  const limit = limitOf(q, 100, 100);
  const trades = reachable(market, host);
  const keyOf = type === '1' ? (t: GenTrade) => t.id : (t: GenTrade) => t.ts;
  // Index of the first trade whose key is ≥ after: everything below it is older than `after`.
  let i = after === undefined ? trades.length : lowerBound(trades, after, keyOf);
  const out: object[] = [];
  for (i -= 1; i >= 0 && out.length < limit; i--) {
    const t = trades[i] as GenTrade;
    if (before !== undefined && keyOf(t) <= before) break;
    out.push(tradeRow(t));
  }
  return out;
}

function lowerBound(trades: readonly GenTrade[], key: number, keyOf: (t: GenTrade) => number): number {
  let lo = 0;
  let hi = trades.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyOf(trades[mid] as GenTrade) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
