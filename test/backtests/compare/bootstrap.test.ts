import { computeMetrics, YEAR_MS } from '../../../src/domain/metrics.js';
import { Mulberry32 } from '../../../src/domain/trading/random.js';
import { defaultBlockLength, pairedBootstrap } from '../../../backtests/compare/bootstrap.js';
import { periodReturns } from '../../../backtests/compare/stats.js';

const MINUTE = 60_000;
const P = YEAR_MS / MINUTE;

/** n normal returns (Box–Muller on a seeded mulberry32) with the given mean and standard deviation. */
function normals(n: number, mean: number, sd: number, seed: number): Float64Array {
  const rng = new Mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - rng.next();
    const v = rng.next();
    out[i] = mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

describe('paired stationary bootstrap', () => {
  const a = normals(1000, 0, 0.01, 7);

  test.each([undefined, 1])(
    'identical series (block length %s): difference 0, interval [0, 0], p = 1',
    (L) => {
      const r = pairedBootstrap(a, Float64Array.from(a), {
        seed: 1,
        periodsPerYear: P,
        samples: 500,
        ...(L === undefined ? {} : { blockLength: L }),
      });
      for (const d of [r.sharpe, r.totalReturn]) {
        expect(d.estimate).toBe(0);
        expect(d.low).toBe(0);
        expect(d.high).toBe(0);
        expect(d.pValue).toBe(1);
      }
    },
  );

  test('a clearly better series (same noise, 0.2 % more every period): tiny p, interval above 0', () => {
    const better = a.map((x) => x + 0.002);
    const r = pairedBootstrap(a, better, { seed: 1, periodsPerYear: P, samples: 1000 });
    expect(r.sharpe.estimate).toBeGreaterThan(0);
    expect(r.sharpe.low).toBeGreaterThan(0);
    expect(r.sharpe.pValue).toBeLessThan(0.005);
    expect(r.totalReturn.low).toBeGreaterThan(0);
    expect(r.totalReturn.pValue).toBeLessThan(0.01);
    // The plain i.i.d. bootstrap (blocks of one period) says the same.
    const iid = pairedBootstrap(a, better, { seed: 1, periodsPerYear: P, samples: 1000, blockLength: 1 });
    expect(iid.blockLength).toBe(1);
    expect(iid.sharpe.pValue).toBeLessThan(0.005);
    expect(iid.sharpe.estimate).toBe(r.sharpe.estimate);
    // The reverse comparison is the mirror image.
    const back = pairedBootstrap(better, a, { seed: 1, periodsPerYear: P, samples: 1000 });
    expect(back.sharpe.estimate).toBeCloseTo(-r.sharpe.estimate, 9);
    expect(back.sharpe.high).toBeLessThan(0);
  });

  test('two independent draws of the same process: no significant difference', () => {
    const b = normals(1000, 0, 0.01, 8);
    const r = pairedBootstrap(a, b, { seed: 3, periodsPerYear: P, samples: 1000 });
    expect(r.sharpe.pValue).toBeGreaterThan(0.05);
    expect(r.sharpe.low).toBeLessThan(0);
    expect(r.sharpe.high).toBeGreaterThan(0);
  });

  test('the observed Sharpe difference is the difference of the backtest metrics', () => {
    const equity = (returns: Float64Array): number[] => {
      let e = 10_000;
      return [...returns].map((r) => (e *= 1 + r));
    };
    const b = normals(1000, 0.0005, 0.012, 9);
    const times = [...a].map((_, i) => (i + 1) * MINUTE);
    const metrics = (eq: number[]) =>
      computeMetrics({
        initialEquity: 10_000,
        periodMs: MINUTE,
        timesMs: times,
        equity: eq,
        prices: eq,
        trades: [],
      });
    const [ea, eb] = [equity(a), equity(b)];
    const r = pairedBootstrap(periodReturns(10_000, ea), periodReturns(10_000, eb), {
      seed: 1,
      periodsPerYear: P,
      samples: 10,
    });
    expect(r.sharpe.estimate).toBeCloseTo(metrics(eb).sharpe - metrics(ea).sharpe, 6);
    expect(r.totalReturn.estimate).toBeCloseTo(metrics(eb).totalReturn - metrics(ea).totalReturn, 9);
  });

  test('seeded: the same seed gives the same result, another seed other draws', () => {
    const b = normals(1000, 0, 0.01, 8);
    const one = pairedBootstrap(a, b, { seed: 5, periodsPerYear: P, samples: 200 });
    expect(pairedBootstrap(a, b, { seed: 5, periodsPerYear: P, samples: 200 })).toEqual(one);
    expect(pairedBootstrap(a, b, { seed: 6, periodsPerYear: P, samples: 200 }).sharpe.low).not.toBe(
      one.sharpe.low,
    );
  });

  test('block length: ⌈n^(1/3)⌉ by default; refuses bad input', () => {
    expect(defaultBlockLength(1000)).toBe(10);
    expect(defaultBlockLength(1001)).toBe(11);
    expect(pairedBootstrap(a, a, { seed: 1, periodsPerYear: P, samples: 2 }).blockLength).toBe(10);
    expect(() => pairedBootstrap(a, a.subarray(1), { seed: 1, periodsPerYear: P })).toThrow(
      /differ in length/,
    );
    expect(() => pairedBootstrap(a, a, { seed: 1, periodsPerYear: P, blockLength: 0 })).toThrow(
      /block length/,
    );
  });
});
