import {
  Observable,
  Subscription,
  type OperatorFunction,
  type SchedulerAction,
  type SchedulerLike,
} from 'rxjs';
import type { Candle } from '../domain/candle.js';
import { decimalsToHold, roundToDecimals } from '../domain/decimals.js';
import { InvalidDataError, UsageError } from '../domain/errors.js';
import { closeTimeOf, timeframeMs, type Timeframe } from '../domain/timeframe.js';
import { compareTradeIds, tradeProblem, type Trade } from '../domain/trade.js';

/** A trade that arrived after the candle it belongs to had been emitted. */
export interface LateTrade {
  readonly trade: Trade;
  /** Close time of the (already emitted) interval the trade belongs to. */
  readonly candleCloseTimeMs: number;
  /** True when a revised candle was emitted for it; false when it was only counted. */
  readonly revised: boolean;
}

/** How long after an interval's close a quiet interval is closed by the clock: covers exchange→us latency. */
export const DEFAULT_GRACE_MS = 2_000;

export interface TradesToCandlesOptions {
  /** Interval length. Default `1m`; higher timeframes are normally derived with `resampleCandles`. */
  readonly timeframe?: Timeframe;
  /**
   * How long after an interval's close the scheduler's clock must pass before a quiet interval is closed
   * by the clock rather than by the next trade. Covers exchange→us latency. Default 2000 ms.
   */
  readonly graceMs?: number;
  /** Emit a revised candle (`revision` > 0) when a late trade lands in a recently emitted interval. Default false. */
  readonly reviseLateTrades?: boolean;
  /** With `reviseLateTrades`: how many emitted intervals per symbol stay revisable. Default 60. */
  readonly revisionWindow?: number;
  /** Told about every late trade, revised or not, so the caller can count and log them. */
  readonly onLateTrade?: (late: LateTrade) => void;
  /**
   * When set, a snapshot of the forming candle (`closed: false`) is emitted at most every this many ms of
   * scheduler time while trades come in. For displays only: strategies must filter on `closed`.
   */
  readonly formingEveryMs?: number;
}

/**
 * Aggregates trades into right-aligned candles, per symbol.
 *
 * <span class="informal">Each interval `[T − tf, T)` becomes one candle stamped `closeTimeMs = T`.
 * The interval closes when a trade at or after `T` arrives, or when the scheduler's clock passes
 * `T + graceMs` — so a quiet market still gets its candles on time, live and in virtual time alike.</span>
 *
 * ```
 * trades (tsMs):   --a(10s)--b(30s)--c(70s)----------------------d(200s)--|
 * tradesToCandles: -------------------X(T=60s: a,b)--Y(T=120s: c)--Z,W----|
 *                                                    (clock ≥ 122s)  (empty 180s; 240s still forming)
 * ```
 *
 * - OHLC follow trade time (ties by trade id), so trades out of order inside the forming interval are fine.
 * - An interval without trades (after the symbol's first trade) yields a candle with volume 0 and OHLC equal
 *   to the previous close.
 * - A trade older than the forming interval never changes emitted history silently: it is reported to
 *   `onLateTrade`, and with `reviseLateTrades` a revised candle (`revision` + 1) is emitted for it while the
 *   interval is within `revisionWindow` (one for consecutive late trades of one interval arriving together:
 *   at the end of the burst, in the same scheduler turn, before any later candle of the symbol). Only that interval is revised: empty candles emitted after it keep
 *   the close they were emitted with.
 * - The forming interval is not emitted when the source completes: it never closed.
 * - A trade with a non-finite or non-positive price, a negative size or a non-integer time errors the stream.
 *
 * Time comes only from `scheduler`: pass the live scheduler in the live app and a virtual clock in
 * backtests and tests. Replaying history through a wall-clock scheduler would close every candle at once.
 *
 * @example
 * ```ts
 * okxTrades$.pipe(tradesToCandles({ graceMs: 2000 }, asyncScheduler), resampleCandles(['1m', '5m', '1h']));
 * ```
 * @see resampleCandles
 */
