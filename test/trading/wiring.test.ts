import { from } from 'rxjs';
import type { Candle } from '../../src/domain/candle.js';
import type { Signal } from '../../src/domain/signal.js';
import { MetricsAccumulator } from '../../src/domain/metrics.js';
import {
  mulberry32,
  parseRiskConfig,
  parseVenueModel,
  TradingEngine,
  type Fill,
  type PortfolioSnapshot,
  type RiskConfigInput,
  type RoundTrip,
} from '../../src/domain/trading/index.js';
import { tradeStrategy } from '../../src/operators/tradeStrategy.js';
import type { Strategy } from '../../src/strategies/strategy.js';
import { bar, MIN, signal } from './support.js';

/**
 * The trading core on a seeded random walk: the engine driven by hand (onCandle, then onSignal) and through
 * tradeStrategy — the one driver bots and backtests share — give the same fills, round trips and equity,
 * every kind of exit happens, and the account's invariants hold after every candle.
 */

/** A seeded random walk with occasional gaps, and random buy/sell/hold decisions on it. */
function scenario(seed: number, n: number): (Candle | Signal)[] {
  const rnd = mulberry32(seed);
  const events: (Candle | Signal)[] = [];
  let close = 100;
  for (let i = 1; i <= n; i++) {
    const open = rnd() < 0.05 ? close * (1 + (rnd() - 0.5) * 0.04) : close;
    close = open * (1 + (rnd() - 0.5) * 0.02);
    const high = Math.max(open, close) * (1 + rnd() * 0.01);
    const low = Math.min(open, close) * (1 - rnd() * 0.01);
    events.push(bar(i, open, high, low, close));
    const u = rnd();
    const action = i === n - 1 ? 'sell' : u < 0.08 ? 'buy' : u < 0.14 ? 'sell' : 'hold';
    if (i < n) events.push(signal(i, action, close, { confidence: rnd() }));
  }
  return events;
}

const riskInput: RiskConfigInput = {
  sizing: { type: 'equity', percentage: 95 },
  scale_by_confidence: true,
  stop_loss_percentage: 1.5,
  take_profit: [
    { percentage: 1, position_percentage: 30 },
    { percentage: 2, position_percentage: 30 },
  ],
  trailing_stop: { activation_percentage: 0.5, offset_percentage: 0.7 },
  lot_size: 0.001,
  min_order_size: 0.01,
};
const risk = parseRiskConfig(riskInput);
const venue = parseVenueModel({
  maker_fee_rate: 0.0008,
  taker_fee_rate: 0.001,
  slippage: { type: 'random', max_bps: 5, seed: 3 },
});
const CASH = 10_000;

interface Run {
  fills: Fill[];
  trips: RoundTrip[];
  equity: number[];
  snapshots: PortfolioSnapshot[];
}

function runEngine(events: readonly (Candle | Signal)[]): Run & { engine: TradingEngine } {
  const r: Run = { fills: [], trips: [], equity: [], snapshots: [] };
  const engine = new TradingEngine({
    risk,
    venue,
    initialCash: CASH,
    listener: { fill: (f) => r.fills.push(f), roundTrip: (t) => r.trips.push(t) },
  });
  for (const e of events) {
    if ('action' in e) engine.onSignal(e);
    else {
      engine.onCandle(e);
      r.equity.push(engine.book.equity);
    }
  }
  return { ...r, engine };
}

/** A strategy that says what the scenario says on each candle (hold when it says nothing). */
function scripted(events: readonly (Candle | Signal)[]): Strategy {
  const says = new Map<number, Signal>();
  for (const e of events) if ('action' in e) says.set(e.closeTimeMs, e);
  return {
    name: 'scripted',
    params: {},
    timeframe: '1m',
    indicators: {},
    onCandle(ctx) {
      const s = says.get(ctx.candle.closeTimeMs);
      return s === undefined ? ctx.hold('nothing to say') : ctx.signal(s.action, s.confidence, s.reason, {});
    },
  };
}

