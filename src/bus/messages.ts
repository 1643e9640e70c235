import * as z from 'zod';
import type { Candle } from '../domain/candle.js';
import { UsageError } from '../domain/errors.js';
import { TIMEFRAMES } from '../domain/timeframe.js';

/**
 * What travels on the bus: JSON objects told apart by `type`, with integer epoch-ms timestamps. Every
 * received payload is parsed with `busMessageSchema` before anyone sees it. Unknown keys are stripped, not
 * rejected, so a newer publisher that adds a field does not silence older subscribers.
 */

const epochMs = z.number().int().nonnegative();
const price = z.number().finite().positive();
const id = z.string().min(1);

export const candleMessageSchema = z.object({
  type: z.literal('candle'),
  symbol: id,
  timeframe: z.enum(TIMEFRAMES),
  closeTimeMs: epochMs,
  open: price,
  high: price,
  low: price,
  close: price,
  volume: z.number().finite().nonnegative(),
  tradesCount: z.number().int().nonnegative(),
  revision: z.number().int().nonnegative(),
});
export type CandleMessage = z.infer<typeof candleMessageSchema>;

export const signalMessageSchema = z.object({
  type: z.literal('signal'),
  botId: id,
  tsMs: epochMs,
  action: z.enum(['buy', 'sell', 'hold']),
  price,
  /** 0 = a guess, 1 = certain; strategies decide what it means for them. */
  confidence: z.number().min(0).max(1),
  reason: z.string(),
  symbol: id.optional(),
  /** The indicator values the strategy used. */
  indicators: z.record(z.string(), z.number().finite().nullable()).optional(),
});
export type SignalMessage = z.infer<typeof signalMessageSchema>;

/** A bot's fill, on `signals:{bot_id}` next to its signals. `pnl` (net of fees) only on a fill that closes. */
export const fillMessageSchema = z.object({
  type: z.literal('fill'),
  botId: id,
  tsMs: epochMs,
  symbol: id,
  side: z.enum(['buy', 'sell']),
  price,
  qty: z.number().finite().positive(),
  fee: z.number().finite().nonnegative(),
  pnl: z.number().finite().optional(),
  /** Cash after the fill. */
  balanceAfter: z.number().finite(),
  orderId: z.number().int().nonnegative(),
  /** The bot's fill number: unique per bot, so a consumer can drop a repeat. */
  seq: z.number().int().positive(),
  reason: z.string().optional(),
});
export type FillMessage = z.infer<typeof fillMessageSchema>;

/** A bot's account after each candle it processed, on `status:{bot_id}`. */
export const performanceMessageSchema = z.object({
  type: z.literal('performance'),
  botId: id,
  tsMs: epochMs,
  totalValue: z.number().finite(),
  cash: z.number().finite(),
  cryptoValue: z.number().finite(),
  totalTrades: z.number().int().nonnegative(),
  winningTrades: z.number().int().nonnegative(),
  totalFees: z.number().finite().nonnegative(),
});
export type PerformanceMessage = z.infer<typeof performanceMessageSchema>;

/** The lifecycle states of a bot: the same set as the `bots.status` column. */
export const BOT_STATUSES = ['active', 'inactive', 'paused', 'error'] as const;
export type BotStatus = (typeof BOT_STATUSES)[number];

export const statusMessageSchema = z.object({
  type: z.literal('status'),
  botId: id,
  tsMs: epochMs,
  status: z.enum(BOT_STATUSES),
  message: z.string().optional(),
});
export type StatusMessage = z.infer<typeof statusMessageSchema>;

export const systemMessageSchema = z.object({
  type: z.literal('system'),
  tsMs: epochMs,
  event: id,
  detail: z.string().optional(),
});
export type SystemMessage = z.infer<typeof systemMessageSchema>;

export const busMessageSchema = z.discriminatedUnion('type', [
  candleMessageSchema,
  signalMessageSchema,
  fillMessageSchema,
  statusMessageSchema,
  performanceMessageSchema,
  systemMessageSchema,
]);
export type BusMessage = z.infer<typeof busMessageSchema>;

/** Parses one raw payload; `undefined` for invalid JSON or a schema violation (the bus counts it as dropped). */
export function decodeBusMessage(text: string): BusMessage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = busMessageSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

export const SYSTEM_CHANNEL = 'system:events';

/** Ids become part of channel names, so glob characters and whitespace would make them subscribe wrongly. */
function channelPart(kind: string, value: string): string {
  if (value.length === 0 || /[\s*?[\]\\]/.test(value)) {
    throw new UsageError(
      `${kind} '${value}' cannot be used in a channel name (empty, whitespace or * ? [ ] \\)`,
    );
  }
  return value;
}

/** Each closed candle of `symbol` (every timeframe) is published here. */
export function marketChannel(symbol: string): string {
  return `market:${channelPart('symbol', symbol)}`;
}

export function signalsChannel(botId: string): string {
  return `signals:${channelPart('bot id', botId)}`;
}

export function statusChannel(botId: string): string {
  return `status:${channelPart('bot id', botId)}`;
}

/** The wire form of a closed candle; `closed` is implied (only closed candles are published). */
export function candleMessage(candle: Candle): CandleMessage {
  return {
    type: 'candle',
    symbol: candle.symbol,
    timeframe: candle.timeframe,
    closeTimeMs: candle.closeTimeMs,
    open: candle.open,
    high: candle.high,
    low: candle.low,
    close: candle.close,
    // Exactly what market_data stores (the operators already shed the float drift of summed sizes).
    volume: candle.volume,
    tradesCount: candle.tradesCount,
    revision: candle.revision,
  };
}

/** A `market:{symbol}` message back into a closed Candle (the inverse of `candleMessage`). */
export function candleFromMessage(message: CandleMessage): Candle {
  return {
    symbol: message.symbol,
    timeframe: message.timeframe,
    closeTimeMs: message.closeTimeMs,
    open: message.open,
    high: message.high,
    low: message.low,
    close: message.close,
    volume: message.volume,
    tradesCount: message.tradesCount,
    closed: true,
    revision: message.revision,
  };
}
