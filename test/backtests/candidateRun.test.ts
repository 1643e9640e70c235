import type { Signal } from '../../src/domain/signal.js';
import type { Fill, RiskDecision, RoundTrip } from '../../src/domain/trading/types.js';
import { UsageError } from '../../src/domain/errors.js';
import { parseRiskConfig, parseVenueModel, type RiskConfigInput } from '../../src/domain/trading/config.js';
import { readCandleCsvColumns } from '../../src/streams/candleCsv.js';
import type { CandleColumns } from '../../src/streams/candleColumns.js';
import { defaultStrategyRegistry } from '../../src/strategies/registry.js';
import { StrategyRunner } from '../../src/strategies/runner.js';
import type { IndicatorSeries, Strategy } from '../../src/strategies/strategy.js';
import type { IndicatorFactory } from '../../src/domain/indicators/indicator.js';
import { candidatesOf } from '../../backtests/candidateRun.js';
import { seriesOf, type Series } from '../../backtests/indicatorReplay.js';
import {
  prepareColumns,
  runPreparedBacktest,
  type BacktestOptions,
  type BacktestResult,
  type PreparedBacktest,
} from '../../backtests/runBacktest.js';
import { BTC_MONTH, fixtureCandles } from './support.js';

/**
 * A strategy with `candidates` is asked on those candles only when a run has its indicator series
 * (optimize, walk-forward): that run must be the run over every candle, number for number and event for
 * event, whatever the risk plan (exits watched on every candle), the fees, the slippage or the range.
 */

const registry = defaultStrategyRegistry();
let columns: CandleColumns;

beforeAll(async () => {
  ({ columns } = await readCandleCsvColumns(BTC_MONTH, { symbol: 'BTC-USDT' }));
});

function seriesFor(strategy: Strategy, prepared: PreparedBacktest): Record<string, Series> {
  const out: Record<string, Series> = {};
  for (const [name, make] of Object.entries(strategy.indicators)) {
    out[name] = seriesOf((make as IndicatorFactory)(), prepared, strategy.timeframe);
  }
  return out;
}

/** Everything a run reports, its callbacks' events in order included. */
function recorded(
  prepared: PreparedBacktest,
  options: BacktestOptions,
): { result: BacktestResult; events: unknown[]; progress: number[] } {
  const events: unknown[] = [];
  const progress: number[] = [];
  const result = runPreparedBacktest(prepared, {
    ...options,
    series: true,
    progressEvery: 5_000,
    onFill: (f: Fill) => events.push(['fill', f]),
    onRoundTrip: (t: RoundTrip) => events.push(['trip', t]),
    onDecision: (d: RiskDecision) => events.push(['decision', d]),
    onProgress: (n: number) => progress.push(n),
  });
  return { result, events, progress };
}

function plain(r: BacktestResult): unknown {
  return {
    ...r,
    equity_curve: undefined,
    equity: Array.from(r.equity),
    equityTimesMs: Array.from(r.equityTimesMs),
    series: { prices: Array.from(r.series?.prices ?? []), inMarket: Array.from(r.series?.inMarket ?? []) },
  };
}

const RISKS: readonly [string, RiskConfigInput, Record<string, unknown>][] = [
  ['all in, no exits', { sizing: { type: 'equity', percentage: 100 } }, {}],
  [
    'stop, partial take-profits, trailing stop, lots, fixed slippage',
    {
      sizing: { type: 'equity', percentage: 90 },
      stop_loss_percentage: 0.6,
      take_profit: [
        { percentage: 0.5, position_percentage: 50 },
        { percentage: 1.2, position_percentage: 50 },
      ],
      trailing_stop: { activation_percentage: 0.4, offset_percentage: 0.3 },
      lot_size: 0.00001,
    },
    { fee_rate: 0.002, slippage: { type: 'fixed', bps: 3 } },
  ],
  [
    'risk sizing scaled by confidence, random slippage',
    {
      sizing: { type: 'risk', percentage: 2 },
      stop_loss_percentage: 1,
      scale_by_confidence: true,
      min_notional: 5,
    },
    { slippage: { type: 'random', max_bps: 8, seed: 7 } },
  ],
];

