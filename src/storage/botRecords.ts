import type { SignalAction } from '../domain/signal.js';
import type { FillPurpose, OrderSide, OrderType, PositionSide } from '../domain/trading/types.js';

/**
 * The plain data BotStore writes and reads: independent of the engine's classes, so the store neither
 * knows nor constrains how a bot computes them. Times are epoch milliseconds; prices in quote currency,
 * quantities in base units. Stored in unconstrained numeric columns, exactly as given.
 */

export type BotStatus = 'active' | 'inactive' | 'paused' | 'error';
export const BOT_STATUSES: readonly BotStatus[] = ['active', 'inactive', 'paused', 'error'];

/** Why a configuration was applied (config_history.reason). */
export type ConfigReason = 'file' | 'reload' | 'reset' | 'api';

/** A strategy decision; a `Signal` (src/domain/signal.ts) is one. */
export interface BotSignalRecord {
  /** Close time of the candle decided on. */
  readonly closeTimeMs: number;
  readonly action: SignalAction;
  readonly price: number;
  readonly confidence: number;
  readonly reason: string;
  readonly indicators: Readonly<Record<string, number | undefined>>;
}

/** One fill. */
export interface BotFillRecord {
  /**
   * The bot's fill number (1, 2, 3… in the order the engine made them, kept in its snapshot), unique per bot
   * and epoch: replaying a candle from the same snapshot gives the same numbers, so no fill is written twice.
   */
  readonly seq: number;
  /** The order it filled (several fills may share one); 0 for a fill that is no order's (a final close). */
  readonly orderId: number;
  /** When the price occurred. */
  readonly timeMs: number;
  readonly side: OrderSide;
  readonly price: number;
  readonly qty: number;
  readonly fee: number;
  /** Realized P&L of the quantity this fill closed, net of fees; absent for an entry. */
  readonly pnl?: number;
  /** Cash after the fill. */
  readonly balanceAfter: number;
  readonly orderType?: OrderType;
  readonly purpose?: FillPurpose;
  readonly liquidity?: 'maker' | 'taker';
  readonly reason?: string;
  /** Close time of the signal the order came from: links the row to that signal (trades.signal_id). */
  readonly signalTimeMs?: number;
}

/** An open position, with its protective exits for display (the engine snapshot is what restores them). */
export interface BotPositionRecord {
  readonly symbol: string;
  readonly side: PositionSide;
  readonly qty: number;
  readonly avgEntryPrice: number;
  readonly entryTimeMs: number;
  readonly entryFees?: number;
  readonly lastPrice?: number;
  readonly stopLoss?: number;
  /** Take-profit levels (JSON: done and left, prices, fractions…). */
  readonly takeProfit?: unknown;
  /** Trailing stop state (JSON: activation, best price, offset…). */
  readonly trailingStop?: unknown;
}

/** The account after a candle (one bot_performance row). */
export interface BotPerformanceRecord {
  readonly totalValue: number;
  readonly cash: number;
  /** Value of the open positions at the last prices. */
  readonly cryptoValue: number;
  /** Closed round trips so far. */
  readonly totalTrades: number;
  readonly winningTrades: number;
  readonly totalFees: number;
}

/** Everything one processed candle leaves behind, written in one transaction by `BotStore.recordCandle`. */
export interface BotCandleRecord {
  /** Close time of the candle processed: becomes `bots.last_candle_ms`. */
  readonly closeTimeMs: number;
  readonly signals: readonly BotSignalRecord[];
  readonly fills: readonly BotFillRecord[];
  /** All the bot's open positions after the candle (they replace the stored ones). */
  readonly positions: readonly BotPositionRecord[];
  readonly performance: BotPerformanceRecord;
  /** The engine snapshot after the candle (JSON-serialisable), what a restart restores. */
  readonly engineState: unknown;
}

export interface RecordCandleResult {
  /** False when the bot had already recorded a candle at or after this one (a replay): nothing written. */
  readonly recorded: boolean;
  /** Fills actually inserted (a fill already stored is skipped). */
  readonly fillsWritten: number;
}

/** One bot's outcome in `recordCandles`: `error` when its record could not be written (nothing was). */
export interface RecordCandlesResult extends RecordCandleResult {
  readonly botKey: string;
  readonly error?: unknown;
}

export interface RestartRecord {
  readonly atMs: number;
  readonly error: string;
}

/** A bot's row: what a restart needs to bring it back. */
export interface StoredBot {
  readonly id: number;
  readonly botKey: string;
  readonly status: BotStatus;
  readonly statusMessage?: string;
  readonly strategyName: string;
  readonly symbol: string;
  readonly timeframe: string;
  readonly configFile?: string;
  /** The configuration applied last (a BotConfigDocument). */
  readonly config: unknown;
  readonly configHash?: string;
  readonly virtualBalance: number;
  /** Cash (`bots.current_balance`). */
  readonly cash: number;
  readonly totalValue: number;
  /** The latest engine snapshot; undefined before the first candle and after a reset. */
  readonly engineState: unknown;
  readonly lastCandleMs?: number;
  readonly lastHeartbeatMs?: number;
  readonly epoch: number;
  /** The most recent restarts (at most 100), oldest first. */
  readonly restarts: readonly RestartRecord[];
}

/** One line of `rxtrade bots list`. */
export interface BotSummary {
  readonly botKey: string;
  readonly status: BotStatus;
  readonly statusMessage?: string;
  readonly strategyName: string;
  readonly symbol: string;
  readonly timeframe: string;
  readonly virtualBalance: number;
  readonly cash: number;
  readonly totalValue: number;
  /** totalValue − virtualBalance. */
  readonly pnl: number;
  /** Fills of the current epoch. */
  readonly trades: number;
  readonly lastCandleMs?: number;
  readonly lastHeartbeatMs?: number;
}

/** A page of a time-ordered table: rows with fromMs ≤ time < toMs, after the cursor, at most `limit`. */
export interface PageOptions {
  readonly fromMs?: number;
  readonly toMs?: number;
  /** Default 1000, at most 10000. */
  readonly limit?: number;
  /** `asc` (default) or `desc` (newest first: the latest N rows). */
  readonly order?: 'asc' | 'desc';
  /** The last row of the previous page: this page continues after it (in `order`). */
  readonly after?: { readonly timeMs: number; readonly id: number };
}

export interface StoredSignal extends BotSignalRecord {
  readonly id: number;
}

export interface StoredFill extends Omit<BotFillRecord, 'signalTimeMs'> {
  readonly id: number;
  readonly epoch: number;
  readonly signalId?: number;
}

export interface StoredPerformance extends BotPerformanceRecord {
  readonly id: number;
  readonly timeMs: number;
}

export interface StoredConfig {
  readonly id: number;
  readonly appliedAtMs: number;
  readonly config: unknown;
  readonly sourceFile?: string;
  readonly contentHash?: string;
  readonly reason: ConfigReason;
}
