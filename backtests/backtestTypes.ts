import type { Candle } from '../src/domain/candle.js';
import type { CandleGap } from '../src/domain/candleGaps.js';
import type { Indicator } from '../src/domain/indicators/indicator.js';
import type { Metrics } from '../src/domain/metrics.js';
import type { Signal } from '../src/domain/signal.js';
import type { Timeframe } from '../src/domain/timeframe.js';
import type { Trade } from '../src/domain/trade.js';
import type { RiskConfig, VenueModel } from '../src/domain/trading/config.js';
import type { CandleColumns } from '../src/streams/candleColumns.js';
import type { DeniedReason, Fill, RiskDecision, RoundTrip } from '../src/domain/trading/types.js';
import type { StrategyErrorEvent } from '../src/operators/strategy.js';
import type { Strategy } from '../src/strategies/strategy.js';
import type { Series } from './indicatorReplay.js';

/**
 * What a backtest runs on: closed candles of one symbol and one timeframe (as objects or as columns), or
 * recorded trades.
 */
export type BacktestData =
  | {
      /** Closed candles of ONE symbol and ONE timeframe, in time order, as given (gaps are reported, not filled). */
      readonly candles: readonly Candle[];
    }
  | {
      /**
       * The same as columns (a candle CSV as read): a strategy on their own timeframe runs on the columns
       * themselves (see prepareColumns), with the same checks and results; any other as on `candles`.
       */
      readonly columns: CandleColumns;
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
  /**
   * Keep the equity curve (default true). False: the metrics are the same, but `equity`, `equityTimesMs`
   * and `equity_curve` are empty (a parameter search needs the metrics only).
   */
  readonly curve?: boolean;
  /** Keep the list of trades (default true). False: `trades` is empty; the metrics are the same. */
  readonly trades?: boolean;
  /** Also keep, per equity point, the close and whether a position was open (`series` in the result). */
  readonly series?: boolean;
  readonly onStrategyError?: (e: StrategyErrorEvent) => void;
  /** Called every `progressEvery` decision candles (default 65,536) with how many have been run. */
  readonly onProgress?: (candles: number) => void;
  readonly progressEvery?: number;
  /**
   * Instances for some of the strategy's main-timeframe indicators, used instead of fresh ones: each must
   * give, update by update, exactly what a fresh instance would (optimize replays series computed once).
   */
  readonly indicators?: Readonly<Record<string, Indicator<unknown>>>;
  /**
   * Every main-timeframe indicator's values over the prepared stream's decision candles (seriesOf), by the
   * strategy's names for them, computed once for many runs (optimize). A strategy that has `candidates`,
   * on a stream of candle columns, is asked on its candidate candles only (see backtests/candidateRun.ts:
   * the same result), on these series or on series the run computes; other runs do not use them.
   */
  readonly indicatorSeries?: Readonly<Record<string, Series>>;
  /**
   * Ask the strategy on every candle even when it lists its candidates (the same result, slower: for
   * checking a strategy's `candidates`).
   */
  readonly everyCandle?: boolean;
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
  /**
   * Closed candles of every timeframe needed, in the order the live pipeline emits them. Empty when
   * `columns` holds them instead.
   */
  readonly stream: readonly Candle[];
  /**
   * The stream as rows `from` … `to` − 1 of candle columns (one timeframe, the strategy's): each candle is
   * made when the run reaches it and dropped after, so a search keeps no candle objects alive between
   * runs (71 k of them cost every optimize worker ~0.2 s of garbage collection). See prepareColumns.
   */
  readonly columns?: ColumnRange;
  /** Candles of the strategy's own timeframe in the stream: at most that many equity points. */
  readonly decisions: number;
  readonly gaps: readonly CandleGap[];
  /** The input candles (empty for trades): gap warnings name their timeframe. */
  readonly inputTimeframe: Timeframe | undefined;
}

/** Rows `from` … `to` − 1 of candle columns, in order. */
export interface ColumnRange {
  readonly columns: CandleColumns;
  readonly from: number;
  readonly to: number;
}
