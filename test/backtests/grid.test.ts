import { combinations, parseConstraint, parseGrid } from '../../backtests/grid.js';
import { UsageError } from '../../src/domain/errors.js';

const NAMES = ['fast_period', 'slow_period', 'atr_period', 'timeframe'];

function usage(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('parseGrid', () => {
  it('reads ranges (inclusive), lists and fixed values; commas without = continue a list', () => {
    expect(parseGrid('fast_period=5:50:5,slow_period=20:200:20')).toEqual([
      { name: 'fast_period', values: [5, 10, 15, 20, 25, 30, 35, 40, 45, 50] },
      { name: 'slow_period', values: [20, 40, 60, 80, 100, 120, 140, 160, 180, 200] },
    ]);
    expect(parseGrid('fast_period=5,9,12, slow_period=26,atr_period=14,timeframe=1m,5m')).toEqual([
      { name: 'fast_period', values: [5, 9, 12] },
      { name: 'slow_period', values: [26] },
      { name: 'atr_period', values: [14] },
      { name: 'timeframe', values: ['1m', '5m'] },
    ]);
    expect(parseGrid('x=0.1:0.3:0.1')[0]?.values).toEqual([0.1, 0.2, 0.3]);
    expect(parseGrid('x=1:10:4')[0]?.values).toEqual([1, 5, 9]);
  });

  it('names the bad part in every error', () => {
    expect(usage(() => parseGrid('fast_period=5:50:0'))).toBe(
      '--grid "fast_period=5:50:0": fast_period=5:50:0: the step must be > 0, got 0',
    );
    expect(usage(() => parseGrid('fast_period=50:5:5'))).toMatch(
      /fast_period=50:5:5: the stop 5 is below the start 50/,
    );
    expect(usage(() => parseGrid('fast_period=5:x:5'))).toMatch(/fast_period=5:x:5: "x" is not a number/);
    expect(usage(() => parseGrid('fast_period=5:10'))).toMatch(
      /fast_period=5:10: a range is start:stop:step/,
    );
    expect(usage(() => parseGrid('5,10'))).toMatch(/"5" has no parameter name/);
    expect(usage(() => parseGrid('fast_period=5,,10'))).toMatch(/an empty value/);
    expect(usage(() => parseGrid('fast_period=5,fast_period=6'))).toMatch(/fast_period is given twice/);
    expect(usage(() => parseGrid('fast_period=5,5'))).toMatch(/fast_period takes 5 twice/);
    expect(usage(() => parseGrid('fast-period=5'))).toMatch(
      /"fast-period" in "fast-period=5" is not a parameter name/,
    );
    expect(usage(() => parseGrid('fast_period='))).toMatch(/fast_period=: no value/);
    expect(usage(() => parseGrid('x=1:100000:1'))).toMatch(/x=1:100000:1: 100000 values \(at most 10000\)/);
  });
});

describe('parseConstraint and combinations', () => {
  it('the 90-combination SMA grid: fast 5..50 step 5 × slow 20..200 step 20 with fast < slow', () => {
    const grid = parseGrid('fast_period=5:50:5,slow_period=20:200:20');
    expect(combinations(grid)).toHaveLength(100);
    const kept = combinations(grid, [parseConstraint('fast_period < slow_period', NAMES)]);
    expect(kept).toHaveLength(90);
    expect(kept.every((c) => (c.fast_period as number) < (c.slow_period as number))).toBe(true);
    // The last axis varies fastest.
    expect(kept.slice(0, 2)).toEqual([
      { fast_period: 5, slow_period: 20 },
      { fast_period: 5, slow_period: 40 },
    ]);
  });

  it('evaluates arithmetic, comparisons, and/or/not and parentheses', () => {
    const c = parseConstraint(
      'slow_period >= 2 * fast_period and not (atr_period == 14 or fast_period % 2 = 1)',
      NAMES,
    );
    expect(c.holds({ fast_period: 10, slow_period: 20, atr_period: 10 })).toBe(true);
    expect(c.holds({ fast_period: 10, slow_period: 19, atr_period: 10 })).toBe(false);
    expect(c.holds({ fast_period: 10, slow_period: 20, atr_period: 14 })).toBe(false);
    expect(c.holds({ fast_period: 11, slow_period: 30, atr_period: 10 })).toBe(false);
    expect(
      parseConstraint('fast_period + 5 < slow_period - 5 || slow_period != 30', NAMES).holds({
        fast_period: 20,
        slow_period: 30,
      }),
    ).toBe(false);
    expect(parseConstraint('fast_period <= -1 * -5', NAMES).holds({ fast_period: 5 })).toBe(true);
  });

  it('names the bad part in every error', () => {
    expect(usage(() => parseConstraint('fast_period < slwo_period', NAMES))).toBe(
      '--constraint "fast_period < slwo_period": unknown parameter "slwo_period" (known: fast_period, slow_period, atr_period, timeframe)',
    );
    expect(usage(() => parseConstraint('fast_period <', NAMES))).toMatch(/it ends too early/);
    expect(usage(() => parseConstraint('fast_period < slow_period )', NAMES))).toMatch(/unexpected "\)"/);
    expect(usage(() => parseConstraint('(fast_period < slow_period', NAMES))).toMatch(/a "\(" is not closed/);
    expect(usage(() => parseConstraint('fast_period # 3', NAMES))).toMatch(/cannot read "# 3"/);
    expect(usage(() => parseConstraint('fast_period + 1', NAMES))).toMatch(/it is not a condition/);
    expect(usage(() => parseConstraint('  ', NAMES))).toMatch(/it is empty/);
  });
});