describe('a run on candidate candles', () => {
  it.each(RISKS)('equals the run over every candle: %s', (_label, risk, venue) => {
    for (const [name, params] of [
      ['sma_cross', { fast_period: 5, slow_period: 20 }],
      ['sma_cross', { fast_period: 30, slow_period: 160, atr_period: 40 }],
      ['ema_crossover', { fast_period: 9, slow_period: 21 }],
      ['rsi_reversion', { period: 7, oversold: 25, overbought: 75 }],
      ['macd_trend', { fast_period: 8, slow_period: 21, signal_period: 5 }],
      ['bollinger_breakout', { period: 10, std_dev: 1.5 }],
      ['momentum', { roc_periods: [1, 5], roc_thresholds: [0.15, 0.4] }],
      ['momentum', { roc_periods: [3, 30], roc_thresholds: [0.2, 0.6], rsi_period: 7, bb_period: 40 }],
    ] as const) {
      for (const [from, to] of [
        [0, 24_000],
        [31_003, columns.length],
      ] as const) {
        const strategy = registry.create(name, params);
        const prepared = prepareColumns({ columns, from, to }, strategy)!;
        const options: BacktestOptions = {
          strategy,
          risk: parseRiskConfig(risk),
          venue: parseVenueModel(venue),
          initialCash: 10_000,
        };
        const indicatorSeries = seriesFor(strategy, prepared);
        const shortcut = candidatesOf(prepared, { ...options, indicatorSeries });
        expect(shortcut).toBeDefined();
        // Far fewer decisions than candles: the shortcut is the point.
        expect(shortcut!.candidates.length).toBeLessThan((to - from) / 4);

        expect(candidatesOf(prepared, { ...options, everyCandle: true })).toBeUndefined();
        const every = recorded(prepared, { ...options, everyCandle: true });
        const some = recorded(prepared, { ...options, indicatorSeries });
        expect(every.result.trades.length).toBeGreaterThan(20);
        expect(plain(some.result)).toEqual(plain(every.result));
        expect(some.events).toEqual(every.events);
        expect(some.progress[some.progress.length - 1]).toBe(every.result.candles);
        // Without series given, the run computes them: the same again.
        expect(plain(recorded(prepared, options).result)).toEqual(plain(every.result));
      }
    }
  });

  it('asks the strategy on its candidates only, with the context it would have had', () => {
    const strategy = registry.create('sma_cross', { fast_period: 10, slow_period: 40 });
    const prepared = prepareColumns({ columns, from: 0, to: columns.length }, strategy)!;
    const seen: { t: number; prev: number | undefined; fast: unknown; prevFast: unknown }[] = [];
    const watched: Strategy = Object.assign(Object.create(strategy) as Strategy, {
      onCandle(ctx: Parameters<Strategy['onCandle']>[0]): Signal {
        seen.push({
          t: ctx.candle.closeTimeMs,
          prev: ctx.previousCandle?.closeTimeMs,
          fast: ctx.values.fast,
          prevFast: ctx.previous.fast,
        });
        return strategy.onCandle(ctx);
      },
    });
    const options: BacktestOptions = {
      strategy: watched,
      risk: parseRiskConfig({ sizing: { type: 'equity', percentage: 100 } }),
      venue: parseVenueModel({}),
      initialCash: 10_000,
    };
    const r = runPreparedBacktest(prepared, { ...options, indicatorSeries: seriesFor(strategy, prepared) });
    expect(r.signals).toBeGreaterThan(100);
    expect(seen.length).toBe(r.signals);
    const series = seriesFor(strategy, prepared).fast as { numbers: Float64Array; from: number };
    const rowOf = new Map(Array.from(columns.closeTimeMs, (t, k) => [t, k]));
    for (const s of seen) {
      const k = rowOf.get(s.t) as number;
      expect(s.prev).toBe(columns.closeTimeMs[k - 1]);
      expect(s.fast).toBe(series.numbers[k]);
      expect(s.prevFast).toBe(series.numbers[k - 1]);
    }
  });

  it('is not taken when every signal is watched, or for a strategy without candidates', () => {
    // It lists no candidates: it is asked on every candle.
    const strategy: Strategy = Object.assign(Object.create(registry.create('momentum', {})) as Strategy, {
      candidates: undefined,
    });
    const prepared = prepareColumns({ columns, from: 0, to: 5_000 }, strategy)!;
    const base: BacktestOptions = {
      strategy,
      risk: parseRiskConfig({ sizing: { type: 'equity', percentage: 100 } }),
      venue: parseVenueModel({}),
      initialCash: 10_000,
      indicatorSeries: seriesFor(strategy, prepared),
    };
    expect(strategy.candidates).toBeUndefined();
    expect(candidatesOf(prepared, base)).toBeUndefined();
    const cross = registry.create('sma_cross', {});
    const p2 = prepareColumns({ columns, from: 0, to: 5_000 }, cross)!;
    const withSeries = { ...base, strategy: cross, indicatorSeries: seriesFor(cross, p2) };
    expect(candidatesOf(p2, withSeries)).toBeDefined();
    expect(candidatesOf(p2, { ...withSeries, onSignal: () => undefined })).toBeUndefined();
  });

  it('computes the series itself when they are numbers, and is not taken for object-valued ones', () => {
    for (const [name, taken] of [
      ['sma_cross', true],
      ['rsi_reversion', true],
      ['macd_trend', false],
      ['bollinger_breakout', false],
      ['momentum', false],
    ] as const) {
      const strategy = registry.create(name, {});
      const prepared = prepareColumns({ columns, from: 0, to: 5_000 }, strategy)!;
      const options: BacktestOptions = {
        strategy,
        risk: parseRiskConfig({ sizing: { type: 'equity', percentage: 100 } }),
        venue: parseVenueModel({}),
        initialCash: 10_000,
      };
      expect({ name, taken: candidatesOf(prepared, options) !== undefined }).toEqual({ name, taken });
      // Given the series (an optimizer's), every built-in takes it.
      const given = { ...options, indicatorSeries: seriesFor(strategy, prepared) };
      expect({ name, given: candidatesOf(prepared, given) !== undefined }).toEqual({ name, given: true });
    }
  });

  it('refuses a candidates list out of order, out of range or not of integers, naming the strategy', () => {
    const strategy = registry.create('sma_cross', {});
    const prepared = prepareColumns({ columns, from: 0, to: 1_000 }, strategy)!;
    const lists: (number[] | Int32Array)[] = [[5, 3], [1, 1], [-1], [1_000], [2.5], [Number.NaN]];
    for (const list of [...lists, Int32Array.from([5, 3]), Int32Array.from([1_000])]) {
      const bad: Strategy = Object.assign(Object.create(strategy) as Strategy, {
        candidates: () => list,
      });
      const options: BacktestOptions = {
        strategy: bad,
        risk: parseRiskConfig({ sizing: { type: 'equity', percentage: 100 } }),
        venue: parseVenueModel({}),
        initialCash: 10_000,
        indicatorSeries: seriesFor(strategy, prepared),
      };
      expect(() => runPreparedBacktest(prepared, options)).toThrow(UsageError);
      expect(() => runPreparedBacktest(prepared, options)).toThrow(/strategy sma_cross: candidates\(\)/);
    }
  });
});

