import type { Candle } from '../../src/domain/candle.js';
import { planRestart, restartSeedRange } from '../../src/app/restartPlan.js';
import { TIMEFRAMES } from '../../src/domain/timeframe.js';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const T = Date.UTC(2024, 4, 1, 10, 0); // 10:00

function m1(closeTimeMs: number, close = 1): Candle {
  return {
    symbol: 'BTC',
    timeframe: '1m',
    closeTimeMs,
    open: 1,
    high: 1,
    low: 1,
    close,
    volume: 1,
    tradesCount: 1,
    closed: true,
    revision: 0,
  };
}

describe('restartSeedRange', () => {
  it('covers the largest timeframe’s bucket still open after the newest stored candle', () => {
    const dayStart = Date.UTC(2024, 4, 1);
    expect(restartSeedRange(T + 7 * MIN, TIMEFRAMES)).toEqual({
      fromMs: dayStart + MIN,
      toMs: T + 7 * MIN + 1,
    });
    expect(restartSeedRange(T + 7 * MIN, ['1m', '5m'])).toEqual({
      fromMs: T + 6 * MIN,
      toMs: T + 7 * MIN + 1,
    });
    // On a boundary the next bucket has nothing stored yet: only the newest candle is read.
    expect(restartSeedRange(T + 10 * MIN, ['1m', '5m'])).toEqual({
      fromMs: T + 10 * MIN,
      toMs: T + 10 * MIN + 1,
    });
    expect(restartSeedRange(T + 7 * MIN, ['1m'])).toEqual({ fromMs: T + 7 * MIN, toMs: T + 7 * MIN + 1 });
    expect(restartSeedRange(dayStart + DAY, ['1d']).fromMs).toBe(dayStart + DAY);
  });
});

describe('planRestart', () => {
  it('resumes from the newest stored minute, seeded with the candles since the last hole', () => {
    // Stored 10:01, 10:02, (hole 10:03), 10:04 … 10:07.
    const stored = [1, 2, 4, 5, 6, 7].map((m) => m1(T + m * MIN, m));
    const plan = planRestart('BTC', T + 7 * MIN, [...stored].reverse(), ['1m', '5m', '1h']);
    expect(plan).toEqual({
      symbol: 'BTC',
      resumeFromMs: T + 7 * MIN,
      storedEnd: { closeTimeMs: T + 7 * MIN, close: 7 },
      seed: stored.slice(2),
      wholeFromMs: T + 3 * MIN, // the 10:10 5m candle (from 10:05) will be whole; the 11:00 1h one will not
    });
  });

  it('needs only the newest candle when it closes a bucket of every timeframe', () => {
    const plan = planRestart('BTC', T + 10 * MIN, [m1(T + 10 * MIN, 4)], ['1m', '5m']);
    expect(plan?.seed).toEqual([m1(T + 10 * MIN, 4)]);
    expect(plan?.wholeFromMs).toBe(T + 9 * MIN);
  });

  it('plans nothing when the newest candle is not among those given', () => {
    expect(planRestart('BTC', T + 7 * MIN, [m1(T + 6 * MIN)], TIMEFRAMES)).toBeUndefined();
    expect(planRestart('ETH', T + 7 * MIN, [m1(T + 7 * MIN)], TIMEFRAMES)).toBeUndefined();
  });
});
