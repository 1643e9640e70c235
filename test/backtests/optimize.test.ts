import { combinations, parseConstraint, parseGrid, type Combination } from '../../backtests/grid.js';
import { JobRunner, rankRuns, runJobs, type OptimizeSetup } from '../../backtests/optimize.js';
import { WorkerPool } from '../../backtests/workerPool.js';
import { runBacktest } from '../../backtests/runBacktest.js';
import { parseRiskConfig, parseVenueModel } from '../../src/domain/trading/config.js';
import { candlesOfColumns } from '../../src/streams/candleColumns.js';
import { readCandleCsvColumns } from '../../src/streams/candleCsv.js';
import * as z from 'zod';
import { Sma } from '../../src/domain/indicators/index.js';
import type { Indicator } from '../../src/domain/indicators/indicator.js';
import { defaultStrategyRegistry, StrategyRegistry } from '../../src/strategies/registry.js';
import type { Strategy, StrategyContext } from '../../src/strategies/strategy.js';
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

  it('this thread runs a share beside the workers; a failing job rejects the search whichever thread ran it', async () => {
    const setup = await monthSetup();
    const short = { from: 0, to: 3_000 };
    const good = combos.map((params, id) => ({ id, params, ...short }));
    // fast ≥ slow: sma_cross refuses it (UsageError) when the run builds the strategy.
    const bad = { id: 99, params: { fast_period: 40, slow_period: 20 }, ...short };
    const pool = WorkerPool.start(1);
    try {
      let ran = 0;
      const local = new JobRunner(setup);
      const counting = { run: (j: (typeof good)[number]) => (ran++, local.run(j)) };
      const runs = await pool.run(setup, good, undefined, counting);
      expect(runs.map((r) => r.id)).toEqual(good.map((j) => j.id));
      expect(ran).toBeGreaterThan(0);
      expect(ran).toBeLessThan(good.length);
      expect(runs).toEqual(await runJobs(setup, good));
    } finally {
      await pool.close();
    }
    // Last: in this thread's share; first: in the worker's (a pool that failed is not run again).
    for (const jobs of [
      [...good, bad],
      [bad, ...good],
    ]) {
      const fresh = WorkerPool.start(1);
      try {
        await expect(runJobs(setup, jobs, { pool: fresh })).rejects.toThrow(/fast_period must be smaller/);
      } finally {
        await fresh.close();
      }
    }
  });

  it('every run equals a plain backtest: cached number series (sma_cross) and object-valued ones (macd_trend, bollinger_breakout)', async () => {
    const base = await monthSetup();
    const cases: [string, readonly Combination[]][] = [
      ['sma_cross', combos],
      ['macd_trend', [{}, { fast_period: 8 }]],
      ['bollinger_breakout', [{}, { period: 30 }]],
    ];
    const candles = candlesOfColumns(base.columns);
    for (const [strategyName, grid] of cases) {
      const setup = { ...base, strategyName };
      const runner = new JobRunner(setup);
      for (const [id, params] of grid.entries()) {
        // Twice each: the second run replays the series the first one computed.
        for (let again = 0; again < 2; again++) {
          const run = runner.run({ id, params, from: 0, to: setup.columns.length });
          const plain = runBacktest(
            { candles },
            {
              strategy: defaultStrategyRegistry().create(strategyName, params),
              risk: setup.risk,
              venue: setup.venue,
              initialCash: setup.initialCash,
            },
          );
          expect(run.metrics).toEqual(plain.metrics);
          expect(run.warnings).toEqual(plain.warnings);
          expect(run.metrics.trades).toBeGreaterThan(0);
        }
      }
    }
  });

  it('a runner that gives up series and reuses their arrays gives what fresh runners give', async () => {
    const setup = await monthSetup();
    // 10 SMA periods and the ATR, each period coming back after others pushed it out.
    const periods: [number, number][] = [
      [5, 30],
      [10, 40],
      [15, 50],
      [20, 60],
      [25, 70],
      [5, 30],
      [10, 70],
      [25, 40],
    ];
    const runner = new JobRunner(setup);
    for (const [id, [fast, slow]] of periods.entries()) {
      const job = { id, params: { fast_period: fast, slow_period: slow }, from: 0, to: setup.columns.length };
      const run = runner.run(job);
      expect(run).toEqual(new JobRunner(setup).run(job));
      expect(run.metrics.trades).toBeGreaterThan(0);
      // This job's three series and at most four others.
      expect(runner.seriesKept).toBeLessThanOrEqual(7);
    }
    // Another range of the same candles: arrays longer than its series are reused too.
    const part = { id: 99, params: { fast_period: 15, slow_period: 60 }, from: 1_000, to: 9_000 };
    expect(runner.run(part)).toEqual(new JobRunner(setup).run(part));
  });

  it('a cached series replays exactly the values the indicator gives, warm-up and odd shapes included', async () => {
    const base = await monthSetup();
    const seen: unknown[][] = [];
    let gapped = 0;
    // An indicator whose values are not "undefined, then numbers": undefined again every 7th candle.
    const gappedSma = (p: number): Indicator<number> => {
      const sma = new Sma(p);
      return {
        key: `gapped_${p}`,
        lookback: p - 1,
        update: (c) => {
          const v = sma.update(c);
          return ++gapped % 7 === 0 ? undefined : v;
        },
        reset: () => sma.reset(),
      };
    };
    const registry = new StrategyRegistry([
      {
        name: 'recorder',
        displayName: 'Recorder',
        summary: 'records what it sees',
        schema: z.object({ period: z.number().int().default(20) }),
        create: (params: { period: number }): Strategy => ({
          name: 'recorder',
          params,
          timeframe: '1m',
          indicators: { sma: () => new Sma(params.period), gapped: () => gappedSma(params.period) },
          onCandle(ctx: StrategyContext) {
            (seen[seen.length - 1] as unknown[]).push([ctx.values.sma, ctx.values.gapped]);
            return ctx.hold('recording');
          },
        }),
      },
    ]);
    const setup = { ...base, strategyName: 'recorder' };
    const runner = new JobRunner(setup, registry);
    for (let again = 0; again < 2; again++) {
      seen.push([]);
      runner.run({ id: 0, params: { period: 20 }, from: 0, to: setup.columns.length });
    }
    const sma = new Sma(20);
    gapped = 0;
    const gappedDirect = gappedSma(20);
    const direct = candlesOfColumns(setup.columns).map((c) => [sma.update(c), gappedDirect.update(c)]);
    expect(seen[0]).toEqual(direct);
    expect(seen[1]).toEqual(direct);
    expect((direct[19] as unknown[])[0]).toBeDefined();
    expect((direct[18] as unknown[])[0]).toBeUndefined();
  });

  it('ranks by the metric asked, undefined values last, ties in grid order', () => {
    const m = (sharpe: number, totalReturn: number) => ({ metrics: { sharpe, totalReturn } as never });
    const runs = [m(1, 0.5), m(Number.NaN, 0.9), m(2, 0.1), m(2, 0.2)];
    expect(rankRuns(runs, 'sharpe')).toEqual([runs[2], runs[3], runs[0], runs[1]]);
    expect(rankRuns(runs, 'return')).toEqual([runs[1], runs[0], runs[3], runs[2]]);
  });
});
