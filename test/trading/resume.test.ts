import { from, tap, toArray, type OperatorFunction } from 'rxjs';
import type { Candle } from '../../src/domain/candle.js';
import type { Timeframe } from '../../src/domain/timeframe.js';
import {
  parseRiskConfig,
  parseVenueModel,
  TradingEngine,
  type EngineState,
  type Order,
} from '../../src/domain/trading/index.js';
import { resampleCandles } from '../../src/operators/resampleCandles.js';
import { tradeStrategy, type TradeStep } from '../../src/operators/tradeStrategy.js';
import { defaultStrategyRegistry } from '../../src/strategies/registry.js';
import { BTC_MONTH, fixtureCandles } from '../backtests/support.js';

/**
 * Stop and go on: on real BTC/USDT 1m candles, an engine saved after any candle (`snapshot()`, through
 * JSON), restored into a new engine and driven over the same candles again (the ones before the snapshot
 * only warm the strategy up) gives exactly the steps — fills, prices with random slippage, decisions, equity,
 * the engine's state itself — of the run that never stopped. Cut points include a position with take-profits
 * partly done and its trailing stop following, a market order waiting for the next candle, resting limit
 * and stop orders, and a flat account.
 */

const CASH = 10_000;
const risk = parseRiskConfig({
  sizing: { type: 'equity', percentage: 95 },
  stop_loss_percentage: 0.5,
  take_profit: [
    { percentage: 0.3, position_percentage: 30 },
    { percentage: 0.6, position_percentage: 30 },
  ],
  trailing_stop: { activation_percentage: 0.2, offset_percentage: 0.2 },
  lot_size: 0.00001,
  min_order_size: 0.0001,
});
const venue = parseVenueModel({
  maker_fee_rate: 0.0008,
  taker_fee_rate: 0.001,
  slippage: { type: 'random', max_bps: 5, seed: 11 },
});

let month: Candle[] = [];
beforeAll(async () => {
  month = await fixtureCandles(BTC_MONTH);
});

/**
 * Resting orders of the kinds the risk manager does not make itself, put straight on the venue every
 * 400th candle (ids from 1,000,000): a limit buy below the close and a stop sell below it, both expiring.
 */
function restingOrders(engine: TradingEngine): OperatorFunction<Candle, Candle> {
  return tap((c) => {
    // Only on candles the engine will use: a resumed run must not place them again.
    const n = c.closeTimeMs / 60_000;
    if (c.timeframe !== '1m' || c.closeTimeMs <= engine.pricedToMs || n % 400 !== 0) return;
    const base = {
      kind: 'order',
      symbol: c.symbol,
      createdTimeMs: c.closeTimeMs,
      qtyStep: 0,
      minQty: 0,
    } as const;
    const id = 1_000_000 + n;
    const limit: Order = {
      ...base,
      id,
      side: 'buy',
      type: 'limit',
      qty: 0.001,
      limitPrice: c.close * 0.996,
      purpose: 'entry',
      reason: 'test limit',
      expiresAtMs: c.closeTimeMs + 90 * 60_000,
    };
    const stop: Order = {
      ...base,
      id: id + 1,
      side: 'sell',
      type: 'stop',
      qty: 0.0005,
      stopPrice: c.close * 0.997,
      purpose: 'exit',
      reason: 'test stop',
      expiresAtMs: c.closeTimeMs + 60 * 60_000,
    };
    engine.venue.submit(limit);
    engine.venue.submit(stop);
  });
}

function run(candles: readonly Candle[], timeframe: Timeframe, engine: TradingEngine): TradeStep[] {
  const strategy = defaultStrategyRegistry().create('ema_crossover', {
    fast_period: 5,
    slow_period: 13,
    atr_period: 5,
    timeframe,
  });
  let out: TradeStep[] = [];
  from(candles)
    .pipe(
      resampleCandles(timeframe === '1m' ? ['1m'] : ['1m', timeframe]),
      restingOrders(engine),
      tradeStrategy(strategy, engine, { snapshots: true }),
      toArray(),
    )
    .subscribe((s) => (out = s));
  return out;
}

/** Index of the first step that differs, −1 when none does (as JSON: steps are plain data, built in one key order). */
function firstDifference(a: readonly TradeStep[], b: readonly TradeStep[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) return i;
  return -1;
}

function state(step: TradeStep | undefined): EngineState {
  if (step?.engineState === undefined) throw new Error('test: a step without its engine state');
  return step.engineState;
}

