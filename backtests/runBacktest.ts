import { tap, type Observable } from 'rxjs';
import type { Candle } from '../src/domain/candle.js';
import { UsageError } from '../src/domain/errors.js';
import { MetricsAccumulator, type Metrics } from '../src/domain/metrics.js';
import type { Signal } from '../src/domain/signal.js';
import { sortTimeframes, timeframeMs, type Timeframe } from '../src/domain/timeframe.js';
import type { Trade } from '../src/domain/trade.js';
import type { RiskConfig, VenueModel } from '../src/domain/trading/config.js';
import { TradingEngine } from '../src/domain/trading/engine.js';
import type { Fill, RiskDecision, RoundTrip } from '../src/domain/trading/types.js';
import { resampleCandles } from '../src/operators/resampleCandles.js';
import { skipPartialStart } from '../src/operators/skipPartialStart.js';
import { runStrategy, type StrategyErrorEvent } from '../src/operators/strategy.js';
import { tradesToCandles } from '../src/operators/tradesToCandles.js';
import { VirtualClock } from '../src/scheduling/virtualClock.js';
import type { CandleGap } from '../src/streams/candleCsv.js';
import { replayInVirtualTime } from '../src/streams/replay.js';
import type { Strategy } from '../src/strategies/strategy.js';

/** What a backtest runs on: closed candles of one symbol and one timeframe, or recorded trades. */
export type BacktestData =
  | {
      /** Closed candles of ONE symbol and ONE timeframe, in time order, as given (gaps are reported, not filled). */
      readonly candles: readonly Candle[];
    }
  | {
      /** Recorded trades of ONE symbol, in time order. */
      readonly trades: readonly Trade[];
      /**
       * Drop the first 1m candle (and higher candles opening before the first whole minute), as the live
       * collector does: a recording may have started inside that minute. Default true.
       */
      readonly skipPartialStart?: boolean;
    };

export interface BacktestOptions {
  readonly strategy: Strategy;
  readonly risk: RiskConfig;
  readonly venue: VenueModel;
  readonly initialCash: number;
  /** Close a position still open after the last candle at that candle's close (default true). */
  readonly closeAtEnd?: boolean;
  /** Every decision of the strategy (holds included), in order. */
  readonly onSignal?: (s: Signal) => void;
  /** Every order or denial of the risk manager. */
  readonly onDecision?: (d: RiskDecision) => void;
  /** Every fill (the closing fill at the end included: its `reason` is `closed at end`). */
  readonly onFill?: (f: Fill) => void;
  readonly onStrategyError?: (e: StrategyErrorEvent) => void;
  /** Called every `progressEvery` decision candles (default 65,536) with how many have been run. */
  readonly onProgress?: (candles: number) => void;
  readonly progressEvery?: number;
}

/** One closed round trip as reports show it; `pnl` is net of both fills' fees, `fees` their total. */
export interface BacktestTrade {
  readonly entry_time_ms: number;
  readonly exit_time_ms: number;
  readonly entry_price: number;
  readonly exit_price: number;
  readonly qty: number;
  readonly pnl: number;
  readonly fees: number;
}

export interface BacktestResult {
  readonly strategy: string;
  readonly symbol: string;
  /** The strategy's timeframe: candles of it drive decisions, fills, the equity curve and the metrics. */
  readonly timeframe: Timeframe;
  readonly metrics: Metrics;
  /** Closed round trips in exit order (a partial exit is a trip of its own). */
  readonly trades: readonly BacktestTrade[];
  /** `[closeTimeMs, equity]` after every candle of the strategy's timeframe (built on first access). */
  readonly equity_curve: readonly (readonly [number, number])[];
  /** The same curve as columns. */
  readonly equityTimesMs: Float64Array;
  readonly equity: Float64Array;
  /** Candles of the strategy's timeframe decided on. */
  readonly candles: number;
  /** Buy and sell decisions (holds not counted). */
  readonly signals: number;
  readonly orders: number;
  readonly denied: number;
  readonly fills: number;
  /** Stop-losses filled in a candle whose range also reached a take-profit level (assumed first). */
  readonly slTpSameCandle: number;
  /** Missing intervals between consecutive input candles (never filled). */
  readonly gaps: readonly CandleGap[];
  /** The trip that closed the position still open at the end, if there was one. */
  readonly closedAtEnd: BacktestTrade | undefined;
  readonly strategyErrors: number;
  /** One line each, for people: gaps, the position closed at the end, strategy errors. */
  readonly warnings: readonly string[];
}

