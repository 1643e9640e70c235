import { Subject, type Subscription } from 'rxjs';
import * as z from 'zod';
import type { Candle } from '../domain/candle.js';
import { InvalidDataError } from '../domain/errors.js';
import type { Signal } from '../domain/signal.js';
import { sortTimeframes, timeframeMs, type Timeframe } from '../domain/timeframe.js';
import { TradingEngine } from '../domain/trading/engine.js';
import { engineStateSchema, type EngineState } from '../domain/trading/engineState.js';
import type { Fill, Order, RoundTrip } from '../domain/trading/types.js';
import { resampleCandles } from '../operators/resampleCandles.js';
import { tradeStrategy, type TradeStep } from '../operators/tradeStrategy.js';
import type {
  BotCandleRecord,
  BotFillRecord,
  BotPositionRecord,
  BotSignalRecord,
} from '../storage/botRecords.js';
import type { StrategyRegistry } from '../strategies/registry.js';
import type { Strategy } from '../strategies/strategy.js';
import type { BotConfig } from './botConfig.js';

/**
 * What a bot saves after every candle (`bots.engine_state`): the engine's snapshot and the bot's fill
 * counter (the `seq` that keys its `trades` rows, so a candle replayed from this state numbers its fills
 * the same and none is written twice).
 */
export const botStateSchema = z.strictObject({
  v: z.literal(1),
  engine: engineStateSchema(),
  fillSeq: z.number().int().nonnegative(),
});
export type BotState = z.output<typeof botStateSchema>;

