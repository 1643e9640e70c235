import type { BotView } from '../../../bots/botControl.js';
import type {
  CandleMessage,
  FillMessage,
  PerformanceMessage,
  SignalMessage,
  StatusMessage,
} from '../../../bus/messages.js';
import type { StoredFill, StoredPerformance, StoredSignal } from '../../../storage/botRecords.js';

/** The API's and the live events' shapes (src/http/README.md), taken from the server's own types. */
export type { BotView, CandleMessage, FillMessage, PerformanceMessage, SignalMessage, StatusMessage };
export type { StoredFill, StoredPerformance, StoredSignal };

export interface Page<T> {
  readonly items: T[];
  readonly next?: string;
}

export interface HistoryColumns {
  readonly symbol: string;
  readonly timeframe: string;
  readonly t: number[];
  readonly open: number[];
  readonly high: number[];
  readonly low: number[];
  readonly close: number[];
  readonly volume: number[];
}

export interface OrderBook {
  readonly symbol: string;
  readonly tsMs: number;
  readonly bids: [number, number][];
  readonly asks: [number, number][];
}

export interface MarketTrade {
  readonly tsMs: number;
  readonly price: number;
  readonly size: number;
  readonly side: 'buy' | 'sell';
  readonly tradeId: string;
}

export interface StoredMarket {
  readonly exchange: string;
  readonly symbol: string;
  readonly timeframe: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly count: number;
}

/** A JSON Schema as `z.toJSONSchema` writes a strategy's parameters. */
export interface JsonSchema {
  readonly type?: string | string[];
  readonly properties?: Record<string, JsonSchema>;
  readonly required?: string[];
  readonly enum?: unknown[];
  readonly default?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly description?: string;
  readonly title?: string;
}

export interface StrategyInfo {
  readonly name: string;
  readonly description?: string;
  readonly timeframe?: string;
  readonly parameters: JsonSchema;
}

export interface BacktestItem {
  readonly id: string;
  readonly strategy: string;
  readonly params?: Record<string, unknown>;
  readonly symbol: string;
  readonly timeframe: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly status: 'running' | 'done' | 'failed' | string;
  /** Why a `failed` run failed. */
  readonly error?: string;
  readonly metrics?: Record<string, unknown> | null;
  readonly createdAtMs?: number;
}

export interface BacktestResult extends BacktestItem {
  readonly trades?: unknown[];
  readonly equity?: [number, number][];
  readonly fills?: { tMs: number; side: 'buy' | 'sell'; price: number; qty: number }[];
  readonly warnings?: string[];
}

export interface BacktestProgress {
  readonly id: string;
  readonly done: number;
  readonly total: number;
}

export interface BacktestDone {
  readonly id: string;
  readonly status: string;
}
