import { combinations, parseConstraint, parseGrid } from '../../backtests/grid.js';
import { rankRuns, runJobs, WorkerPool, type OptimizeSetup } from '../../backtests/optimize.js';
import { runBacktest } from '../../backtests/runBacktest.js';
import { parseRiskConfig, parseVenueModel } from '../../src/domain/trading/config.js';
import { candlesOfColumns, readCandleCsvColumns } from '../../src/streams/candleCsv.js';
import { defaultStrategyRegistry } from '../../src/strategies/registry.js';
import { BTC_MONTH } from './support.js';

/** The real BTC/USDT month (42,915 1m candles) on shared memory, and a small sma_cross grid over it. */
async function monthSetup(): Promise<OptimizeSetup> {
  const file = await readCandleCsvColumns(BTC_MONTH, { symbol: 'BTC-USDT', shared: true });
  return {
    strategyName: 'sma_cross',
    baseParams: {},
    risk: parseRiskConfig({ sizing: { type: 'equity', percentage: 95 } }),
    venue: parseVenueModel({ fee_rate: 0.001 }),
    initialCash: 10_000,
    columns: file.columns,
  };
}

const combos = combinations(parseGrid('fast_period=5,10,30,slow_period=20,40'), [
  parseConstraint('fast_period < slow_period', ['fast_period', 'slow_period']),
]);

describe('optimize runs', () => {
  it('give identical results on one thread and on two workers, and the best equals a plain backtest', async () => {
    const setup = await monthSetup();
    expect(setup.columns.close.buffer).toBeInstanceOf(SharedArrayBuffer);
    const jobs = combos.map((params, id) => ({ id, params, from: 0, to: setup.columns.length }));
    expect(jobs).toHaveLength(5);
    const single = await runJobs(setup, jobs);
    const pool = WorkerPool.start(2);
    let pooled;
    try {
      pooled = await runJobs(setup, jobs, { pool });
    } finally {
      await pool.close();
    }
    expect(pooled).toEqual(single);
    expect(new Set(single.map((r) => r.metrics.sharpe)).size).toBe(5);

    const best = rankRuns(single, 'sharpe')[0];
    if (best === undefined) throw new Error('no run');
    expect(single.every((r) => r.metrics.sharpe <= best.metrics.sharpe)).toBe(true);
    const plain = runBacktest(
      { candles: candlesOfColumns(setup.columns) },
      {
        strategy: defaultStrategyRegistry().create('sma_cross', best.params),
        risk: setup.risk,
        venue: setup.venue,
        initialCash: setup.initialCash,
      },
    );
    expect(best.metrics).toEqual(plain.metrics);
    expect(best.metrics.trades).toBeGreaterThan(100);
    expect(best.warnings).toEqual(plain.warnings);
  });

  it('ranks by the metric asked, undefined values last, ties in grid order', () => {
    const m = (sharpe: number, totalReturn: number) => ({ metrics: { sharpe, totalReturn } as never });
    const runs = [m(1, 0.5), m(Number.NaN, 0.9), m(2, 0.1), m(2, 0.2)];
    expect(rankRuns(runs, 'sharpe')).toEqual([runs[2], runs[3], runs[0], runs[1]]);
    expect(rankRuns(runs, 'return')).toEqual([runs[1], runs[0], runs[3], runs[2]]);
  });
});
