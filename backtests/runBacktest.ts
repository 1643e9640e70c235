import { filter, type Observable } from 'rxjs';
import type { Candle } from '../src/domain/candle.js';
import { UsageError } from '../src/domain/errors.js';
import type { Metrics } from '../src/domain/metrics.js';
import type { Signal } from '../src/domain/signal.js';
import { sortTimeframes, timeframeMs, type Timeframe } from '../src/domain/timeframe.js';
import type { Trade } from '../src/domain/trade.js';
import type { RiskConfig, VenueModel } from '../src/domain/trading/config.js';
import { TradingEngine } from '../src/domain/trading/engine.js';
import type { DeniedReason, Fill, RiskDecision, RoundTrip } from '../src/domain/trading/types.js';
import { resampleCandles } from '../src/operators/resampleCandles.js';
import { skipPartialStart } from '../src/operators/skipPartialStart.js';
import type { StrategyErrorEvent } from '../src/operators/strategy.js';
import { tradesToCandles } from '../src/operators/tradesToCandles.js';
import { VirtualClock } from '../src/scheduling/virtualClock.js';
import type { CandleGap } from '../src/streams/candleCsv.js';
import { replayInVirtualTime } from '../src/streams/replay.js';
import type { Strategy } from '../src/strategies/strategy.js';
import { StrategyTrader } from '../src/strategies/trader.js';
import { EquityRecorder } from './equityRecorder.js';

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
  /** Every closed round trip (the one closed at the end included). */
  readonly onRoundTrip?: (t: RoundTrip) => void;
  /** Also keep, per equity point, the close and whether a position was open (`series` in the result). */
  readonly series?: boolean;
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
  /** With the `series` option: per equity point, the close and whether a position was open (1) or not. */
  readonly series?: { readonly prices: Float64Array; readonly inMarket: Uint8Array };
  /** Candles of the strategy's timeframe decided on. */
  readonly candles: number;
  /** Buy and sell decisions (holds not counted). */
  readonly signals: number;
  readonly orders: number;
  readonly denied: number;
  /** The denied signals by the risk manager's reason (only reasons that occurred). */
  readonly deniedByReason: Readonly<Partial<Record<DeniedReason, number>>>;
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
 * (`skipPartialStart` for trades, as the collector) → `tradeStrategy`, the operator the live bots run,
 * over one `TradingEngine` (risk → fills → portfolio on one book). test/backtests/parity.test.ts holds a
 * backtest equal to the live path against the OKX simulator.
 *
 * Orders decided on a candle fill at the first price after it: the open of the next candle of the input's
 * timeframe (the next 1m candle for 1m candles or trades, whatever the strategy's timeframe), and stops
 * and take-profits are watched on those candles' ranges. The run ends with the last candle of the
 * strategy's timeframe (input candles after it, in a bucket not complete, are not used). A position still
 * open then is closed at its close (taker fee, no slippage) and the result says so. Metrics are
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
  return runPreparedBacktest(prepareBacktest(data, options.strategy), options);
}

/**
 * The candle stream a backtest feeds `tradeStrategy`, built once: the input replayed in virtual time
 * through `tradesToCandles` / `resampleCandles` (and `skipPartialStart` for trades), materialized. It depends
 * on the data and on the timeframes the strategy decides on only, so an optimizer builds it once per
 * timeframe set and runs every parameter combination on it (`runPreparedBacktest`).
 */
export interface PreparedBacktest {
  readonly symbol: string;
  /** The input's own timeframe (1m for trades): its candles carry the prices orders fill at. */
  readonly priceTimeframe: Timeframe;
  /** The strategy timeframe (and higher ones) it was built for. */
  readonly timeframes: readonly Timeframe[];
  /** Closed candles of every timeframe needed, in the order the live pipeline emits them. */
  readonly stream: readonly Candle[];
  /** Candles of the strategy's own timeframe in `stream`: at most that many equity points. */
  readonly decisions: number;
  readonly gaps: readonly CandleGap[];
  /** The input candles (empty for trades): gap warnings name their timeframe. */
  readonly inputTimeframe: Timeframe | undefined;
}