export function tradesToCandles(
  options: TradesToCandlesOptions,
  scheduler: SchedulerLike,
): OperatorFunction<Trade, Candle> {
  const timeframe = options.timeframe ?? '1m';
  const tfMs = timeframeMs(timeframe);
  const graceMs = checkNonNegative('graceMs', options.graceMs ?? DEFAULT_GRACE_MS);
  const revise = options.reviseLateTrades ?? false;
  const revisionWindow = checkPositiveInteger('revisionWindow', options.revisionWindow ?? 60);
  const formingEveryMs =
    options.formingEveryMs === undefined
      ? undefined
      : checkNonNegative('formingEveryMs', options.formingEveryMs);
  const onLateTrade = options.onLateTrade;

  return (source) =>
    new Observable<Candle>((subscriber) => {
      const states = new Map<string, SymbolState>();
      const timers = new Subscription();
      let lastSymbol: string | undefined;
      let lastState: SymbolState | undefined;

      /** Symbols with a revision waiting to go out, and the action that sends them at the end of the burst. */
      const pending = new Set<SymbolState>();
      let flushAction: Subscription | undefined;

      /** Sends the symbol's waiting revision (one for however many late trades it took). */
      const flushRevision = (s: SymbolState): void => {
        const past = s.pendingRevision;
        if (past === undefined) return;
        s.pendingRevision = undefined;
        pending.delete(s);
        past.revision += 1;
        subscriber.next(past.toCandle(s.symbol, timeframe, true, s.prevClose));
      };

      const flushAll = (): void => {
        if (flushAction !== undefined) timers.remove(flushAction);
        flushAction = undefined;
        for (const s of [...pending]) flushRevision(s);
      };

      /** Any other candle of the symbol goes out after its waiting revision: the order stays the trades'. */
      const emit = (s: SymbolState, interval: Interval, closed: boolean): void => {
        flushRevision(s);
        subscriber.next(interval.toCandle(s.symbol, timeframe, closed, s.prevClose));
      };

      /** Emits the forming interval and every empty interval before `nextCloseTimeMs`, then opens that one. */
      const advance = (s: SymbolState, nextCloseTimeMs: number): void => {
        const f = s.forming;
        emit(s, f, true);
        if (f.tradesCount > 0) s.prevClose = f.close;
        s.remember(f, revise);
        s.formingDirty = false;
        for (let t = f.closeTimeMs + tfMs; t < nextCloseTimeMs && !subscriber.closed; t += tfMs) {
          f.reset(t);
          emit(s, f, true);
          s.remember(f, revise);
        }
        f.reset(nextCloseTimeMs);
      };

      const closeByClock = function (this: SchedulerAction<SymbolState>, state?: SymbolState): void {
        const s = state as SymbolState;
        const now = scheduler.now();
        try {
          while (!subscriber.closed && now >= s.forming.closeTimeMs + graceMs) {
            advance(s, s.forming.closeTimeMs + tfMs);
          }
        } catch (err) {
          subscriber.error(err);
          return;
        }
        if (!subscriber.closed) this.schedule(s, Math.max(0, s.forming.closeTimeMs + graceMs - now));
      };

      const emitForming = function (this: SchedulerAction<SymbolState>, state?: SymbolState): void {
        const s = state as SymbolState;
        if (s.formingAction !== undefined) timers.remove(s.formingAction);
        s.formingAction = undefined;
        if (!s.formingDirty || s.forming.tradesCount === 0) return;
        s.formingDirty = false;
        s.lastFormingEmitMs = scheduler.now();
        emit(s, s.forming, false);
      };

      const markForming = (s: SymbolState): void => {
        s.formingDirty = true;
        if (s.formingAction !== undefined) return;
        const delay = Math.max(0, s.lastFormingEmitMs + (formingEveryMs as number) - scheduler.now());
        s.formingAction = scheduler.schedule(emitForming, delay, s);
        timers.add(s.formingAction);
      };

      const stateFor = (trade: Trade): SymbolState => {
        let s = states.get(trade.symbol);
        if (s === undefined) {
          const closeTimeMs = closeTimeOf(trade.tsMs, tfMs);
          s = new SymbolState(trade.symbol, closeTimeMs, tfMs, revise ? revisionWindow : 0);
          states.set(trade.symbol, s);
          const delay = Math.max(0, closeTimeMs + graceMs - scheduler.now());
          timers.add(scheduler.schedule(closeByClock, delay, s));
        }
        lastSymbol = trade.symbol;
        lastState = s;
        return s;
      };

      const onLate = (s: SymbolState, trade: Trade): void => {
        const candleCloseTimeMs = closeTimeOf(trade.tsMs, tfMs);
        let revised = false;
        const past = revise ? s.recall(candleCloseTimeMs) : undefined;
        if (past !== undefined) {
          past.add(trade);
          if (candleCloseTimeMs === s.forming.closeTimeMs - tfMs) s.prevClose = past.close;
          // Late trades come in bursts (a backfill after a reconnect: thousands at once). Consecutive ones
          // for one interval make one revision, sent before anything else of the symbol or once the burst
          // is over: one per trade would revise every timeframe above it thousands of times.
          if (s.pendingRevision !== past) {
            flushRevision(s);
            s.pendingRevision = past;
            pending.add(s);
          }
          if (flushAction === undefined) {
            flushAction = scheduler.schedule(() => flushAll(), 0);
            timers.add(flushAction);
          }
          revised = true;
        }
        onLateTrade?.({ trade, candleCloseTimeMs, revised });
      };

      const subscription = source.subscribe({
        next: (trade) => {
          try {
            const problem = tradeProblem(trade);
            if (problem !== undefined) {
              throw new InvalidDataError(
                `tradesToCandles: trade ${trade.symbol} #${trade.tradeId}: ${problem}`,
              );
            }
            const s = trade.symbol === lastSymbol ? (lastState as SymbolState) : stateFor(trade);
            const f = s.forming;
            if (trade.tsMs >= f.closeTimeMs) {
              advance(s, closeTimeOf(trade.tsMs, tfMs));
            } else if (trade.tsMs < f.closeTimeMs - tfMs) {
              onLate(s, trade);
              return;
            }
            f.add(trade);
            if (formingEveryMs !== undefined) markForming(s);
          } catch (err) {
            flushAll();
            subscriber.error(err);
          }
        },
        error: (err) => {
          flushAll();
          subscriber.error(err);
        },
        complete: () => {
          flushAll();
          subscriber.complete();
        },
      });

      return () => {
        subscription.unsubscribe();
        timers.unsubscribe();
        states.clear();
        pending.clear();
      };
    });
}

