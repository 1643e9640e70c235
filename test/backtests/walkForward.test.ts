import { combinations, parseGrid } from '../../backtests/grid.js';
import type { OptimizeSetup } from '../../backtests/optimize.js';
import { runBacktest } from '../../backtests/runBacktest.js';
import { makeFolds, parseWalkForward, walkForward } from '../../backtests/walkForward.js';
import { UsageError } from '../../src/domain/errors.js';
import { parseRiskConfig, parseVenueModel } from '../../src/domain/trading/config.js';
import { candlesOfColumns, type CandleColumns } from '../../src/streams/candleColumns.js';
import { readCandleCsvColumns } from '../../src/streams/candleCsv.js';
import { defaultStrategyRegistry } from '../../src/strategies/registry.js';
import { BTC_MONTH } from './support.js';

const DAY = 86_400_000;
const spec = parseWalkForward('train=7d,test=3d');
const combos = combinations(parseGrid('fast_period=5,20,slow_period=30,60'));

async function setupOf(columns?: CandleColumns): Promise<OptimizeSetup> {
  return {
    strategyName: 'sma_cross',
    baseParams: {},
    risk: parseRiskConfig({ sizing: { type: 'equity', percentage: 95 } }),
    venue: parseVenueModel({ fee_rate: 0.001 }),
    initialCash: 10_000,
    columns: columns ?? (await readCandleCsvColumns(BTC_MONTH, { symbol: 'BTC-USDT' })).columns,
  };
}

/**
 * The candles closing after `afterMs` replaced by a planted pattern: a clean 90-minute sine wave, on which
 * fast SMA crossings trade every swing. Earlier candles are untouched.
 */
function plantAfter(c: CandleColumns, afterMs: number): CandleColumns {
  const copy = (a: Float64Array) => Float64Array.from(a);
  const out = { ...c, open: copy(c.open), high: copy(c.high), low: copy(c.low), close: copy(c.close) };
  for (let i = 0; i < c.length; i++) {
    if ((c.closeTimeMs[i] as number) <= afterMs) continue;
    const p = 50_000 * (1 + 0.03 * Math.sin((2 * Math.PI * i) / 90));
    const q = 50_000 * (1 + 0.03 * Math.sin((2 * Math.PI * (i - 1)) / 90));
    out.open[i] = q;
    out.close[i] = p;
    out.high[i] = Math.max(p, q);
    out.low[i] = Math.min(p, q);
  }
  return out;
}

describe('parseWalkForward', () => {
  it('reads train, test and an optional step (default: test) in m, h, d, w', () => {
    expect(parseWalkForward('train=30d,test=7d')).toEqual({
      trainMs: 30 * DAY,
      testMs: 7 * DAY,
      stepMs: 7 * DAY,
    });
    expect(parseWalkForward('train=2w, test=12h, step=1d')).toEqual({
      trainMs: 14 * DAY,
      testMs: DAY / 2,
      stepMs: DAY,
    });
  });

  it('names the bad part', () => {
    expect(() => parseWalkForward('train=30d')).toThrow(UsageError);
    expect(() => parseWalkForward('train=30d')).toThrow(/give both train= and test=/);
    expect(() => parseWalkForward('train=30x,test=7d')).toThrow(/"train=30x" is not train=N/);
    expect(() => parseWalkForward('train=30d,test=7d,test=1d')).toThrow(/test is given twice/);
    expect(() => parseWalkForward('train=0d,test=7d')).toThrow(/train must be longer than 0/);
  });
});

describe('walk-forward', () => {
  it('folds: training and test windows never share a candle, and roll on by the step', async () => {
    const { columns } = await setupOf();
    const folds = makeFolds(columns.closeTimeMs, 60_000, spec);
    expect(folds.length).toBe(7); // 30 days: train 7 + test 3, stepping 3 days
    for (const f of folds) {
      expect(f.trainTo).toBeLessThanOrEqual(f.testFrom);
      expect(columns.closeTimeMs[f.trainTo - 1]).toBeLessThanOrEqual(f.testStartMs);
      expect((columns.closeTimeMs[f.testFrom] as number) - 60_000).toBeGreaterThanOrEqual(f.testStartMs);
      expect(columns.closeTimeMs[f.testTo - 1]).toBeLessThanOrEqual(f.testEndMs);
    }
    expect(folds[1]!.trainStartMs - folds[0]!.trainStartMs).toBe(3 * DAY);
  });

  it('never lets test data into training: a pattern planted after a fold’s training window changes nothing it chose', async () => {
    const setup = await setupOf();
    const base = await walkForward(setup, combos, spec, 'sharpe');
    const k = 3;
    const fold = base.folds[k]!.fold;
    // Everything after fold k's training window is replaced: its test window and all later data.
    const planted = await walkForward(
      await setupOf(plantAfter(setup.columns, fold.testStartMs)),
      combos,
      spec,
      'sharpe',
    );
    for (let j = 0; j <= k; j++) {
      expect(planted.folds[j]!.params).toEqual(base.folds[j]!.params);
      expect(planted.folds[j]!.inSample).toEqual(base.folds[j]!.inSample);
    }
    // The test window did see the pattern, and the later folds trained on it.
    expect(planted.folds[k]!.outOfSample.totalReturn).not.toBeCloseTo(
      base.folds[k]!.outOfSample.totalReturn,
      6,
    );
    expect(planted.folds[k + 2]!.params).toMatchObject({ fast_period: 5 });

    // In-sample metrics are those of a backtest on the training candles alone.
    const f = base.folds[k]!;
    const alone = runBacktest(
      { candles: candlesOfColumns(setup.columns, f.fold.trainFrom, f.fold.trainTo) },
      {
        strategy: defaultStrategyRegistry().create('sma_cross', f.params),
        risk: setup.risk,
        venue: setup.venue,
        initialCash: setup.initialCash,
      },
    );
    expect(f.inSample).toEqual(alone.metrics);
  });

  it('stitches the test runs into one out-of-sample curve (each run starting with the equity the last ended with)', async () => {
    const setup = await setupOf();
    const wf = await walkForward(setup, combos, spec, 'return');
    expect(wf.runs).toBe(7 * 4 + 7);
    const n = wf.equity.length;
    expect(n).toBe(wf.folds.reduce((s, f) => s + f.outOfSample.candles, 0));
    expect(wf.metrics.finalEquity).toBe(wf.equity[n - 1]);
    expect(wf.metrics.trades).toBe(wf.folds.reduce((s, f) => s + f.outOfSample.trades, 0));
    let growth = 1;
    for (const f of wf.folds) growth *= 1 + f.outOfSample.totalReturn;
    expect(wf.metrics.totalReturn).toBeCloseTo(growth - 1, 10);
    expect(wf.equityTimesMs[0]).toBe(wf.folds[0]!.fold.testStartMs + 60_000);
  });
});