/** Builds the candle stream of `data` for a strategy deciding on `strategy`'s timeframes (see PreparedBacktest). */
export function prepareBacktest(
  data: BacktestData,
  strategy: Pick<Strategy, 'name' | 'timeframe' | 'higherTimeframes'>,
): PreparedBacktest {
  const mainTf = strategy.timeframe;
  const periodMs = timeframeMs(mainTf);
  const decisionTimeframes = [mainTf, ...(Object.keys(strategy.higherTimeframes ?? {}) as Timeframe[])];

  let symbol = '';
  let gaps: CandleGap[] = [];
  let candles$: Observable<Candle>;
  // The input's own candles (the shortest there are) carry the prices orders fill at.
  let priceTf: Timeframe = '1m';
  let inputTf: Timeframe | undefined;
  let endMs = Number.POSITIVE_INFINITY;
  if ('candles' in data) {
    const candles = data.candles;
    const first = candles[0];
    const last = candles[candles.length - 1];
    if (first !== undefined) {
      symbol = first.symbol;
      priceTf = first.timeframe;
      inputTf = first.timeframe;
      if (timeframeMs(first.timeframe) > periodMs) {
        throw new UsageError(
          `strategy ${strategy.name} decides on ${mainTf} candles: it cannot run on ${first.timeframe} candles`,
        );
      }
      gaps = findGaps(candles, timeframeMs(first.timeframe));
    }
    if (last !== undefined) endMs = Math.floor(last.closeTimeMs / periodMs) * periodMs;
    const clock = new VirtualClock(first === undefined ? 0 : first.closeTimeMs);
    candles$ = replayInVirtualTime(candles, closeTimeOf, clock).pipe(
      resampleCandles(sortTimeframes([priceTf, ...decisionTimeframes])),
    );
  } else {
    const trades = data.trades;
    const first = trades[0];
    const last = trades[trades.length - 1];
    if (first !== undefined) symbol = first.symbol;
    const clock = new VirtualClock(first === undefined ? 0 : first.tsMs);
    const built$ = replayInVirtualTime(trades, tsOf, clock).pipe(
      tradesToCandles({ timeframe: '1m' }, clock),
      resampleCandles(sortTimeframes(['1m', ...decisionTimeframes])),
    );
    candles$ = (data.skipPartialStart ?? true) ? built$.pipe(skipPartialStart()) : built$;
    // The last minute the trades complete closes at or before the last trade.
    if (last !== undefined) endMs = Math.floor(last.tsMs / periodMs) * periodMs;
  }
  // The run ends with the last candle of the strategy's timeframe: the price candles after it (a bucket
  // that never completes) could only fill orders that no later decision or mark would follow.
  if (priceTf !== mainTf) candles$ = candles$.pipe(filter((c) => c.closeTimeMs <= endMs));
  const stream: Candle[] = [];
  let failure: unknown;
  let failed = false;
  candles$.subscribe({
    next: (c) => stream.push(c),
    error: (err: unknown) => {
      failed = true;
      failure = err;
    },
  });
  if (failed) throw failure;
  return {
    symbol,
    priceTimeframe: priceTf,
    timeframes: sortTimeframes(decisionTimeframes),
    stream,
    decisions: stream.reduce((k, c) => (c.timeframe === mainTf ? k + 1 : k), 0),
    gaps,
    inputTimeframe: inputTf,
  };
}

/**
 * Runs a strategy on a prepared stream (see prepareBacktest; it must have been built for the strategy's
 * timeframes): `tradeStrategy` over one `TradingEngine`, metrics and the equity curve. What runBacktest
 * does after preparing, so both give the same result.
 */
