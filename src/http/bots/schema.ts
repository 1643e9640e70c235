import * as z from 'zod';
import { BOT_ID_PATTERN } from '../../bots/botConfig.js';
import { InvalidFieldError } from '../../domain/errors.js';
import { intParam, timeParam } from '../validate.js';

/** A bot id in a path: the config's bot_id rules (so nothing like `../x` ever reaches the config folder). */
export const botIdParams = z.strictObject({
  id: z
    .string()
    .regex(
      BOT_ID_PATTERN,
      'a bot id is 1 to 64 lower-case letters, digits, "_" or "-", starting with a letter or digit',
    ),
});

export const MAX_PAGE = 10_000;

export const pageQuery = z.strictObject({
  from: timeParam.optional(),
  to: timeParam.optional(),
  limit: intParam(1, MAX_PAGE)
    .optional()
    .meta({ description: 'rows per page (default 1000, at most 10000)' }),
  order: z.enum(['asc', 'desc']).optional(),
  after: z.string().optional().meta({ description: 'the `next` cursor of the previous page' }),
});
export type PageQuery = z.output<typeof pageQuery>;

/** A bot document: the JSON of a config/bots/*.json file (validated in full by the bots' own rules). */
export const botDocument = z
  .record(z.string(), z.unknown())
  .meta({ description: 'a bot document: the JSON of a config/bots/*.json file (see config/README.md)' });

const statusEnum = z.enum(['active', 'inactive', 'paused', 'error']);

export const botView = z
  .object({
    botKey: z.string(),
    status: statusEnum,
    statusMessage: z.string().optional(),
    strategyName: z.string(),
    symbol: z.string(),
    timeframe: z.string(),
    virtualBalance: z.number(),
    cash: z.number(),
    totalValue: z.number(),
    pnl: z.number(),
    trades: z.number(),
    winningTrades: z.number(),
    totalFees: z.number(),
    maxDrawdown: z.number(),
    restartsLastHour: z.number(),
    lastCandleMs: z.number().optional(),
    lastHeartbeatMs: z.number().optional(),
    config: z.unknown(),
    configFile: z.string().optional(),
  })
  .meta({ id: 'BotView' });

export const botList = z.object({ bots: z.array(botView) });

export const pageOf = (item: z.ZodType): z.ZodType =>
  z.object({ items: z.array(item), next: z.string().optional().meta({ description: 'cursor for ?after=' }) });

export const signalItem = z.object({
  id: z.number(),
  closeTimeMs: z.number(),
  action: z.enum(['buy', 'sell', 'hold']),
  price: z.number(),
  confidence: z.number(),
  reason: z.string(),
  indicators: z.record(z.string(), z.number().nullable()),
});

export const tradeItem = z.object({
  id: z.number(),
  epoch: z.number(),
  seq: z.number(),
  orderId: z.number(),
  signalId: z.number().optional(),
  timeMs: z.number(),
  side: z.enum(['buy', 'sell']),
  price: z.number(),
  qty: z.number(),
  fee: z.number(),
  pnl: z.number().optional(),
  balanceAfter: z.number(),
  orderType: z.string().optional(),
  purpose: z.string().optional(),
  liquidity: z.enum(['maker', 'taker']).optional(),
  reason: z.string().optional(),
});

export const performanceItem = z.object({
  id: z.number(),
  timeMs: z.number(),
  totalValue: z.number(),
  cash: z.number(),
  cryptoValue: z.number(),
  totalTrades: z.number(),
  winningTrades: z.number(),
  totalFees: z.number(),
});

export const positionItem = z.object({
  symbol: z.string(),
  side: z.enum(['long', 'short']),
  qty: z.number(),
  avgEntryPrice: z.number(),
  entryTimeMs: z.number(),
  entryFees: z.number().optional(),
  lastPrice: z.number().optional(),
  stopLoss: z.number().optional(),
  takeProfit: z.unknown().optional(),
  trailingStop: z.unknown().optional(),
});

/** The opaque `next` cursor: the last row's time and id. */
export function encodeCursor(timeMs: number, id: number): string {
  return Buffer.from(JSON.stringify([timeMs, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { timeMs: number; id: number } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isSafeInteger(x))) {
      return { timeMs: v[0] as number, id: v[1] as number };
    }
  } catch {
    // reported below
  }
  throw new InvalidFieldError('after', 'query.after: not a cursor this API gave (use the `next` of a page)');
}
