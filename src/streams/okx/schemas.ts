import * as z from 'zod';

/**
 * Schemas of what OKX v5 sends us (shared/OKX.md). Every inbound frame and REST body is parsed with these
 * before anything trusts it. Numbers arrive as strings; keys may come in any order; extra keys are allowed
 * (OKX adds fields over time) but missing or mistyped ones are errors.
 */

const decimal = z.string().regex(/^\d+(\.\d+)?$/, 'a decimal number as a string');
const epochMs = z.string().regex(/^\d{10,16}$/, 'epoch milliseconds as a string');
const integerId = z.string().regex(/^\d{1,19}$/, 'an integer id as a string');

export const wsArgSchema = z.object({ channel: z.string(), instId: z.string().optional() });

/** history-trades / trades row (REST: always one trade per row, no aggregation). */
export const restTradeSchema = z.object({
  instId: z.string(),
  tradeId: integerId,
  px: decimal,
  sz: decimal,
  side: z.enum(['buy', 'sell']),
  ts: epochMs,
  source: z.string().optional(),
});
export type RestTrade = z.infer<typeof restTradeSchema>;

/** One push of the `trades` channel: a REST trade row plus `count`/`seqId` (absent on older servers). */
export const wsTradeSchema = restTradeSchema.extend({
  count: z
    .string()
    .regex(/^[1-9]\d*$/)
    .optional(),
  seqId: z.number().int().optional(),
});
export type WsTrade = z.infer<typeof wsTradeSchema>;

export const wsTradesPushSchema = z.object({
  arg: wsArgSchema.extend({ channel: z.literal('trades'), instId: z.string() }),
  data: z.array(wsTradeSchema).min(1),
});

export const wsEventSchema = z.object({
  event: z.enum([
    'subscribe',
    'unsubscribe',
    'error',
    'notice',
    'login',
    'channel-conn-count',
    'channel-conn-count-error',
  ]),
  id: z.string().optional(),
  arg: wsArgSchema.optional(),
  code: z.string().optional(),
  msg: z.string().optional(),
  connId: z.string().optional(),
});
export type WsEvent = z.infer<typeof wsEventSchema>;

export const restEnvelopeSchema = z.object({
  code: z.string(),
  msg: z.string().optional().default(''),
  data: z.unknown().optional(),
});

export const instrumentSchema = z.object({
  instId: z.string(),
  instType: z.string(),
  baseCcy: z.string().optional(),
  quoteCcy: z.string().optional(),
  tickSz: z.string().optional(),
  lotSz: z.string().optional(),
  minSz: z.string().optional(),
  state: z.string(),
});
export type Instrument = z.infer<typeof instrumentSchema>;

/** A row of /market/tickers (the fields the scanner reads); bid/ask are empty for a one-sided book. */
export const tickerRowSchema = z.object({
  instId: z.string(),
  last: z.string(),
  askPx: z.string(),
  bidPx: z.string(),
  volCcy24h: z.string(),
  vol24h: z.string(),
  ts: z.string(),
});
export type TickerRow = z.infer<typeof tickerRowSchema>;

/** A row of /market/books: levels `[price, size, "0", orders]`, best first. */
export const bookRowSchema = z.object({
  asks: z.array(z.array(z.string())),
  bids: z.array(z.array(z.string())),
  ts: z.string(),
});
export type BookRow = z.infer<typeof bookRowSchema>;

/** `[ts(open), o, h, l, c, vol, volCcy, volCcyQuote, confirm]`. */
export const candleRowSchema = z
  .tuple([epochMs, decimal, decimal, decimal, decimal, decimal])
  .rest(z.string())
  .transform((row) => ({
    openTimeMs: Number(row[0]),
    open: Number(row[1]),
    high: Number(row[2]),
    low: Number(row[3]),
    close: Number(row[4]),
    volume: Number(row[5]),
    confirmed: row[8] === undefined ? true : row[8] === '1',
  }));
export type CandleRow = z.output<typeof candleRowSchema>;

/** A zod error as one short line naming the field: for logs and error messages. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(frame)'}: ${i.message}`)
    .join('; ');
}
