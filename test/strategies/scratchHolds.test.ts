import type { Signal } from '../../src/domain/signal.js';
import { defaultStrategyRegistry } from '../../src/strategies/registry.js';
import { StrategyRunner } from '../../src/strategies/runner.js';
import { NO_INDICATORS } from '../../src/strategies/strategy.js';
import { fixtureCandles, MAY_SLICE } from '../backtests/support.js';

const registry = defaultStrategyRegistry();

/** Every decision of `name` (default parameters) on the real May slice, as a runner with `scratch` gives them. */
async function decisions(name: string, scratch: boolean): Promise<Signal[]> {
  const runner = new StrategyRunner(registry.create(name, {}), scratch);
  const out: Signal[] = [];
  for (const c of await fixtureCandles(MAY_SLICE)) {
    const s = runner.onCandle(c);
    // A scratch hold is one object rewritten each time: keep a copy.
    if (s !== undefined) out.push({ ...s });
  }
  return out;
}

describe('StrategyContext.scratchHolds: the built-ins leave out the indicator values nobody reads', () => {
  test.each(registry.names())('%s decides the same, with or without the values', async (name) => {
    const kept = await decisions(name, false);
    const scratch = await decisions(name, true);
    expect(scratch.length).toBe(kept.length);
    const trades = kept.filter((s) => s.action !== 'hold');
    expect(trades.length).toBeGreaterThan(0);
    // With the values: buys and sells carry them (what a bot records).
    for (const s of trades) expect(Object.keys(s.indicators).length).toBeGreaterThan(0);
    for (let i = 0; i < kept.length; i++) {
      const { indicators: _kept, ...rest } = kept[i] as Signal;
      const { indicators, ...same } = scratch[i] as Signal;
      expect(same).toEqual(rest);
      expect(indicators).toBe(NO_INDICATORS);
    }
  });
});
