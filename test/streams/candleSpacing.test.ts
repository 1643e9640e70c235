import { CandleSpacing } from '../../src/streams/candleSpacing.js';

const MINUTE = 60_000;
const DAY = 1440 * MINUTE;
const T0 = Date.UTC(2021, 0, 1);

function spacingOf(times: readonly number[]): CandleSpacing {
  const s = new CandleSpacing();
  times.forEach((t, i) => s.add(t, i + 2));
  return s;
}

describe('CandleSpacing', () => {
  it('knows nothing from one row', () => {
    const s = spacingOf([T0]);
    expect(s.timeframe()).toBeUndefined();
    expect(s.contradicts('1m')).toBeUndefined();
    expect(s.describe()).toBe('');
  });

  it('reads the timeframe off the greatest common gap: one adjacent pair settles it', () => {
    expect(spacingOf([T0, T0 + MINUTE, T0 + 5 * MINUTE]).timeframe()).toBe('1m');
    expect(spacingOf([T0, T0 + DAY, T0 + 4 * DAY, T0 + 5 * DAY]).timeframe()).toBe('1d');
    expect(spacingOf([T0, T0 + 10 * MINUTE, T0 + 30 * MINUTE]).timeframe()).toBe('5m');
    expect(spacingOf([T0, T0 + 2 * 3_600_000, T0 + 6 * 3_600_000]).timeframe()).toBe('1h');
  });

  it('calls daily rows read as 1m wrong after two gaps (1440² ≥ 10⁶), not after one', () => {
    expect(spacingOf([T0, T0 + DAY]).contradicts('1m')).toBeUndefined();
    const s = spacingOf([T0, T0 + DAY, T0 + 3 * DAY]);
    expect(s.contradicts('1m')).toBe('1d');
    expect(s.contradicts('1d')).toBeUndefined();
    expect(s.describe()).toBe(
      'consecutive rows are always a whole number of 1d apart (line 2 → line 3: ' +
        '2021-01-01T00:00:00.000Z → 2021-01-02T00:00:00.000Z, and 1 more pair like it)',
    );
  });

  it('gives a sparse 1m file (gaps that happen to be multiples of 5m) the benefit of the doubt', () => {
    // 8 gaps, all multiples of 5 minutes: 5⁸ ≈ 4·10⁵ < 10⁶, so this could be an illiquid 1m market.
    const eight = Array.from({ length: 9 }, (_, i) => T0 + i * 10 * MINUTE);
    expect(spacingOf(eight).timeframe()).toBe('5m');
    expect(spacingOf(eight).contradicts('1m')).toBeUndefined();
    // A ninth tips it; one gap of a single minute anywhere settles it for good.
    const nine = [...eight, T0 + 90 * MINUTE];
    expect(spacingOf(nine).contradicts('1m')).toBe('5m');
    expect(spacingOf([...nine, T0 + 91 * MINUTE]).contradicts('1m')).toBeUndefined();
  });
});
