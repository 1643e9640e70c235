import * as z from 'zod';
import { BOT_SYMBOL_PATTERN } from '../../bots/botConfig.js';
import { TIMEFRAMES } from '../../domain/timeframe.js';

const time = z
  .union([z.number().int().nonnegative(), z.string().min(1)])
  .meta({ description: 'epoch milliseconds or ISO-8601 (UTC when no zone)' });

export const backtestBody = z.strictObject({
  strategy: z.string().min(1).meta({ description: 'a strategy name (GET /api/strategies)' }),
  parameters: z.record(z.string(), z.unknown()).optional(),
  symbol: z.string().regex(BOT_SYMBOL_PATTERN, 'use an instrument id in upper case, such as BTC-USDT'),
  exchange: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/, "lowercase letters, digits and '-'")
    .optional(),
  timeframe: z
    .enum(TIMEFRAMES)
    .optional()
    .meta({ description: "timeframe of the stored candles read (default 1m, or the strategy's when given)" }),
  from: time,
  to: time,
  initial_balance: z.number().finite().positive().optional(),
  risk: z.record(z.string(), z.unknown()).optional(),
  venue: z.record(z.string(), z.unknown()).optional(),
});

export const runIdParams = z.strictObject({ id: z.uuid('a backtest id is a UUID') });

const summary = z.object({
  id: z.string(),
  strategy: z.string(),
  params: z.record(z.string(), z.unknown()),
  symbol: z.string(),
  exchange: z.string(),
  timeframe: z.string(),
  fromMs: z.number(),
  toMs: z.number(),
  initialBalance: z.number(),
  status: z.enum(['running', 'done', 'failed']),
  error: z.string().optional(),
  metrics: z.record(z.string(), z.number().nullable()).optional(),
  createdAtMs: z.number(),
  finishedAtMs: z.number().optional(),
});

export const backtestList = z.object({ items: z.array(summary) });

export const backtestRun = summary.extend({
  trades: z.array(z.record(z.string(), z.unknown())),
  equity: z.array(z.tuple([z.number(), z.number()])),
  fills: z.array(
    z.object({ tMs: z.number(), side: z.enum(['buy', 'sell']), price: z.number(), qty: z.number() }),
  ),
  warnings: z.array(z.string()),
});

export const backtestStarted = z.object({ id: z.string(), status: z.literal('running') });