export function runPreparedBacktest(prepared: PreparedBacktest, options: BacktestOptions): BacktestResult {
  const strategy = options.strategy;
  const mainTf = strategy.timeframe;
  const periodMs = timeframeMs(mainTf);
  const wanted = sortTimeframes([
    mainTf,
    ...(Object.keys(strategy.higherTimeframes ?? {}) as Timeframe[]),
  ]).join(',');
  if (wanted !== prepared.timeframes.join(',')) {
    throw new UsageError(
      `runPreparedBacktest: the stream was prepared for ${prepared.timeframes.join(', ')}, the strategy ${strategy.name} decides on ${wanted}`,
    );
  }
  const symbol = prepared.symbol;
  const gaps = prepared.gaps;
  const priceTf = prepared.priceTimeframe;

  const trades: BacktestTrade[] = [];
  let fills = 0;
  let orders = 0;
  let denied = 0;
  const deniedByReason: Partial<Record<DeniedReason, number>> = {};
  const onFill = options.onFill;
  const onDecision = options.onDecision;
  const engine = new TradingEngine({
    risk: options.risk,
    venue: options.venue,
    initialCash: options.initialCash,
  });

  const curve = new EquityRecorder(
    options.initialCash,
    periodMs,
    prepared.decisions + 1,
    options.series === true,
  );
  const metrics = curve.metrics;
  let signals = 0;
  let strategyErrors = 0;
  const errorLines: string[] = [];
  const onSignal = options.onSignal;
  const onStrategyError = options.onStrategyError;
  const onProgress = options.onProgress;
  const progressEvery = Math.max(1, options.progressEvery ?? 65_536);

  const onAnyFill = (f: Fill): void => {
    fills++;
    metrics.onFee(f.fee);
    onFill?.(f);
  };
  const userRoundTrip = options.onRoundTrip;
  const onRoundTrip = (t: RoundTrip): void => {
    metrics.onTrade(t);
    trades.push(tradeOf(t));
    userRoundTrip?.(t);
  };

  const book = engine.book;
  // The account is read from the book right here (it is the state after the candle). A plain loop over
  // the trader (tradeStrategy's core): no stream layer and no step object per candle.
  const trader = new StrategyTrader(strategy, engine, {
    priceTimeframe: priceTf,
    // Nobody keeps the holds when nobody watches the signals: they need not be objects of their own.
    scratchHolds: onSignal === undefined,
  });
  const stream = prepared.stream;
  try {
    for (let k = 0; k < stream.length; k++) {
      if (!trader.onCandle(stream[k] as Candle)) continue;
      const stepFills = trader.fills;
      if (stepFills !== undefined) {
        trader.fills = undefined;
        for (let i = 0; i < stepFills.length; i++) onAnyFill(stepFills[i] as Fill);
      }
      trader.cancellations = undefined;
      const trips = trader.roundTrips;
      if (trips !== undefined) {
        trader.roundTrips = undefined;
        for (let i = 0; i < trips.length; i++) onRoundTrip(trips[i] as RoundTrip);
      }
      const s = trader.signal;
      if (s === undefined) continue; // a price candle between decisions
      const e = trader.strategyError;
      if (e !== undefined) {
        strategyErrors++;
        if (errorLines.length < 5) {
          errorLines.push(`strategy error on the candle closing ${iso(e.closeTimeMs)}: ${e.message}`);
        }
        onStrategyError?.(e);
      }
      if (s.action !== 'hold') signals++;
      const d = trader.decision;
      if (d !== undefined) {
        if (d.kind === 'order') orders++;
        else {
          denied++;
          deniedByReason[d.reason] = (deniedByReason[d.reason] ?? 0) + 1;
        }
        onDecision?.(d);
      }
      onSignal?.(s);
      curve.next(s.closeTimeMs, book.equity, book.openCount > 0, s.price);
      const n = curve.n;
      if (onProgress !== undefined && n % progressEvery === 0 && n > 0) onProgress(n);
    }
  } finally {
    trader.detach();
  }

  const warnings: string[] = [];
  // Daily stock data has a gap every weekend: name the first few, then count the rest.
  for (const g of gaps.slice(0, MAX_GAP_LINES)) warnings.push(gapLine(g, prepared.inputTimeframe ?? '1m'));
  if (gaps.length > MAX_GAP_LINES) {
    const rest = gaps.slice(MAX_GAP_LINES);
    const missing = rest.reduce((n, g) => n + g.missing, 0);
    warnings.push(`… and ${rest.length} more gaps (${missing} missing candles, not filled)`);
  }
  let closedAtEnd: BacktestTrade | undefined;
  const lastT = curve.lastT;
  const lastPrice = curve.lastPrice;
  if (!Number.isNaN(lastT)) {
    if ((options.closeAtEnd ?? true) && book.openCount > 0) {
      const before = trades.length;
      const held = book.positions.map((p) => `${p.qty} ${p.symbol} (entered ${iso(p.entryTimeMs)})`);
      engine.attach({ fill: onAnyFill, roundTrip: onRoundTrip });
      engine.closeAll(lastT, lastPrice);
      curve.lastEquity = book.equity;
      closedAtEnd = trades[trades.length - 1];
      if (trades.length > before) {
        warnings.push(
          `the position still open at the end, ${held.join(', ')}, was closed at the last close ` +
            `${lastPrice} (${iso(lastT)}), net P&L ${round(closedAtEnd?.pnl ?? 0)}`,
        );
      }
    }
    curve.flush();
  }
  if (strategyErrors > 0) {
    warnings.push(`${strategyErrors} strategy error${strategyErrors === 1 ? '' : 's'} (held instead):`);
    warnings.push(...errorLines.map((l) => `  ${l}`));
  }
  const n = curve.n;
  onProgress?.(n);

  const columns = curve.columns();
  const equityTimesMs = columns.times;
  const equityValues = columns.equity;
  let pairs: [number, number][] | undefined;
  return {
    strategy: strategy.name,
    symbol,
    timeframe: mainTf,
    metrics: metrics.result(),
    trades,
    get equity_curve(): readonly (readonly [number, number])[] {
      if (pairs === undefined) {
        pairs = new Array<[number, number]>(n);
        for (let i = 0; i < n; i++) pairs[i] = [equityTimesMs[i] as number, equityValues[i] as number];
      }
      return pairs;
    },
    equityTimesMs,
    equity: equityValues,
    ...(columns.series !== undefined ? { series: columns.series } : {}),
    candles: n,
    signals,
    orders,
    denied,
    deniedByReason,
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

function gapLine(g: CandleGap, tf: Timeframe): string {
  const ms = timeframeMs(tf);
  const k = g.missing;
  return (
    `gap: ${k} missing ${tf} candle${k === 1 ? '' : 's'} closing ${iso(g.afterCloseTimeMs + ms)} … ` +
    `${iso(g.beforeCloseTimeMs - ms)} (not filled)`
  );
}

function round(x: number): number {
  return Number(x.toFixed(8));
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