/** The driver bots and backtests use: tradeStrategy over an engine of its own. */
function runOperator(events: readonly (Candle | Signal)[]): Run {
  const r: Run = { fills: [], trips: [], equity: [], snapshots: [] };
  const candles = events.filter((e): e is Candle => !('action' in e));
  from(candles)
    .pipe(tradeStrategy(scripted(events), () => new TradingEngine({ risk, venue, initialCash: CASH })))
    .subscribe((step) => {
      r.fills.push(...step.fills);
      r.trips.push(...step.roundTrips);
      r.snapshots.push(step.portfolio);
      r.equity.push(step.portfolio.equity);
    });
  return r;
}

describe('risk → fills → portfolio on a seeded random walk, one engine', () => {
  for (const seed of [1, 2, 3]) {
    describe(`seed ${seed}`, () => {
      const events = scenario(seed, 3000);
      const engine = runEngine(events);
      const ops = runOperator(events);

      it('trades, and hits every kind of exit', () => {
        const purposes = new Set(engine.fills.map((f) => f.purpose));
        expect(engine.trips.length).toBeGreaterThan(20);
        expect([...purposes].sort()).toEqual(['entry', 'exit', 'stop_loss', 'take_profit', 'trailing_stop']);
      });

      it('tradeStrategy (the driver of bots and backtests) gives exactly what the engine gives', () => {
        expect(ops.fills).toEqual(engine.fills);
        expect(ops.trips).toEqual(engine.trips);
        expect(ops.equity).toEqual(engine.equity);
      });

      it('invariants hold after every candle', () => {
        let prevFlatEquity = CASH;
        let tripsPnl = 0;
        let tripIndex = 0;
        for (const s of ops.snapshots) {
          const held = s.positions.reduce((q, p) => q + p.qty, 0);
          expect(s.equity).toBeCloseTo(s.cash + held * s.price, 8);
          expect(s.equity).toBeCloseTo(CASH + s.realizedPnl + s.unrealizedPnl - s.feesPaid, 8);
          expect(s.cash).toBeGreaterThanOrEqual(-1e-9); // spot: never borrows
          while (tripIndex < ops.trips.length && (ops.trips[tripIndex] as RoundTrip).exitTimeMs < s.timeMs) {
            tripsPnl += (ops.trips[tripIndex] as RoundTrip).pnl;
            tripIndex++;
          }
          if (s.positions.length === 0) {
            // Σ net P&L of the trips closed so far = equity change since the start
            expect(tripsPnl).toBeCloseTo(s.equity - CASH, 8);
            prevFlatEquity = s.equity;
          }
        }
        expect(engine.engine.book.openCount).toBe(0);
        expect(prevFlatEquity).toBeCloseTo(engine.equity[engine.equity.length - 1] as number, 8);
      });

      it('every fill is at a price inside its candle, stamped with its open time, after its decision', () => {
        const candles = new Map(
          events.filter((e): e is Candle => !('action' in e)).map((c) => [c.closeTimeMs - MIN, c]),
        );
        for (const f of engine.fills) {
          const c = candles.get(f.timeMs);
          expect(c).toBeDefined();
          if (c === undefined) continue;
          const slip = 1 + 5 / 10_000;
          expect(f.price).toBeLessThanOrEqual(c.high * slip);
          expect(f.price).toBeGreaterThanOrEqual(c.low / slip);
          expect(f.fee).toBeCloseTo(f.qty * f.price * (f.liquidity === 'maker' ? 0.0008 : 0.001), 12);
        }
      });

      it('metrics agree with the trades and the curve', () => {
        const acc = new MetricsAccumulator(CASH, MIN);
        let i = 0;
        for (const e of events) {
          if ('action' in e) continue;
          acc.onCandle(e.closeTimeMs, engine.equity[i++] as number, false, e.close);
        }
        for (const t of engine.trips) acc.onTrade(t);
        const m = acc.result();
        expect(m.trades).toBe(engine.trips.length);
        expect(m.expectancy * m.trades).toBeCloseTo(m.finalEquity - CASH, 6);
      });
    });
  }
});