/** Mutable accumulator of one interval of one symbol. */
class Interval {
  open = 0;
  high = 0;
  low = 0;
  close = 0;
  volume = 0;
  /** Decimals of the most precise size added: the volume is rounded to them to shed float drift. */
  volumeDecimals = 0;
  tradesCount = 0;
  revision = 0;
  // Time keys of the trades that set open and close, for ordering trades that arrive out of order.
  firstTs = 0;
  firstId = '';
  lastTs = 0;
  lastId = '';

  constructor(public closeTimeMs: number) {}

  reset(closeTimeMs: number): void {
    this.closeTimeMs = closeTimeMs;
    this.volume = 0;
    this.volumeDecimals = 0;
    this.tradesCount = 0;
    this.revision = 0;
  }

  add(t: Trade): void {
    const price = t.price;
    const ts = t.tsMs;
    if (this.tradesCount === 0) {
      this.open = this.high = this.low = this.close = price;
      this.firstTs = this.lastTs = ts;
      this.firstId = this.lastId = t.tradeId;
    } else {
      if (price > this.high) this.high = price;
      else if (price < this.low) this.low = price;
      if (ts > this.lastTs || (ts === this.lastTs && compareTradeIds(t.tradeId, this.lastId) > 0)) {
        this.close = price;
        this.lastTs = ts;
        this.lastId = t.tradeId;
      } else if (ts < this.firstTs || (ts === this.firstTs && compareTradeIds(t.tradeId, this.firstId) < 0)) {
        this.open = price;
        this.firstTs = ts;
        this.firstId = t.tradeId;
      }
    }
    this.volume += t.size;
    this.volumeDecimals = decimalsToHold(t.size, this.volumeDecimals);
    this.tradesCount += t.count ?? 1;
  }

  copyFrom(o: Interval): void {
    this.closeTimeMs = o.closeTimeMs;
    this.open = o.open;
    this.high = o.high;
    this.low = o.low;
    this.close = o.close;
    this.volume = o.volume;
    this.volumeDecimals = o.volumeDecimals;
    this.tradesCount = o.tradesCount;
    this.revision = o.revision;
    this.firstTs = o.firstTs;
    this.firstId = o.firstId;
    this.lastTs = o.lastTs;
    this.lastId = o.lastId;
  }

  toCandle(symbol: string, timeframe: Timeframe, closed: boolean, prevClose: number): Candle {
    const empty = this.tradesCount === 0;
    return {
      symbol,
      timeframe,
      closeTimeMs: this.closeTimeMs,
      open: empty ? prevClose : this.open,
      high: empty ? prevClose : this.high,
      low: empty ? prevClose : this.low,
      close: empty ? prevClose : this.close,
      volume: roundToDecimals(this.volume, this.volumeDecimals),
      tradesCount: this.tradesCount,
      closed,
      revision: this.revision,
    };
  }
}

class SymbolState {
  readonly forming: Interval;
  /** Close of the last emitted interval that had trades: the OHLC of an empty interval. */
  prevClose = Number.NaN;
  formingDirty = false;
  formingAction: Subscription | undefined = undefined;
  lastFormingEmitMs = Number.NEGATIVE_INFINITY;
  /** An emitted interval revised by late trades, whose revision has not gone out yet. */
  pendingRevision: Interval | undefined = undefined;
  /** Ring of recently emitted intervals, by close time, for revisions (empty when revisions are off). */
  private readonly history: Interval[];

  constructor(
    readonly symbol: string,
    closeTimeMs: number,
    private readonly intervalMs: number,
    historySize: number,
  ) {
    this.forming = new Interval(closeTimeMs);
    this.history = Array.from({ length: historySize }, () => new Interval(Number.NaN));
  }

  remember(emitted: Interval, enabled: boolean): void {
    if (!enabled) return;
    this.slot(emitted.closeTimeMs).copyFrom(emitted);
  }

  recall(closeTimeMs: number): Interval | undefined {
    if (this.history.length === 0) return undefined;
    const slot = this.slot(closeTimeMs);
    return slot.closeTimeMs === closeTimeMs ? slot : undefined;
  }

  private slot(closeTimeMs: number): Interval {
    return this.history[Math.floor(closeTimeMs / this.intervalMs) % this.history.length] as Interval;
  }
}

function checkNonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new UsageError(`tradesToCandles: ${name} must be a finite number ≥ 0, got ${value}`);
  }
  return value;
}

function checkPositiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new UsageError(`tradesToCandles: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