/**
 * Runs a backtest: the backtest composition root.
 *
 * Candles (or trades) are replayed in virtual time (`replayInVirtualTime` on a `VirtualClock`: the clock is
 * advanced to each record's time before it is emitted, so timers — a quiet minute closing — fire as they
 * would live) through the live pipeline's operators: trades → `tradesToCandles` → `resampleCandles` →
 * (`skipPartialStart` for trades, as the collector) → `runStrategy`, then risk → fills → portfolio through
 * `TradingEngine`: the synchronous RiskManager / SimulatedVenue / PortfolioBook cores that the live
 * `applyRisk`, `simulateFills` and `portfolio` operators wrap, called in the order those operators see
 * events (per candle: fills at its open and its exit levels, the mark at its close, then the strategy's
 * decision on it). test/trading/wiring.test.ts and test/backtests/parity.test.ts hold the two equal.
 *
 * Orders decided on candle t fill on candle t+1 (market: at its open). A position still open after the
 * last candle is closed at its close (taker fee, no slippage) and the result says so. Metrics are
 * src/domain/metrics.ts's, fed one equity value per candle of the strategy's timeframe.
 *
 * ```ts
 * const { candles } = await readCandleCsv('BTC_USDT-1m.csv', { label: 'open', symbol: 'BTC-USDT' });
 * const r = runBacktest({ candles }, { strategy, risk, venue, initialCash: 10_000 });
 * console.log(r.metrics.totalReturn, r.trades.length, r.warnings);
 * ```
 *
 * Synchronous; throws InvalidDataError on impossible data (out of order, a second symbol, misaligned) and
 * UsageError when the strategy cannot run on the data (its timeframe shorter than the candles').
 */
export function runBacktest(data: BacktestData, options: BacktestOptions): BacktestResult {
  const strategy = options.strategy;
  const mainTf = strategy.timeframe;
  const periodMs = timeframeMs(mainTf);
  const timeframes = sortTimeframes([
    mainTf,
    ...(Object.keys(strategy.higherTimeframes ?? {}) as Timeframe[]),
  ]);

  let symbol = '';
  let gaps: CandleGap[] = [];
  let candles$: Observable<Candle>;
  if ('candles' in data) {
    const candles = data.candles;
    const first = candles[0];
    if (first !== undefined) {
      symbol = first.symbol;
      if (timeframeMs(first.timeframe) > periodMs) {
        throw new UsageError(
          `strategy ${strategy.name} decides on ${mainTf} candles: it cannot run on ${first.timeframe} candles`,
        );
      }
      gaps = findGaps(candles, timeframeMs(first.timeframe));
    }
    const clock = new VirtualClock(first === undefined ? 0 : first.closeTimeMs);
    candles$ = replayInVirtualTime(candles, closeTimeOf, clock).pipe(resampleCandles(timeframes));
  } else {
    const trades = data.trades;
    const first = trades[0];
    if (first !== undefined) symbol = first.symbol;
    const clock = new VirtualClock(first === undefined ? 0 : first.tsMs);
    const built$ = replayInVirtualTime(trades, tsOf, clock).pipe(
      tradesToCandles({ timeframe: '1m' }, clock),
      resampleCandles(timeframes.includes('1m') ? timeframes : ['1m', ...timeframes]),
    );
    candles$ = (data.skipPartialStart ?? true) ? built$.pipe(skipPartialStart()) : built$;
  }

  const trades: BacktestTrade[] = [];
  const metrics = new MetricsAccumulator(options.initialCash, periodMs);
  let fills = 0;
  let orders = 0;
  let denied = 0;
  const onFill = options.onFill;
  const onDecision = options.onDecision;
  const engine = new TradingEngine({
    risk: options.risk,
    venue: options.venue,
    initialCash: options.initialCash,
    timeframe: mainTf,
    listener: {
      fill: (f) => {
        fills++;
        metrics.onFee(f.fee);
        onFill?.(f);
      },
      roundTrip: (t) => {
        metrics.onTrade(t);
        trades.push(tradeOf(t));
      },
      order: (o) => {
        orders++;
        onDecision?.(o);
      },
      denied: (d) => {
        denied++;
        onDecision?.(d);
      },
    },
  });
  const book = engine.book;

  // The curve, as columns (one candle behind: the last point waits for the closing fill at the end).
  let times: Float64Array<ArrayBuffer> = new Float64Array(1024);
  let equity: Float64Array<ArrayBuffer> = new Float64Array(1024);
  let n = 0;
  let lastT = Number.NaN;
  let lastEquity = Number.NaN;
  let lastInMarket = false;
  let lastPrice = Number.NaN;
  let signals = 0;
  let strategyErrors = 0;
  const errorLines: string[] = [];
  const onSignal = options.onSignal;
  const onProgress = options.onProgress;
  const progressEvery = Math.max(1, options.progressEvery ?? 65_536);

  const record = (): void => {
    metrics.onCandle(lastT, lastEquity, lastInMarket, lastPrice);
    if (n === times.length) {
      times = grow(times);
      equity = grow(equity);
    }
    times[n] = lastT;
    equity[n] = lastEquity;
    n++;
  };

  let failure: unknown;
  let failed = false;
  candles$
    .pipe(
      tap((c) => engine.onCandle(c)),
      runStrategy(strategy, {
        onError: (e) => {
          strategyErrors++;
          if (errorLines.length < 5) {
            errorLines.push(`strategy error on the candle closing ${iso(e.closeTimeMs)}: ${e.message}`);
          }
          options.onStrategyError?.(e);
        },
      }),
    )
    .subscribe({
      next: (s) => {
        if (!Number.isNaN(lastT)) record();
        if (s.action !== 'hold') {
          signals++;
          engine.onSignal(s);
        }
        onSignal?.(s);
        lastT = s.closeTimeMs;
        lastEquity = book.equity;
        lastInMarket = book.openCount > 0;
        lastPrice = s.price;
        if (onProgress !== undefined && n % progressEvery === 0 && n > 0) onProgress(n);
      },
      error: (err: unknown) => {
        failed = true;
        failure = err;
      },
    });
  if (failed) throw failure;

  const warnings: string[] = [];
  // Daily stock data has a gap every weekend: name the first few, then count the rest.
  for (const g of gaps.slice(0, MAX_GAP_LINES))
    warnings.push(gapLine(g, 'candles' in data ? data.candles : []));
  if (gaps.length > MAX_GAP_LINES) {
    const rest = gaps.slice(MAX_GAP_LINES);
    const missing = rest.reduce((n, g) => n + g.missing, 0);
    warnings.push(`… and ${rest.length} more gaps (${missing} missing candles, not filled)`);
  }
  let closedAtEnd: BacktestTrade | undefined;
  if (!Number.isNaN(lastT)) {
    if ((options.closeAtEnd ?? true) && book.openCount > 0) {
      const before = trades.length;
      const held = book.positions.map((p) => `${p.qty} ${p.symbol} (entered ${iso(p.entryTimeMs)})`);
      engine.closeAll(lastT, lastPrice);
      lastEquity = book.equity;
      closedAtEnd = trades[trades.length - 1];
      if (trades.length > before) {
        warnings.push(
          `the position still open at the end, ${held.join(', ')}, was closed at the last close ` +
            `${lastPrice} (${iso(lastT)}), net P&L ${round(closedAtEnd?.pnl ?? 0)}`,
        );
      }
    }
    record();
  }
  if (strategyErrors > 0) {
    warnings.push(`${strategyErrors} strategy error${strategyErrors === 1 ? '' : 's'} (held instead):`);
    warnings.push(...errorLines.map((l) => `  ${l}`));
  }
  onProgress?.(n);

  const equityTimesMs = times.slice(0, n);
  const equityValues = equity.slice(0, n);
  let curve: [number, number][] | undefined;
  return {
    strategy: strategy.name,
    symbol,
    timeframe: mainTf,
    metrics: metrics.result(),
    trades,
    get equity_curve(): readonly (readonly [number, number])[] {
      if (curve === undefined) {
        curve = new Array<[number, number]>(n);
        for (let i = 0; i < n; i++) curve[i] = [equityTimesMs[i] as number, equityValues[i] as number];
      }
      return curve;
    },
    equityTimesMs,
    equity: equityValues,
    candles: n,
    signals,
    orders,
    denied,
    fills,
    slTpSameCandle: engine.venue.slTpSameCandle,
    gaps,
    closedAtEnd,
    strategyErrors,
    warnings,
  };
}

