import { from } from 'rxjs';
import type { Candle } from '../../src/domain/candle.js';
import type { Signal } from '../../src/domain/signal.js';
import { resampleCandles } from '../../src/operators/resampleCandles.js';
import { runStrategy } from '../../src/operators/strategy.js';
import { readCandleCsv } from '../../src/streams/candleCsv.js';
import { defaultStrategyRegistry } from '../../src/strategies/registry.js';
import type { Strategy } from '../../src/strategies/strategy.js';
import { BTC_SLICE } from '../indicators/support.js';

// Appending future candles never changes an earlier signal: for every prefix of a real 1m series, the
// signals equal the first signals of the full run. Momentum also runs with its 15m trend, the 1m candles
// resampled on the way (as live), so the higher timeframe is checked too. The check is O(n²): it runs on
// the first 1,000 candles of the slice (~1 s a strategy; all 2,000 take ~30 s for the seven cases).
const PREFIX_CANDLES = 1000;

let candles: Candle[];
beforeAll(async () => {
  candles = (await readCandleCsv(BTC_SLICE, { label: 'open', symbol: 'BTC-USDT' })).candles;
});

function signalsOf(strategy: Strategy, input: readonly Candle[], timeframes: readonly string[]): Signal[] {
  const out: Signal[] = [];
  const source = timeframes.length > 1 ? from(input).pipe(resampleCandles(['1m', '15m'])) : from(input);
  source.pipe(runStrategy(strategy)).subscribe((s) => out.push(s));
  return out;
}

function same(a: Signal, b: Signal): boolean {
  if (
    a.closeTimeMs !== b.closeTimeMs ||
    a.action !== b.action ||
    a.confidence !== b.confidence ||
    a.reason !== b.reason ||
    a.price !== b.price
  ) {
    return false;
  }
  const ka = Object.keys(a.indicators);
  if (ka.length !== Object.keys(b.indicators).length) return false;
  return ka.every((k) => Object.is(a.indicators[k], b.indicators[k]));
}

const registry = defaultStrategyRegistry();
const cases: [string, object, string[]][] = [
  ...registry.names().map((n): [string, object, string[]] => [n, {}, ['1m']]),
  ['momentum', { trend_confirmation: true, trend_timeframe: '15m', trend_ema_period: 5 }, ['1m', '15m']],
];

describe('no look-ahead', () => {
  it('reads the real slice', () => {
    expect(candles).toHaveLength(2000);
  });

  it.each(cases)('%s %j: every prefix gives the signals of the full run', (name, params, timeframes) => {
    const strategy = registry.create(name, params);
    const series = candles.slice(0, PREFIX_CANDLES);
    const full = signalsOf(strategy, series, timeframes);
    expect(full).toHaveLength(series.length);
    expect(full.some((s) => s.action !== 'hold')).toBe(true);
    let mismatches = 0;
    for (let n = 1; n < series.length; n++) {
      const prefix = signalsOf(strategy, series.slice(0, n), timeframes);
      if (prefix.length !== n) mismatches += 1;
      else for (let i = 0; i < n; i++) if (!same(prefix[i] as Signal, full[i] as Signal)) mismatches += 1;
    }
    expect(mismatches).toBe(0);
  });

  it('the 15m trend changes momentum decisions (the higher timeframe is really used)', () => {
    const plain = signalsOf(registry.create('momentum', {}), candles, ['1m']);
    const trend = signalsOf(
      registry.create('momentum', { trend_confirmation: true, trend_timeframe: '15m', trend_ema_period: 5 }),
      candles,
      ['1m', '15m'],
    );
    const buys = (s: Signal[]): number => s.filter((x) => x.action === 'buy').length;
    expect(buys(trend)).toBeLessThan(buys(plain));
    expect(trend).toHaveLength(candles.length);
  });
});
