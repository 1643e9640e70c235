import { backoffMs, backoffWith } from '../../src/infra/rateLimiter.js';

describe('backoffWith', () => {
  const mid = (): number => 0.5; // no jitter either way
  const defaults = { baseMs: 1_000, maxMs: 30_000, jitter: 0.2 };

  it('doubles from the base up to the cap, with the defaults when nothing is set', () => {
    expect([1, 2, 3, 5, 6, 9].map((n) => backoffWith(n, undefined, defaults, mid))).toEqual([
      1_000, 2_000, 4_000, 16_000, 30_000, 30_000,
    ]);
  });

  it('takes each setting given over its default', () => {
    expect([1, 2, 3].map((n) => backoffWith(n, { baseMs: 50, maxMs: 120 }, defaults, mid))).toEqual([
      50, 100, 120,
    ]);
    // Jitter ±20 % by default, none when set to 0: the extremes of random().
    expect(backoffWith(1, {}, defaults, () => 0)).toBe(800);
    expect(backoffWith(1, {}, defaults, () => 1)).toBe(1_200);
    expect(backoffWith(1, { jitter: 0 }, defaults, () => 1)).toBe(1_000);
    expect(backoffWith(4, { jitter: 0.5 }, defaults, () => 0)).toBe(
      backoffMs(4, 1_000, 30_000, 0.5, () => 0),
    );
  });
});