/** A stored `engine_state` as a BotState (InvalidDataError naming the key when it is not one). */
export function parseBotState(input: unknown): BotState {
  const parsed = botStateSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidDataError(
      `bot state: ${issue?.path.join('.') || '(the state)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** How many candles of its longest timeframe a bot reads from history to warm its indicators up. */
export const WARMUP_CANDLES = 300;

/** The 1m history a bot needs before `toMs` (a multiple of its longest timeframe, so buckets are whole). */
export function warmupFromMs(strategy: Strategy, toMs: number): number {
  const longest = Math.max(...decisionTimeframes(strategy).map(timeframeMs));
  return Math.floor(toMs / longest) * longest - WARMUP_CANDLES * longest;
}

function decisionTimeframes(strategy: Strategy): Timeframe[] {
  return [strategy.timeframe, ...(Object.keys(strategy.higherTimeframes ?? {}) as Timeframe[])];
}

export interface BotPipelineOptions {
  /** The saved state to go on from (undefined: a fresh engine with `virtualBalance`). */
  readonly saved?: BotState;
  /** A fresh bot trades on candles closing after this (the ones before only warm it up). */
  readonly tradeFromMs?: number;
  /** Read on every decision: while true, buy signals (entries) become holds; exits are still managed. */
  readonly paused?: () => boolean;
}

/** What one 1m candle did to a bot: the record to store and what to publish. */
export interface BotCandleOutcome {
  readonly record: BotCandleRecord;
  /** The decisions taken on it (holds included). */
  readonly signals: readonly Signal[];
}

/**
 * One bot's synchronous trading core: 1m candles in (history and live alike), the bot's record per candle
 * out. Inside: `resampleCandles` to the strategy's timeframes → `tradeStrategy` over one TradingEngine —
 * exactly what `runBacktest` runs on 1m candles, so a bot's fills equal a backtest's on the same candles.
 * Candles the engine already used (a restored one) or closing before `tradeFromMs` warm the indicators up
 * and give no record.
 */
export class BotPipeline {
  readonly engine: TradingEngine;
  readonly strategy: Strategy;
  private fillSeq: number;
  private readonly input = new Subject<Candle>();
  private readonly subscription: Subscription;
  private steps: TradeStep[] = [];
  private failure: unknown = undefined;
  private failed = false;
  private fills: BotFillRecord[] = [];
  /** Orders by id: the fills' order type and signal time. */
  private readonly orders = new Map<number, { type: Order['type']; createdTimeMs: number }>();
  private pendingFill: { readonly fill: Fill; readonly cash: number } | undefined;

  constructor(
    private readonly config: BotConfig,
    registry: StrategyRegistry,
    options: BotPipelineOptions = {},
  ) {
    const inner = registry.create(config.strategyName, config.parameters, config.source);
    this.strategy = pausable(inner, options.paused ?? (() => false));
    const listener = {
      order: (o: Order) => this.orders.set(o.id, { type: o.type, createdTimeMs: o.createdTimeMs }),
      fill: (f: Fill) => {
        this.flushFill(undefined);
        // The book has booked it already: this is the cash right after it.
        this.pendingFill = { fill: f, cash: this.engine.book.cash };
      },
      roundTrip: (t: RoundTrip) => this.flushFill(t),
    };
    const tradingConfig = { risk: config.risk, venue: config.venue, listener };
    if (options.saved !== undefined) {
      this.engine = TradingEngine.restore(options.saved.engine, tradingConfig);
      this.fillSeq = options.saved.fillSeq;
      for (const o of options.saved.engine.venue.pendingOrders) {
        this.orders.set(o.id, { type: o.type, createdTimeMs: o.createdTimeMs });
      }
    } else {
      this.engine = new TradingEngine({ ...tradingConfig, initialCash: config.virtualBalance });
      this.fillSeq = 0;
    }
    const timeframes = sortTimeframes(['1m', ...decisionTimeframes(this.strategy)]);
    this.subscription = this.input
      .pipe(
        resampleCandles(timeframes),
        tradeStrategy(this.strategy, this.engine, {
          priceTimeframe: '1m',
          ...(options.tradeFromMs !== undefined && options.saved === undefined
            ? { tradeFromMs: options.tradeFromMs }
            : {}),
        }),
      )
      .subscribe({
        next: (s) => this.steps.push(s),
        error: (err: unknown) => {
          this.failed = true;
          this.failure = err;
        },
      });
  }

  /** Close time of the last candle whose prices the engine used (−∞: none). */
  get pricedToMs(): number {
    return this.engine.pricedToMs;
  }

  /**
   * Runs one closed 1m candle. Returns its record, or undefined when it only warmed the bot up. Throws what
   * broke the pipeline (out-of-order data…); the pipeline is unusable afterwards.
   */
  onCandle(candle: Candle): BotCandleOutcome | undefined {
    if (this.failed) throw this.failure;
    this.steps = [];
    this.input.next(candle);
    this.flushFill(undefined);
    if (this.failed) throw this.failure;
    const steps = this.steps;
    const last = steps[steps.length - 1];
    if (last === undefined) return undefined;
    const signals: Signal[] = [];
    for (const s of steps) if (s.signal !== undefined) signals.push(s.signal);
    const fills = this.fills;
    this.fills = [];
    const engineState = this.engine.snapshot();
    const book = this.engine.book;
    const record: BotCandleRecord = {
      closeTimeMs: candle.closeTimeMs,
      signals: signals.map(signalRecord),
      fills,
      positions: positionsOf(engineState),
      performance: {
        totalValue: book.equity,
        cash: book.cash,
        cryptoValue: book.positionsValue,
        totalTrades: book.closedTrades,
        winningTrades: book.winningTrades,
        totalFees: book.feesPaid,
      },
      engineState: { v: 1, engine: engineState, fillSeq: this.fillSeq } satisfies BotState,
    };
    return { record, signals };
  }

  close(): void {
    this.subscription.unsubscribe();
  }

  /** Turns the fill heard last into a record, with the round trip it closed (its pnl) if any. */
  private flushFill(trip: RoundTrip | undefined): void {
    const pending = this.pendingFill;
    if (pending === undefined) return;
    this.pendingFill = undefined;
    const f = pending.fill;
    const order = this.orders.get(f.orderId);
    const fromSignal = f.purpose === 'entry' || f.purpose === 'exit';
    this.fills.push({
      seq: ++this.fillSeq,
      orderId: f.orderId,
      timeMs: f.timeMs,
      side: f.side,
      price: f.price,
      qty: f.qty,
      fee: f.fee,
      ...(trip !== undefined ? { pnl: trip.pnl } : {}),
      balanceAfter: pending.cash,
      ...(fromSignal && order !== undefined ? { orderType: order.type } : {}),
      purpose: f.purpose,
      liquidity: f.liquidity,
      reason: f.reason,
      ...(fromSignal && order !== undefined ? { signalTimeMs: order.createdTimeMs } : {}),
    });
  }
}

/** `strategy`, but while `paused()` its buy signals (new entries) are holds saying so. */
function pausable(strategy: Strategy, paused: () => boolean): Strategy {
  return {
    name: strategy.name,
    params: strategy.params,
    timeframe: strategy.timeframe,
    indicators: strategy.indicators,
    ...(strategy.higherTimeframes !== undefined ? { higherTimeframes: strategy.higherTimeframes } : {}),
    onCandle: (ctx) => {
      const s = strategy.onCandle(ctx);
      if (s.action !== 'buy' || !paused()) return s;
      return { ...s, action: 'hold', confidence: 0, reason: `paused (would buy: ${s.reason})` };
    },
  };
}

function signalRecord(s: Signal): BotSignalRecord {
  return {
    closeTimeMs: s.closeTimeMs,
    action: s.action,
    price: s.price,
    confidence: s.confidence,
    reason: s.reason,
    indicators: s.indicators,
  };
}

/** The open positions with their protective exits, from the snapshot (the engine's own view of them). */
function positionsOf(state: EngineState): BotPositionRecord[] {
  const open = new Set(state.book.open);
  return state.book.holdings
    .filter((h) => open.has(h.symbol) && h.qty !== 0)
    .map((h) => {
      const b = state.venue.brackets.find((x) => x.symbol === h.symbol);
      return {
        symbol: h.symbol,
        side: h.qty > 0 ? 'long' : 'short',
        qty: Math.abs(h.qty),
        avgEntryPrice: h.avgEntryPrice,
        entryTimeMs: h.entryTimeMs,
        entryFees: h.entryFees,
        ...(h.lastPrice !== null ? { lastPrice: h.lastPrice } : {}),
        ...(b !== undefined && b.stopLossPrice !== null ? { stopLoss: b.stopLossPrice } : {}),
        ...(b !== undefined && b.takeProfits.length > 0
          ? { takeProfit: { levels: b.takeProfits, done: b.takeProfitsDone } }
          : {}),
        ...(b !== undefined && b.trailingActivationPrice !== null
          ? {
              trailingStop: {
                activationPrice: b.trailingActivationPrice,
                offset: b.trailingOffset,
                trailing: b.trailing,
                bestPrice: b.bestPrice,
                stopPrice: b.trailingStopPrice,
              },
            }
          : {}),
      } satisfies BotPositionRecord;
    });
}