/** The indices of steps worth cutting at, by what the engine holds after them. */
function cutPoints(steps: readonly TradeStep[]): Record<string, number> {
  const find = (what: string, ok: (s: EngineState) => boolean): [string, number] => {
    const i = steps.findIndex((s, k) => k > 50 && k < steps.length - 50 && ok(state(s)));
    if (i < 0) throw new Error(`test: no step with ${what}`);
    return [what, i];
  };
  return Object.fromEntries([
    ['the first', 0],
    find('take-profits partly done, trailing', (s) =>
      s.venue.brackets.some((b) => b.takeProfitsDone > 0 && b.trailing && b.trailingStopPrice !== null),
    ),
    find('an entry order pending', (s) => s.risk.pendingEntries.length > 0),
    find('an exit order pending', (s) => s.risk.pendingExits.length > 0),
    find(
      'a resting limit and stop order, in a position',
      (s) =>
        s.venue.pendingOrders.some((o) => o.type === 'limit') &&
        s.venue.pendingOrders.some((o) => o.type === 'stop') &&
        s.book.open.length > 0,
    ),
    find(
      'a flat account, nothing pending',
      (s) => s.book.open.length === 0 && s.venue.pendingOrders.length === 0,
    ),
    // Just before each kind of exit: the levels it triggers on must have come back exactly.
    ...(['stop_loss', 'take_profit', 'trailing_stop'] as const).map((purpose): [string, number] => [
      `just before a ${purpose} fill`,
      steps.findIndex((s, k) => k > 50 && s.fills.some((f) => f.purpose === purpose)) - 1,
    ]),
    ['near the end', steps.length - 3],
  ]);
}

describe.each<[string, Timeframe, number]>([
  ['a 1m strategy', '1m', 6_000],
  ['a 15m strategy on 1m prices', '15m', 20_000],
])('snapshot → JSON → restore → go on, on real data: %s', (_name, timeframe, n) => {
  it('gives the steps of the run that never stopped, from every cut point', () => {
    const candles = month.slice(0, n);
    const full = run(candles, timeframe, new TradingEngine({ risk, venue, initialCash: CASH }));
    const fills = full.flatMap((s) => s.fills);
    // The run exercises everything the state holds.
    expect(new Set(fills.map((f) => f.purpose))).toEqual(
      new Set(['entry', 'exit', 'stop_loss', 'take_profit', 'trailing_stop']),
    );
    expect(fills.some((f) => f.reason === 'test limit')).toBe(true);
    expect(fills.some((f) => f.reason === 'test stop')).toBe(true);
    expect(full.some((s) => s.cancellations.some((c) => c.reason === 'expired'))).toBe(true);

    for (const [what, cut] of Object.entries(cutPoints(full))) {
      const saved: unknown = JSON.parse(JSON.stringify(state(full[cut])));
      const engine = TradingEngine.restore(saved, { risk, venue });
      const resumed = run(candles, timeframe, engine);
      const want = full.slice(cut + 1);
      const at = firstDifference(resumed, want);
      if (at >= 0) expect(resumed[at]).toEqual(want[at]); // the diff of that one step
      expect({ what, steps: resumed.length, firstDifference: at }).toEqual({
        what,
        steps: want.length,
        firstDifference: -1,
      });
      expect(engine.snapshot()).toEqual(state(full[full.length - 1]));
    }
  });
});

describe('warm-up, then trade', () => {
  it.each<[string, string, Record<string, unknown>]>([
    ['ema_crossover 1m', 'ema_crossover', { fast_period: 5, slow_period: 13 }],
    ['ema_crossover 15m (1m prices)', 'ema_crossover', { timeframe: '15m' }],
    ['momentum with its 15m trend', 'momentum', { trend_confirmation: true }],
  ])('%s: primed on [0, k), it decides on [k, n) as a full run does', (_name, name, params) => {
    const candles = month.slice(0, 12_000);
    const strategy = defaultStrategyRegistry().create(name, params);
    const signalsOf = (tradeFromMs?: number): { t: number; signal: unknown }[] => {
      let out: TradeStep[] = [];
      from(candles)
        .pipe(
          resampleCandles(['1m', '15m']),
          tradeStrategy(strategy, () => new TradingEngine({ risk, venue, initialCash: CASH }), {
            ...(tradeFromMs === undefined ? {} : { tradeFromMs }),
          }),
          toArray(),
        )
        .subscribe((s) => (out = s));
      return out.flatMap((s) =>
        s.signal === undefined ? [] : [{ t: s.candle.closeTimeMs, signal: s.signal }],
      );
    };
    const full = signalsOf();
    expect(full.filter((s) => (s.signal as { action: string }).action !== 'hold').length).toBeGreaterThan(10);
    for (const k of [1_000, 5_555, 10_000]) {
      const from = (candles[k] as Candle).closeTimeMs;
      const warm = signalsOf(from);
      expect(warm.length).toBeGreaterThan(0);
      expect(warm).toEqual(full.filter((s) => s.t >= from));
    }
  });
});
