import type { Signal } from '../src/domain/signal.js';
import type { DeniedReason, Fill, RiskDecision, RoundTrip } from '../src/domain/trading/types.js';
import type { StrategyErrorEvent } from '../src/strategies/runner.js';
import type { MetricsAccumulator } from '../src/domain/metrics.js';
import type { BacktestWarnings } from './backtestWarnings.js';
import type { BacktestOptions, BacktestTrade } from './backtestTypes.js';

/**
 * What a backtest counts and reports of its events, whichever loop drives the engine (every candle
 * through the strategy, or its candidate candles only: runPreparedBacktest): the metrics' fees and
 * trips, the trades, the counts, the warnings, and the caller's callbacks, in event order.
 */
export class RunTally {
  fills = 0;
  orders = 0;
  denied = 0;
  signals = 0;
  readonly deniedByReason: Partial<Record<DeniedReason, number>> = {};
  readonly trades: BacktestTrade[] = [];
  /** Round trips closed so far, kept in `trades` or not. */
  trips = 0;
  private readonly keepTrades: boolean;
  private lastTrip: RoundTrip | undefined = undefined;

  constructor(
    private readonly metrics: MetricsAccumulator,
    private readonly warnings: BacktestWarnings,
    private readonly options: BacktestOptions,
  ) {
    this.keepTrades = options.trades ?? true;
  }

  fill(f: Fill): void {
    this.fills++;
    this.metrics.onFee(f.fee);
    this.options.onFill?.(f);
  }

  roundTrip(t: RoundTrip): void {
    this.metrics.onTrade(t);
    this.trips++;
    if (this.keepTrades) this.trades.push(tradeOf(t));
    else this.lastTrip = t;
    this.options.onRoundTrip?.(t);
  }

  /** The last trade closed (`trades`' last, also when they are not kept). */
  lastTrade(): BacktestTrade | undefined {
    if (this.keepTrades) return this.trades[this.trades.length - 1];
    return this.lastTrip === undefined ? undefined : tradeOf(this.lastTrip);
  }

  /** The fills, then the round trips, of one candle (undefined: none). */
  events(fills: readonly Fill[] | undefined, trips: readonly RoundTrip[] | undefined): void {
    if (fills !== undefined) for (let i = 0; i < fills.length; i++) this.fill(fills[i] as Fill);
    if (trips !== undefined) for (let i = 0; i < trips.length; i++) this.roundTrip(trips[i] as RoundTrip);
  }

  /** A decision: the strategy's signal, what the risk manager made of it, and the strategy's error. */
  decided(s: Signal, d: RiskDecision | undefined, e: StrategyErrorEvent | undefined): void {
    const o = this.options;
    if (e !== undefined) {
      this.warnings.strategyError(e);
      o.onStrategyError?.(e);
    }
    if (s.action !== 'hold') this.signals++;
    if (d !== undefined) {
      if (d.kind === 'order') this.orders++;
      else {
        this.denied++;
        this.deniedByReason[d.reason] = (this.deniedByReason[d.reason] ?? 0) + 1;
      }
      o.onDecision?.(d);
    }
    o.onSignal?.(s);
  }
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
