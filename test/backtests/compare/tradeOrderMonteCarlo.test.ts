import { maxDrawdown, tradeOrderMonteCarlo } from '../../../backtests/compare/tradeOrderMonteCarlo.js';

describe('Monte Carlo of trade order', () => {
  // Three orders of -100, -100, +300 from 1,000 are possible, each with probability 1/3:
  // (−,−,+) falls 200 from 1,000 = 0.2; (−,+,−) 100 from 1,000 = 0.1; (+,−,−) 200 from 1,300 ≈ 0.1538.
  const trades = [-100, -100, 300];

  test('max drawdown of a trade path', () => {
    expect(maxDrawdown(trades, 1000)).toBeCloseTo(0.2, 12);
    expect(maxDrawdown([-100, 300, -100], 1000)).toBeCloseTo(0.1, 12);
    expect(maxDrawdown([300, -100, -100], 1000)).toBeCloseTo(200 / 1300, 12);
    expect(maxDrawdown([], 1000)).toBe(0);
  });

  test('the distribution of a constructed trade list: its three values, a third each', () => {
    const r = tradeOrderMonteCarlo(trades, 1000, { seed: 1, samples: 6000, percentiles: [5, 50, 95] });
    expect(r.actual).toBeCloseTo(0.2, 12);
    expect(r.percentiles[0]?.[1]).toBeCloseTo(0.1, 12);
    expect(r.percentiles[1]?.[1]).toBeCloseTo(200 / 1300, 12);
    expect(r.percentiles[2]?.[1]).toBeCloseTo(0.2, 12);
    // P(dd ≥ 0.2) = 1/3; mean = (0.1 + 0.2 + 0.1538) / 3.
    expect(r.atLeastActual).toBeGreaterThan(0.3);
    expect(r.atLeastActual).toBeLessThan(0.367);
    expect(r.mean).toBeCloseTo((0.1 + 0.2 + 200 / 1300) / 3, 2);
  });

  test('winning trades only never draw down; seeded and deterministic', () => {
    expect(
      tradeOrderMonteCarlo([5, 10, 20], 100, { seed: 3, samples: 50 }).percentiles.map((p) => p[1]),
    ).toEqual([0, 0, 0, 0, 0]);
    const many = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? -30 : 20) + i);
    const one = tradeOrderMonteCarlo(many, 1000, { seed: 9, samples: 300 });
    expect(tradeOrderMonteCarlo(many, 1000, { seed: 9, samples: 300 })).toEqual(one);
    expect(one.percentiles.map((p) => p[0])).toEqual([5, 25, 50, 75, 95]);
    const values = one.percentiles.map((p) => p[1]);
    expect([...values].sort((x, y) => x - y)).toEqual(values);
  });
});
