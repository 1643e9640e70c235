import type { Candle } from '../../src/domain/candle.js';
import type { Signal } from '../../src/domain/signal.js';
import { CLOSED_AT_END } from '../../src/domain/trading/engine.js';
import type { Fill } from '../../src/domain/trading/types.js';
import { readCandleCsvColumns } from '../../src/streams/candleCsv.js';
import {
  prepareBacktest,
  prepareColumns,
  runBacktest,
  runPreparedBacktest,
} from '../../backtests/runBacktest.js';
import { parseRiskConfig, parseVenueModel } from '../../src/domain/trading/config.js';
import { defaultStrategyRegistry } from '../../src/strategies/registry.js';
import { backtest, BTC_MONTH, fixtureCandles } from './support.js';

/**
 * Fills at the first price after the decision: a strategy deciding on 15m candles, run on 1m candles,
 * has its orders filled at the open of the next 1m candle and its stops and take-profits watched on the
 * 1m candles' ranges, as a live bot on the 1m feed has them.
 */

const MIN = 60_000;
const QUARTER = 15 * MIN;

describe('runBacktest: a 15m strategy on 1m candles', () => {
  it('fills at the next 1m open and watches exits on 1m ranges; the run ends with the last 15m candle', async () => {
    // 10,007 minutes: the last 15m bucket is not complete.
    const candles = (await fixtureCandles(BTC_MONTH)).slice(0, 10_007);
    const byOpen = new Map(candles.map((c) => [c.closeTimeMs - MIN, c]));
    const signals: Signal[] = [];
    const fills: Fill[] = [];
    const r = backtest(
      { candles },
      { name: 'ema_crossover', params: { timeframe: '15m', fast_period: 5, slow_period: 13, atr_period: 5 } },
      {
        sizing: { type: 'equity', percentage: 90 },
        stop_loss_percentage: 0.6,
        take_profit: [{ percentage: 0.8, position_percentage: 50 }],
        trailing_stop: { activation_percentage: 0.4, offset_percentage: 0.3 },
        lot_size: 0.00001,
      },
      { onSignal: (s) => signals.push(s), onFill: (f) => fills.push(f) },
    );
    const lastDecision = (signals[signals.length - 1] as Signal).closeTimeMs;
    expect(signals.every((s) => s.timeframe === '15m' && s.closeTimeMs % QUARTER === 0)).toBe(true);
    expect(lastDecision).toBe(
      Math.floor((candles[candles.length - 1] as Candle).closeTimeMs / QUARTER) * QUARTER,
    );
    expect(r.candles).toBe(signals.length);

    const traded = fills.filter((f) => f.reason !== CLOSED_AT_END);
    const signalled = fills.filter((f) => f.purpose === 'entry' || f.purpose === 'exit');
    const plan = traded.filter((f) => f.purpose !== 'entry' && f.purpose !== 'exit');
    expect(signalled.length).toBeGreaterThan(10);
    expect(new Set(plan.map((f) => f.purpose))).toEqual(
      new Set(['stop_loss', 'take_profit', 'trailing_stop']),
    );
    for (const f of traded) {
      const c = byOpen.get(f.timeMs) as Candle;
      expect(f.timeMs).toBeLessThan(lastDecision);
      expect(f.price).toBeGreaterThanOrEqual(c.low);
      expect(f.price).toBeLessThanOrEqual(c.high);
    }
    // Market orders: at the open of the 1m candle that opens when the decision is made.
    for (const f of signalled.filter((x) => x.reason !== CLOSED_AT_END)) {
      expect(f.timeMs % QUARTER).toBe(0);
      expect(f.price).toBe(byOpen.get(f.timeMs)?.open);
    }
    // Stops and take-profits inside the quarter: seen on a 1m candle, at its time.
    expect(plan.filter((f) => f.timeMs % QUARTER !== 0).length).toBeGreaterThan(plan.length / 2);
  });
});

describe('runBacktest: holds nobody keeps', () => {
  it('without onSignal (reused hold objects) the result is the one with every signal kept', async () => {
    const candles = (await fixtureCandles(BTC_MONTH)).slice(0, 8_000);
    const strategy = { name: 'sma_cross', params: { fast_period: 10, slow_period: 40 } };
    const risk = { sizing: { type: 'equity' as const, percentage: 100 } };
    const signals: Signal[] = [];
    const watched = backtest({ candles }, strategy, risk, { onSignal: (s) => signals.push(s) });
    const quiet = backtest({ candles }, strategy, risk);
    expect(quiet.metrics).toEqual(watched.metrics);
    expect(quiet.trades).toEqual(watched.trades);
    expect(Array.from(quiet.equity)).toEqual(Array.from(watched.equity));
    expect(quiet.signals).toBe(watched.signals);
    // Watched, every signal is an object of its own, holds included, with the indicator values it used.
    expect(new Set(signals).size).toBe(signals.length);
    const holds = signals.filter((s) => s.reason === 'no crossing');
    expect(holds.length).toBeGreaterThan(1000);
    expect(new Set(holds.map((s) => s.indicators)).size).toBe(holds.length);
    expect(holds.every((s) => typeof s.indicators.sma_10 === 'number')).toBe(true);
    expect(new Set(holds.map((s) => s.closeTimeMs)).size).toBe(holds.length);
  });
});

