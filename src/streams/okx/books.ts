import * as z from 'zod';

/**
 * OKX `books5` (on /public, shared/OKX.md): a 5-level snapshot pushed at most every 100 ms when it changes,
 * no `action`. A level is `[price, size, "0", numOrders]` (all strings; older servers send 4 items, some
 * clients see 2); `seqId` and the deprecated `checksum` may be there or not.
 */

const decimal = z.string().regex(/^\d+(\.\d+)?$/, 'a decimal number as a string');
const level = z.tuple([decimal, decimal]).rest(z.string());

export const wsBookSchema = z.object({
  instId: z.string().optional(),
  asks: z.array(level),
  bids: z.array(level),
  ts: z.string().regex(/^\d{10,16}$/, 'epoch milliseconds as a string'),
  seqId: z.number().int().optional(),
});

export const wsBooks5PushSchema = z.object({
  arg: z.object({ channel: z.literal('books5'), instId: z.string() }),
  data: z.array(wsBookSchema).min(1),
});

/** The top of a symbol's book as the feed saw it last: best first on both sides. */
export interface OkxBook {
  readonly symbol: string;
  readonly tsMs: number;
  /** `[price, size]`, highest bid first. */
  readonly bids: readonly (readonly [number, number])[];
  /** `[price, size]`, lowest ask first. */
  readonly asks: readonly (readonly [number, number])[];
}

/** The book of one parsed `books5` push (its newest entry: OKX sends one per push). */
export function bookOfPush(push: z.infer<typeof wsBooks5PushSchema>): OkxBook {
  const d = push.data[push.data.length - 1] as z.infer<typeof wsBookSchema>;
  const levels = (rows: readonly (readonly string[])[]): [number, number][] =>
    rows.map((r) => [Number(r[0]), Number(r[1])] as [number, number]);
  const bids = levels(d.bids).sort((a, b) => b[0] - a[0]);
  const asks = levels(d.asks).sort((a, b) => a[0] - b[0]);
  return { symbol: push.arg.instId, tsMs: Number(d.ts), bids, asks };
}
