import { z } from 'zod';
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
});
export type SignalMessage = z.infer<typeof signalMessageSchema>;

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
  statusMessageSchema,
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
    // A sum of trade sizes carries float noise (18.225870000000064); the wire gets what market_data stores.
    volume: Math.round(candle.volume * 1e8) / 1e8,
    tradesCount: candle.tradesCount,
    revision: candle.revision,
  };
}
