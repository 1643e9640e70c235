import { LatencyWindow } from '../../src/sinks/latencyWindow.js';

describe('LatencyWindow', () => {
  it('is all zeros before the first sample', () => {
    expect(new LatencyWindow().summary()).toEqual({ p50: 0, p99: 0, max: 0, count: 0 });
  });

  it('picks measured samples by nearest rank: of 1..100, p50 51 and p99 100, in any order', () => {
    const w = new LatencyWindow();
    const values = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1); // 1..100 shuffled
    for (const v of values) w.record(v);
    expect(w.summary()).toEqual({ p50: 51, p99: 100, max: 100, count: 100 });
  });

  it('sorts numerically (not as text): 9 < 10 < 100', () => {
    const w = new LatencyWindow();
    for (const v of [100, 9, 10]) w.record(v);
    expect(w.summary()).toEqual({ p50: 10, p99: 100, max: 100, count: 3 });
  });

  it('keeps only the last `capacity` samples for percentiles, while max and count cover everything', () => {
    const w = new LatencyWindow(4);
    for (const v of [500, 1, 2, 3, 4, 5]) w.record(v);
    // The window holds 2, 3, 4, 5: the 500 and the 1 have been overwritten.
    expect(w.summary()).toEqual({ p50: 4, p99: 5, max: 500, count: 6 });
  });
});