describe('candidates of the built-in strategies', () => {
  it('list every candle on which onCandle buys or sells, on real candles', async () => {
    const candles = await fixtureCandles(BTC_MONTH);
    for (const [name, params] of [
      ['sma_cross', { fast_period: 2, slow_period: 3, atr_period: 30 }],
      ['sma_cross', { fast_period: 10, slow_period: 30 }],
      ['ema_crossover', { fast_period: 12, slow_period: 26, atr_period: 2 }],
      ['ema_crossover', { fast_period: 50, slow_period: 200 }],
      ['rsi_reversion', {}],
      ['rsi_reversion', { period: 2, oversold: 10, overbought: 90 }],
      ['rsi_reversion', { period: 30, oversold: 45, overbought: 55 }],
      ['macd_trend', {}],
      ['macd_trend', { fast_period: 3, slow_period: 7, signal_period: 2, atr_period: 50 }],
      ['bollinger_breakout', {}],
      ['bollinger_breakout', { period: 5, std_dev: 1 }],
      ['bollinger_breakout', { period: 60, std_dev: 3 }],
      ['momentum', {}],
      ['momentum', { roc_periods: [1], roc_thresholds: [0.1], macd_fast: 3, macd_slow: 8, macd_signal: 2 }],
      ['momentum', { roc_periods: [5, 60], roc_thresholds: [0.4, 2], oversold: 45, overbought: 55 }],
    ] as const) {
      const strategy = registry.create(name, params);
      const prepared = prepareColumns({ columns, from: 0, to: columns.length }, strategy)!;
      const acting: number[] = [];
      const runner = new StrategyRunner(strategy);
      candles.forEach((c, k) => {
        if (runner.onCandle(c)?.action !== 'hold') acting.push(k);
      });
      const series = seriesFor(strategy, prepared) as IndicatorSeries;
      const listed = strategy.candidates!(series, columns.length, columns)!;
      expect(acting.length).toBeGreaterThan(50);
      // Crossings are exactly what it acts on: the list is not only a superset, it is the set.
      expect(Array.from(listed)).toEqual(acting);
    }
  });

  it('is undefined when an indicator series is not of the shape the strategy knows', () => {
    const numbers = { numbers: new Float64Array(10), from: 0 };
    const objects = { values: new Array<unknown>(10).fill({ macd: 1, signal: 2, hist: -1 }) };
    const candles = { ...columns, length: 10 };
    const cross = registry.create('sma_cross', {});
    expect(cross.candidates!({ fast: numbers, slow: objects, atr: numbers }, 10, candles)).toBeUndefined();
    const rsi = registry.create('rsi_reversion', {});
    expect(rsi.candidates!({ rsi: objects }, 10, candles)).toBeUndefined();
    const macd = registry.create('macd_trend', {});
    expect(macd.candidates!({ macd: numbers, atr: numbers }, 10, candles)).toBeUndefined();
    expect(macd.candidates!({ macd: objects, atr: objects }, 10, candles)).toBeUndefined();
    expect(Array.from(macd.candidates!({ macd: objects, atr: numbers }, 10, candles)!)).toEqual([]);
    const bb = registry.create('bollinger_breakout', {});
    expect(bb.candidates!({ bb: numbers }, 10, candles)).toBeUndefined();
    const momentum = registry.create('momentum', { roc_periods: [1, 5], roc_thresholds: [0.5, 1] });
    const good = { rsi: numbers, macd: objects, bb: objects, roc0: numbers, roc1: numbers };
    expect(Array.from(momentum.candidates!(good, 10, candles)!)).toEqual([]);
    expect(momentum.candidates!({ ...good, roc1: objects }, 10, candles)).toBeUndefined();
    expect(momentum.candidates!({ ...good, rsi: objects }, 10, candles)).toBeUndefined();
    expect(momentum.candidates!({ ...good, macd: numbers }, 10, candles)).toBeUndefined();
    // The trend is a higher timeframe's: not in the series.
    const trend = registry.create('momentum', { trend_confirmation: true });
    expect(trend.candidates!(good, 10, candles)).toBeUndefined();
  });
});
