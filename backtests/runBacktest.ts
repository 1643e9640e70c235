import { UsageError } from '../src/domain/errors.js';
import { iso } from '../src/domain/time.js';
import { sortTimeframes, timeframeMs, type Timeframe } from '../src/domain/timeframe.js';
import { TradingEngine } from '../src/domain/trading/engine.js';
import { StrategyTrader } from '../src/strategies/trader.js';
import { BacktestWarnings } from './backtestWarnings.js';
import { RunTally } from './runTally.js';
import type {
  BacktestData,
  BacktestOptions,
  BacktestResult,
  BacktestTrade,
  PreparedBacktest,
} from './backtestTypes.js';
import { candidatesOf, runCandidates } from './candidateRun.js';
import { EquityRecorder } from './equityRecorder.js';
import { prepareBacktest, streamCandle, streamLength } from './prepareBacktest.js';

export type {
  BacktestData,
  BacktestOptions,
  BacktestResult,
  BacktestTrade,
  PreparedBacktest,
} from './backtestTypes.js';
export { prepareBacktest, prepareColumns } from './prepareBacktest.js';

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
  const gaps = prepared.gaps;
  const engine = new TradingEngine({
    risk: options.risk,
    venue: options.venue,
    initialCash: options.initialCash,
  });

  // The curve and its metrics, one candle behind: the last point waits for the closing fill at the end.
  const curve = new EquityRecorder(
    options.initialCash,
    periodMs,
    prepared.decisions + 1,
    options.series === true,
    options.curve ?? true,
  );
  const metrics = curve.metrics;
  const warnings = new BacktestWarnings();
  const tally = new RunTally(metrics, warnings, options);
  const { onProgress } = options;
  const progressEvery = Math.max(1, options.progressEvery ?? 65_536);
  const book = engine.book;

  const sparse = candidatesOf(prepared, options);
  if (sparse !== undefined) {
    // Milliseconds for a year of candles: progress at the end only.
    runCandidates(strategy, sparse.rows, sparse.candidates, sparse.series, engine, curve, tally);
  } else {
    const trader = new StrategyTrader(strategy, engine, {
      priceTimeframe: prepared.priceTimeframe,
      // Nobody keeps the holds when nobody watches the signals: they need not be objects of their own.
      scratchHolds: options.onSignal === undefined,
      ...(options.indicators !== undefined ? { indicators: options.indicators } : {}),
    });
    try {
      driveStream(prepared, trader, tally, curve, book, onProgress, progressEvery);
    } finally {
      trader.detach();
    }
  }

  const trades = tally.trades;
  warnings.gaps(gaps, prepared.inputTimeframe ?? '1m');
  let closedAtEnd: BacktestTrade | undefined;
  const lastT = curve.lastT;
  const lastPrice = curve.lastPrice;
  if (!Number.isNaN(lastT)) {
    if ((options.closeAtEnd ?? true) && book.openCount > 0) {
      const before = tally.trips;
      const held = book.positions.map((p) => `${p.qty} ${p.symbol} (entered ${iso(p.entryTimeMs)})`);
      engine.attach({ fill: (f) => tally.fill(f), roundTrip: (t) => tally.roundTrip(t) });
      engine.closeAll(lastT, lastPrice);
      curve.lastEquity = book.equity;
      closedAtEnd = tally.lastTrade();
      if (tally.trips > before) warnings.closedAtEnd(held, lastPrice, lastT, closedAtEnd?.pnl ?? 0);
    }
    curve.flush();
  }
  const n = curve.n;
  onProgress?.(n);

  const columns = curve.columns();
  const equityTimesMs = columns.times;
  const equityValues = columns.equity;
  let pairs: [number, number][] | undefined;
  return {
    strategy: strategy.name,
    symbol: prepared.symbol,
    timeframe: mainTf,
    metrics: metrics.result(),
    trades,
    get equity_curve(): readonly (readonly [number, number])[] {
      if (pairs === undefined) {
        const k = equityTimesMs.length; // 0 when the curve was not kept
        pairs = new Array<[number, number]>(k);
        for (let i = 0; i < k; i++) pairs[i] = [equityTimesMs[i] as number, equityValues[i] as number];
      }
      return pairs;
    },
    equityTimesMs,
    equity: equityValues,
    ...(columns.series !== undefined ? { series: columns.series } : {}),
    candles: n,
    signals: tally.signals,
    orders: tally.orders,
    denied: tally.denied,
    deniedByReason: tally.deniedByReason,
    fills: tally.fills,
    slTpSameCandle: engine.venue.slTpSameCandle,
    gaps,
    closedAtEnd,
    strategyErrors: warnings.strategyErrorCount,
    warnings: warnings.finish(),
  };
}

/**
 * runPreparedBacktest's loop over every candle of the stream, a function of its own that ends with it:
 * V8 compiles a long loop while it runs (on-stack replacement) and keeps that code for the next runs, and
 * code after the loop that had not run then deoptimized every later run there (an optimizer's runs on 5m
 * candles: 15 of 90, --trace-deopt). The account is read from the book right here (it is the state after
 * the candle). A plain loop over the trader (tradeStrategy's core): no stream layer and no step object per
 * candle.
 */
function driveStream(
  prepared: PreparedBacktest,
  trader: StrategyTrader,
  tally: RunTally,
  curve: EquityRecorder,
  book: TradingEngine['book'],
  onProgress: ((candles: number) => void) | undefined,
  progressEvery: number,
): void {
  const count = streamLength(prepared);
  for (let k = 0; k < count; k++) {
    if (!trader.onCandle(streamCandle(prepared, k))) continue;
    const stepFills = trader.fills;
    const trips = trader.roundTrips;
    if (stepFills !== undefined || trips !== undefined) {
      trader.fills = undefined;
      trader.roundTrips = undefined;
      tally.events(stepFills, trips);
    }
    trader.cancellations = undefined;
    const s = trader.signal;
    if (s === undefined) continue; // a price candle between decisions
    tally.decided(s, trader.decision, trader.strategyError);
    curve.next(s.closeTimeMs, book.equity, book.openCount > 0, s.price);
    const n = curve.n;
    if (onProgress !== undefined && n % progressEvery === 0 && n > 0) onProgress(n);
  }
}
