import { computeMetrics, MetricsAccumulator } from '../../src/domain/metrics.js';

const DAY = 86_400_000;

describe('metrics', () => {
  // Daily candles closing on days 1..4; E0 = 100, equity 110, 99, 99, 118.8 → returns +10 %, −10 %, 0, +20 %.
  const series = {
    initialEquity: 100,
    periodMs: DAY,
    timesMs: [1, 2, 3, 4].map((d) => d * DAY),
    equity: [110, 99, 99, 118.8],
    prices: [100, 90, 95, 120],
    inMarket: [true, true, false, true],
    trades: [
      { pnl: 10, returnPct: 0.1 },
      { pnl: -5, returnPct: -0.05 },
      { pnl: 4, returnPct: 0.04 },
      { pnl: -1, returnPct: -0.01 },
    ],
    feesPaid: 1.5,
  };
  const m = computeMetrics(series);

  it('returns, CAGR, Sharpe and Sortino by hand', () => {
    expect(m.candles).toBe(4);
    expect(m.periodsPerYear).toBe(365);
    expect(m.startTimeMs).toBe(0);
    expect(m.endTimeMs).toBe(4 * DAY);
    expect(m.finalEquity).toBe(118.8);
    expect(m.totalReturn).toBeCloseTo(0.188, 12);
    // 4 days = 4/365 years
    expect(m.cagr).toBeCloseTo(1.188 ** (365 / 4) - 1, 6);
    // mean 0.05; deviations ±0.05, ±0.15 → Σ² = 0.05, sample var 0.05/3, std 0.1290994
    expect(m.sharpe).toBeCloseTo((0.05 / Math.sqrt(0.05 / 3)) * Math.sqrt(365), 9);
    expect(m.sharpe).toBeCloseTo(7.39932, 5);
    // downside: only −0.1 → DD = √(0.01 / 4) = 0.05
    expect(m.sortino).toBeCloseTo(Math.sqrt(365), 9);
  });

  it('drawdown, Calmar, exposure, buy and hold', () => {
    expect(m.maxDrawdown).toBeCloseTo(0.1, 12); // 110 → 99
    expect(m.maxDrawdownDurationMs).toBe(3 * DAY); // peak on day 1, back above it on day 4
    expect(m.calmar).toBeCloseTo(m.cagr / 0.1, 6);
    expect(m.exposure).toBe(0.75);
    expect(m.buyAndHoldReturn).toBeCloseTo(0.2, 12);
    expect(m.feesPaid).toBe(1.5);
  });

  it('trade statistics', () => {
    expect(m.trades).toBe(4);
    expect(m.winRate).toBe(0.5);
    expect(m.profitFactor).toBeCloseTo(14 / 6, 12);
    expect(m.expectancy).toBeCloseTo(2, 12);
    expect(m.avgTradePnl).toBeCloseTo(2, 12);
    // deviations 8, −7, 2, −3 → Σ² = 126, sample var 42 → SQN = √4 × 2 / √42
    expect(m.sqn).toBeCloseTo((2 * 2) / Math.sqrt(42), 12);
    expect(m.bestTradePnl).toBe(10);
    expect(m.worstTradePnl).toBe(-5);
    expect(m.avgTradeReturn).toBeCloseTo(0.02, 12);
    expect(m.bestTradeReturn).toBe(0.1);
    expect(m.worstTradeReturn).toBe(-0.05);
  });

  it('a drawdown still open at the end lasts until the last candle', () => {
    const r = computeMetrics({ ...series, equity: [110, 100, 105, 99], trades: [] });
    expect(r.maxDrawdown).toBeCloseTo(0.1, 12);
    expect(r.maxDrawdownDurationMs).toBe(3 * DAY);
  });

  it('undefined values are NaN; no losing trade gives an infinite profit factor', () => {
    const flatRun = computeMetrics({
      ...series,
      equity: [100, 100, 100, 100],
      trades: [{ pnl: 1, returnPct: 0.01 }],
    });
    expect(flatRun.sharpe).toBeNaN();
    expect(flatRun.sortino).toBeNaN();
    expect(flatRun.calmar).toBeNaN();
    expect(flatRun.maxDrawdown).toBe(0);
    expect(flatRun.profitFactor).toBe(Infinity);
    expect(flatRun.sqn).toBeNaN();
    const empty = new MetricsAccumulator(100, DAY).result();
    expect(empty.totalReturn).toBe(0);
    expect(empty.trades).toBe(0);
    expect(empty.winRate).toBeNaN();
    expect(empty.cagr).toBeNaN();
  });

  it('per-minute candles annualize with 525 600 periods', () => {
    const r = computeMetrics({ ...series, periodMs: 60_000, timesMs: [1, 2, 3, 4].map((x) => x * 60_000) });
    expect(r.periodsPerYear).toBe(525_600);
    expect(r.sharpe).toBeCloseTo((0.05 / Math.sqrt(0.05 / 3)) * Math.sqrt(525_600), 6);
  });

  it('candles in blocks (onCandles) give exactly what they give one by one', () => {
    // A random walk with flat stretches, drawdowns and recoveries: 5,000 candles.
    let seed = 12_345;
    const rnd = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const n = 5_000;
    const times = new Float64Array(n);
    const equity = new Float64Array(n);
    const inMarket = new Uint8Array(n);
    const prices = new Float64Array(n);
    let e = 10_000;
    for (let i = 0; i < n; i++) {
      const held = Math.floor(i / 50) % 2 === 0;
      if (held) e *= 1 + (rnd() - 0.5) * 0.01;
      times[i] = 1_700_000_000_000 + i * 60_000;
      equity[i] = e;
      inMarket[i] = held ? 1 : 0;
      prices[i] = 30_000 + rnd() * 100;
    }
    const one = new MetricsAccumulator(10_000, 60_000);
    for (let i = 0; i < n; i++) one.onCandle(times[i]!, equity[i]!, inMarket[i] === 1, prices[i]!);
    const blocks = new MetricsAccumulator(10_000, 60_000);
    for (const [from, to] of [
      [0, 1],
      [1, 1],
      [1, 777],
      [777, 4_096],
      [4_096, 4_352], // one block of onCandles' 256 exactly
      [4_352, 4_353],
      [4_353, n],
    ] as const) {
      blocks.onCandles(times, equity, inMarket, prices, from, to);
    }
    expect(one.result().maxDrawdown).toBeGreaterThan(0);
    expect(blocks.result()).toEqual(one.result());
  });
});
