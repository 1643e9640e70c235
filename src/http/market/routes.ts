import * as z from 'zod';
import { storedCandleSets } from '../../../backtests/index.js';
import { BOT_SYMBOL_PATTERN } from '../../bots/botConfig.js';
import { NotFoundError } from '../../domain/errors.js';
import { TIMEFRAMES, type Timeframe } from '../../domain/timeframe.js';
import { readCandleColumns } from '../../storage/candleColumns.js';
import type { Database } from '../../storage/database.js';
import { route, type Route } from '../route.js';
import { intParam, timeParam } from '../validate.js';
import { DefaultExchange } from './defaultExchange.js';
import type { MarketSnapshot } from './marketSnapshot.js';

const symbolParams = z.strictObject({
  symbol: z.string().regex(BOT_SYMBOL_PATTERN, 'use an instrument id in upper case, such as BTC-USDT'),
});

const exchangeName = z.string().regex(/^[a-z0-9-]{1,32}$/, "lowercase letters, digits and '-', such as okx");

export const MAX_CANDLES = 10_000;

const historyQuery = z.strictObject({
  timeframe: z.enum(TIMEFRAMES).default('1m'),
  from: timeParam.optional(),
  to: timeParam.optional(),
  limit: intParam(1, MAX_CANDLES)
    .optional()
    .meta({ description: 'at most this many candles (default 1000, at most 10000)' }),
  exchange: exchangeName
    .optional()
    .meta({ description: 'default: okx if it has the symbol, else the first that has' }),
});

const numbers = z.array(z.number());
const historyAnswer = z.object({
  symbol: z.string(),
  exchange: z.string(),
  timeframe: z.string(),
  t: numbers.meta({ description: 'close times, epoch ms, oldest first' }),
  open: numbers,
  high: numbers,
  low: numbers,
  close: numbers,
  volume: numbers,
});

const level = z.tuple([z.number(), z.number()]);
const orderbookAnswer = z.object({
  symbol: z.string(),
  tsMs: z.number(),
  bids: z.array(level),
  asks: z.array(level),
});
const tradesAnswer = z.object({
  items: z.array(
    z.object({
      tsMs: z.number(),
      price: z.number(),
      size: z.number(),
      side: z.enum(['buy', 'sell']),
      tradeId: z.string(),
    }),
  ),
});
const marketsAnswer = z.object({
  items: z.array(
    z.object({
      exchange: z.string(),
      symbol: z.string(),
      timeframe: z.string(),
      fromMs: z.number(),
      toMs: z.number(),
      count: z.number(),
    }),
  ),
});

const DEFAULT_CANDLES = 1000;
const ts = (ms: string): string => `to_timestamp(${ms}::float8 / 1000)`;

/**
 * The close-time window holding at most `limit` candles from `from` on: one keyset probe on the
 * market_data key finds its end, so a wide range with a small limit never reads more than `limit` rows.
 */
async function windowFrom(
  db: Database,
  key: { exchange: string; symbol: string; timeframe: Timeframe },
  fromMs: number,
  toMs: number | undefined,
  limit: number,
): Promise<{ fromMs: number; toMs: number }> {
  const hi = toMs ?? 8.64e15;
  const rows = await db.query<{ t: number }>(
    `SELECT (extract(epoch from "timestamp") * 1000)::float8 AS t FROM market_data
      WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND "timestamp" >= ${ts('$4')} AND "timestamp" < ${ts('$5')}
      ORDER BY "timestamp" OFFSET $6 LIMIT 1`,
    [key.exchange, key.symbol, key.timeframe, fromMs, hi, limit],
  );
  return { fromMs, toMs: rows[0] === undefined ? hi : Number(rows[0].t) };
}

/** /api/market/… and /api/markets: stored candles (columnar) and the feed's latest book and trades. */
export function marketRoutes(db: Database, market: MarketSnapshot | undefined): Route[] {
  const defaultExchange = new DefaultExchange(db);
  return [
    route({
      method: 'get',
      path: '/api/market/:symbol/history',
      summary: 'Stored candles as columns (close times, OHLCV), oldest first',
      tag: 'market',
      params: symbolParams,
      query: historyQuery,
      responses: {
        200: { description: 'candles as columns', schema: historyAnswer },
        400: { description: 'invalid input: `error.details.field` names it' },
      },
      handle: async ({ params, query }) => {
        const exchange = query.exchange ?? (await defaultExchange.of(params.symbol));
        const key = { exchange, symbol: params.symbol, timeframe: query.timeframe };
        const limit = query.limit ?? DEFAULT_CANDLES;
        // The latest window (no `from`): one query for the newest candles before `to`.
        const cols =
          query.from === undefined
            ? await readCandleColumns(db, { ...key, fromMs: 0, toMs: query.to ?? 8.64e15, newest: limit })
            : await readCandleColumns(db, {
                ...key,
                ...(await windowFrom(db, key, query.from, query.to, limit)),
              });
        return {
          body: {
            symbol: params.symbol,
            exchange,
            timeframe: query.timeframe,
            t: Array.from(cols.closeTimeMs),
            open: Array.from(cols.open),
            high: Array.from(cols.high),
            low: Array.from(cols.low),
            close: Array.from(cols.close),
            volume: Array.from(cols.volume),
          },
        };
      },
    }),
    route({
      method: 'get',
      path: '/api/market/:symbol/orderbook',
      summary: 'The latest top 5 of the order book (books5) from the live feed',
      tag: 'market',
      params: symbolParams,
      responses: {
        200: { description: 'the book', schema: orderbookAnswer },
        404: { description: 'no book received for the symbol yet' },
      },
      handle: async ({ params }) => {
        const book = market?.orderbook(params.symbol);
        if (book === undefined)
          throw new NotFoundError(`no order book of ${params.symbol} received from the feed yet`);
        return { body: book };
      },
    }),
    route({
      method: 'get',
      path: '/api/market/:symbol/trades',
      summary: 'The latest trades from the live feed, newest first',
      tag: 'market',
      params: symbolParams,
      query: z.strictObject({
        limit: intParam(1, 500).optional().meta({ description: 'default 50, at most 500' }),
      }),
      responses: { 200: { description: 'recent trades', schema: tradesAnswer } },
      handle: async ({ params, query }) => ({
        body: { items: market?.trades(params.symbol, query.limit ?? 50) ?? [] },
      }),
    }),
    route({
      method: 'get',
      path: '/api/markets',
      summary: 'What candles are stored: exchange, symbol, timeframe, range and count',
      tag: 'market',
      responses: { 200: { description: 'stored candle sets', schema: marketsAnswer } },
      handle: async () => ({
        body: {
          items: (await storedCandleSets(db)).map((s) => ({
            exchange: s.exchange,
            symbol: s.symbol,
            timeframe: s.timeframe,
            fromMs: s.firstCloseTimeMs,
            toMs: s.lastCloseTimeMs,
            count: s.count,
          })),
        },
      }),
    }),
  ];
}
