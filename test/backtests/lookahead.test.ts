import type { Signal } from '../../src/domain/signal.js';
import type { RiskConfigInput } from '../../src/domain/trading/config.js';
import { CLOSED_AT_END } from '../../src/domain/trading/engine.js';
import type { Fill } from '../../src/domain/trading/types.js';
import { APRIL_DAYS, backtest, fixtureCandles, MAY_SLICE } from './support.js';

/**
 * No look-ahead: a backtest on the first k candles makes exactly the decisions and fills the full run made
 * up to candle k — appending future candles never changes an earlier decision, fill or equity value.
 */

interface Run {
  signals: Signal[];
  fills: Fill[];
  equity: Float64Array;
}

const setups: [string, { name: string; params?: Record<string, unknown> }, RiskConfigInput][] = [
  [
    'ema_crossover 3/8, fixed size',
    { name: 'ema_crossover', params: { fast_period: 3, slow_period: 8 } },
    { sizing: { type: 'fixed', quantity: 0.1 } },
  ],
  [
    'sma_cross 5/20, equity sizing with stop-loss, take-profits and a trailing stop',
    { name: 'sma_cross', params: { fast_period: 5, slow_period: 20 } },
    {
      sizing: { type: 'equity', percentage: 90 },
      stop_loss_percentage: 0.3,
      take_profit: [
        { percentage: 0.2, position_percentage: 50 },
        { percentage: 0.5, position_percentage: 50 },
      ],
      trailing_stop: { activation_percentage: 0.1, offset_percentage: 0.15 },
      lot_size: 0.0001,
    },
  ],
  [
    'momentum with its 15m trend (higher timeframe)',
    { name: 'momentum' },
    { sizing: { type: 'equity', percentage: 50 } },
  ],
];

describe.each(setups)('look-ahead: %s', (_name, strategy, risk) => {
  it.each([
    ['2021-05-18 slice', MAY_SLICE],
    ['2021-04-24/25 (with a gap)', APRIL_DAYS],
  ])('%s: every prefix decides and fills as the full run did', async (_f, path) => {
    const candles = await fixtureCandles(path);
    const run = (n: number): Run => {
      const r: Run = { signals: [], fills: [], equity: new Float64Array() };
      const result = backtest({ candles: candles.slice(0, n) }, strategy, risk, {
        onSignal: (s) => r.signals.push(s),
        onFill: (f) => r.fills.push(f),
      });
      r.equity = result.equity;
      return r;
    };
    const full = run(candles.length);
    expect(full.fills.filter((f) => f.reason !== CLOSED_AT_END).length).toBeGreaterThan(0);
    if (risk.stop_loss_percentage !== undefined) {
      // The exit plan is exercised too (its levels are watched on the candles after the entry).
      const purposes = new Set(full.fills.map((f) => f.purpose));
      expect(purposes).toEqual(new Set(['entry', 'exit', 'stop_loss', 'take_profit', 'trailing_stop']));
    }
    for (const k of [30, 97, 250, 611, 1000, 1500, candles.length - 1]) {
      const prefix = run(k);
      const t = (candles[k - 1] as { closeTimeMs: number }).closeTimeMs;
      expect(prefix.signals).toEqual(full.signals.filter((s) => s.closeTimeMs <= t));
      expect(prefix.signals.length).toBe(k);
      // Fills happen at candle open times; the prefix's own end-of-run close is not a decision.
      expect(prefix.fills.filter((f) => f.reason !== CLOSED_AT_END)).toEqual(
        full.fills.filter((f) => f.timeMs < t),
      );
      // The equity after every candle but the last (which pays the closing fee when a position is open).
      expect(Array.from(prefix.equity.subarray(0, k - 1))).toEqual(
        Array.from(full.equity.subarray(0, k - 1)),
      );
    }
  });
});