function closeTimeOf(c: Candle): number {
  return c.closeTimeMs;
}

function tsOf(t: Trade): number {
  return t.tsMs;
}

function tradeOf(t: RoundTrip): BacktestTrade {
  return {
    entry_time_ms: t.entryTimeMs,
    exit_time_ms: t.exitTimeMs,
    entry_price: t.entryPrice,
    exit_price: t.exitPrice,
    qty: t.qty,
    pnl: t.pnl,
    fees: t.fees,
  };
}

/** Consecutive candles further apart than one interval. */
export function findGaps(candles: readonly Candle[], intervalMs: number): CandleGap[] {
  const gaps: CandleGap[] = [];
  for (let i = 1; i < candles.length; i++) {
    const a = (candles[i - 1] as Candle).closeTimeMs;
    const b = (candles[i] as Candle).closeTimeMs;
    if (b - a > intervalMs) {
      gaps.push({ afterCloseTimeMs: a, beforeCloseTimeMs: b, missing: (b - a) / intervalMs - 1 });
    }
  }
  return gaps;
}

const MAX_GAP_LINES = 5;

function gapLine(g: CandleGap, candles: readonly Candle[]): string {
  const tf = candles[0]?.timeframe ?? '1m';
  const ms = timeframeMs(tf);
  const k = g.missing;
  return (
    `gap: ${k} missing ${tf} candle${k === 1 ? '' : 's'} closing ${iso(g.afterCloseTimeMs + ms)} … ` +
    `${iso(g.beforeCloseTimeMs - ms)} (not filled)`
  );
}

function grow(a: Float64Array): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

function round(x: number): number {
  return Number(x.toFixed(8));
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