describe('runBacktest: curve false (a parameter search)', () => {
  it('gives the same metrics, counts and trades, and keeps no equity curve', async () => {
    const candles = (await fixtureCandles(BTC_MONTH)).slice(0, 8_000);
    const strategy = { name: 'sma_cross', params: { fast_period: 10, slow_period: 40 } };
    const risk = { sizing: { type: 'equity' as const, percentage: 100 } };
    const full = backtest({ candles }, strategy, risk);
    const bare = backtest({ candles }, strategy, risk, { curve: false });
    expect(full.trades.length).toBeGreaterThan(10);
    expect(bare.metrics).toEqual(full.metrics);
    expect(bare.trades).toEqual(full.trades);
    expect([bare.candles, bare.signals, bare.fills]).toEqual([full.candles, full.signals, full.fills]);
    expect(full.equity.length).toBe(full.candles);
    expect(bare.equity.length).toBe(0);
    expect(bare.equityTimesMs.length).toBe(0);
    expect(bare.equity_curve).toEqual([]);
  });
});

describe('prepareColumns: a run on candle columns, no candle objects kept', () => {
  const options = (name: string, params: Record<string, unknown>) => ({
    strategy: defaultStrategyRegistry().create(name, params),
    risk: parseRiskConfig({ sizing: { type: 'equity', percentage: 100 }, stop_loss_percentage: 1 }),
    venue: parseVenueModel({}),
    initialCash: 10_000,
  });

  it('runs what the candle stream runs: same metrics, trades, curve and gaps, on any row range', async () => {
    const { columns } = await readCandleCsvColumns(BTC_MONTH, { symbol: 'BTC-USDT' });
    const candles = await fixtureCandles(BTC_MONTH);
    for (const [from, to] of [
      [0, columns.length],
      [5_000, 17_000],
    ] as const) {
      const o = options('sma_cross', { fast_period: 10, slow_period: 40 });
      const onRows = prepareColumns({ columns, from, to }, o.strategy);
      expect(onRows?.columns).toEqual({ columns, from, to });
      expect(onRows?.stream).toEqual([]);
      const onCandles = prepareBacktest({ candles: candles.slice(from, to) }, o.strategy);
      const a = runPreparedBacktest(onRows!, o);
      const b = runPreparedBacktest(onCandles, o);
      expect(a.trades.length).toBeGreaterThan(10);
      expect(a.metrics).toEqual(b.metrics);
      expect(a.trades).toEqual(b.trades);
      expect(Array.from(a.equity)).toEqual(Array.from(b.equity));
      expect(a.gaps).toEqual(b.gaps);
      expect(a.warnings).toEqual(b.warnings);
    }
  });

  it('leaves to prepareBacktest a strategy on another timeframe, and an empty range', async () => {
    const { columns } = await readCandleCsvColumns(BTC_MONTH, { symbol: 'BTC-USDT' });
    const on5m = options('sma_cross', { timeframe: '5m' }).strategy;
    expect(prepareColumns({ columns, from: 0, to: columns.length }, on5m)).toBeUndefined();
    const on1m = options('sma_cross', {}).strategy;
    expect(prepareColumns({ columns, from: 10, to: 10 }, on1m)).toBeUndefined();
  });

  it('runBacktest on { columns }: the run on { candles }, for a strategy on their timeframe or another', async () => {
    const { columns } = await readCandleCsvColumns(BTC_MONTH, { symbol: 'BTC-USDT' });
    const candles = await fixtureCandles(BTC_MONTH);
    for (const params of [{}, { timeframe: '15m' }]) {
      const onColumns = runBacktest({ columns }, options('ema_crossover', params));
      const onCandles = runBacktest({ candles }, options('ema_crossover', params));
      expect(onColumns.trades.length).toBeGreaterThan(5);
      expect(onColumns.metrics).toEqual(onCandles.metrics);
      expect(onColumns.trades).toEqual(onCandles.trades);
      expect(onColumns.equity_curve).toEqual(onCandles.equity_curve);
      expect(onColumns.warnings).toEqual(onCandles.warnings);
      expect(onColumns.candles).toBe(onCandles.candles);
    }
    const none = { ...columns, length: 0 };
    expect(runBacktest({ columns: none }, options('ema_crossover', {})).candles).toBe(0);
  });

  it('refuses rows out of order with the error the candle stream gives', async () => {
    const { columns } = await readCandleCsvColumns(BTC_MONTH, { symbol: 'BTC-USDT' });
    const times = Float64Array.from(columns.closeTimeMs.subarray(0, 100));
    [times[50], times[51]] = [times[51] as number, times[50] as number];
    const swapped = { ...columns, length: 100, closeTimeMs: times };
    const strategy = options('sma_cross', {}).strategy;
    const expected = /closing at .* arrived after .*: input must be in time order without duplicates/;
    expect(() => prepareColumns({ columns: swapped, from: 0, to: 100 }, strategy)).toThrow(expected);
    const candles = (await fixtureCandles(BTC_MONTH)).slice(0, 100);
    [candles[50], candles[51]] = [
      candles[51] as (typeof candles)[number],
      candles[50] as (typeof candles)[number],
    ];
    expect(() => prepareBacktest({ candles }, strategy)).toThrow(expected);
  });
});
