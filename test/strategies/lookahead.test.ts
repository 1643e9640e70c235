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
// signals equal the first signals of the full run, field by field (symbol and timeframe included). Momentum
// also runs with its 15m trend, the 1m candles resampled on the way (as live), so the higher timeframe is
// checked too. The check is O(n²): it runs on the first 1,000 candles of the slice.
//
// The strategies the backtest look-ahead test (test/backtests/lookahead.test.ts) already runs through the
// whole backtest, prefix by prefix, signals compared with toEqual, are not run again here: that test
// covers them from the strategy to the fills. Momentum's 15m trend is not switched on there, so it is here.
const COVERED_BY_BACKTEST_LOOKAHEAD = new Set(['ema_crossover', 'sma_cross', 'momentum']);
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

/** Every field of two signals equal (NaN equals NaN), whatever fields Signal has or gains. */
function same(a: Signal, b: Signal): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof Signal)[]);
  for (const k of keys) {
    if (k === 'indicators') continue;
    if (!Object.is(a[k], b[k])) return false;
  }
  const ka = Object.keys(a.indicators);
  if (ka.length !== Object.keys(b.indicators).length) return false;
  return ka.every((k) => Object.is(a.indicators[k], b.indicators[k]));
}

const registry = defaultStrategyRegistry();
const cases: [string, object, string[]][] = [
  ...registry
    .names()
    .filter((n) => !COVERED_BY_BACKTEST_LOOKAHEAD.has(n))
    .map((n): [string, object, string[]] => [n, {}, ['1m']]),
  ['momentum', { trend_confirmation: true, trend_timeframe: '15m', trend_ema_period: 5 }, ['1m', '15m']],
];

describe('no look-ahead', () => {
  it('reads the real slice', () => {
    expect(candles).toHaveLength(2000);
  });

  it('runs every built-in strategy here or in the backtest look-ahead test', () => {
    const here = new Set(cases.map(([n]) => n));
    for (const n of registry.names())
      expect([n, here.has(n) || COVERED_BY_BACKTEST_LOOKAHEAD.has(n)]).toEqual([n, true]);
    expect(cases.map(([n]) => n)).toEqual(['rsi_reversion', 'macd_trend', 'bollinger_breakout', 'momentum']);
  });

  it('tells signals apart by symbol and by timeframe, not only by time and decision', () => {
    const [a] = signalsOf(registry.create('rsi_reversion', {}), candles.slice(0, 1), ['1m']);
    expect(same(a!, { ...a! })).toBe(true);
    expect(same(a!, { ...a!, symbol: 'ETH-USDT' })).toBe(false);
    expect(same(a!, { ...a!, timeframe: '5m' })).toBe(false);
    expect(same(a!, { ...a!, indicators: { ...a!.indicators, extra: 1 } })).toBe(false);
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
