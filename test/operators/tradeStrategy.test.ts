import { from, map, toArray, type OperatorFunction } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import type { Candle } from '../../src/domain/candle.js';
import { Sma } from '../../src/domain/indicators/index.js';
import type { Signal } from '../../src/domain/signal.js';
import type { Timeframe } from '../../src/domain/timeframe.js';
import { parseRiskConfig, parseVenueModel, type RiskConfigInput } from '../../src/domain/trading/config.js';
import { TradingEngine } from '../../src/domain/trading/engine.js';
import { resampleCandles } from '../../src/operators/resampleCandles.js';
import { tradeStrategy, type TradeStep } from '../../src/operators/tradeStrategy.js';
import type { Strategy, StrategyContext } from '../../src/strategies/strategy.js';
import { invalidData, marbleScheduler } from '../support/marbles.js';

// tradeStrategy does not use time: one marble frame is one input candle, closeTimeMs is its data time.

const MIN = 60_000;
const CASH = 10_000;
const venue = parseVenueModel({ fee_rate: 0.001 });
const fixed1 = parseRiskConfig({ sizing: { type: 'fixed', quantity: 1 } });

function k(tf: Timeframe, closeMinute: number, o: number, h: number, l: number, c: number): Candle {
  return {
    symbol: 'BTC-USDT',
    timeframe: tf,
    closeTimeMs: closeMinute * MIN,
    open: o,
    high: h,
    low: l,
    close: c,
    volume: 1,
    tradesCount: 1,
    closed: true,
    revision: 0,
  };
}

/** A 1m candle at one price. */
function at(minute: number, price: number): Candle {
  return k('1m', minute, price, price, price, price);
}

type Spec = { sma: () => Sma };

/** Buys at a close of 101, sells at 99, throws at 13, holds otherwise; reports its SMA(2) (warm or not). */
function byClose(timeframe: Timeframe = '1m'): Strategy<Spec> {
  return {
    name: 'by_close',
    params: {},
    timeframe,
    indicators: { sma: () => new Sma(2) },
    onCandle(ctx: StrategyContext<Spec>): Signal {
      const close = ctx.candle.close;
      if (close === 13) throw new Error('thirteen');
      const sma = ctx.values.sma;
      if (close === 101) return ctx.buy(1, 'close 101', { sma });
      if (close === 99) return ctx.sell(1, 'close 99', { sma });
      return ctx.hold(sma === undefined ? 'warming up' : 'nothing', { sma });
    },
  };
}

function engineOf(risk: RiskConfigInput = { sizing: { type: 'fixed', quantity: 1 } }): () => TradingEngine {
  return () => new TradingEngine({ risk: parseRiskConfig(risk), venue, initialCash: CASH });
}

/** One line per step: minute, decision, order or denial, fills (order id side qty @ price at minute), equity. */
function brief(s: TradeStep): string {
  const d = s.decision;
  const decision = d === undefined ? '-' : d.kind === 'order' ? `order ${d.id}` : `denied ${d.reason}`;
  const fills = s.fills.map((f) => `${f.orderId} ${f.side} ${f.qty} @ ${f.price} at ${f.timeMs / MIN}`);
  return `${s.candle.timeframe}@${s.candle.closeTimeMs / MIN} ${s.signal?.action ?? '-'} ${decision} [${fills.join(', ')}] ${round(s.portfolio.equity)}`;
}

function round(x: number): number {
  return Number(x.toFixed(6));
}

/** The steps of `op` over `candles` (resampled first to `timeframes` when given). */
function steps<T>(
  candles: readonly Candle[],
  op: OperatorFunction<Candle, T>,
  timeframes?: Timeframe[],
): T[] {
  let out: T[] = [];
  const src = from(candles);
  (timeframes === undefined ? src : src.pipe(resampleCandles(timeframes)))
    .pipe(op, toArray())
    .subscribe((s) => (out = s));
  return out;
}

let ts: TestScheduler;
beforeEach(() => {
  ts = marbleScheduler();
});

// A 1m strategy: a hold, a buy, its fill at the next open, a sell, its fill.
const a = at(1, 100);
const b = at(2, 101);
const c = k('1m', 3, 102, 103, 101.5, 102.5);
const d = at(4, 99);
const e = k('1m', 5, 98, 98, 97, 97.5);
const x = at(6, 13);
const cash3 = CASH - 102 - 0.102;
const cash5 = cash3 + 98 - 0.098;
const A = '1m@1 hold - [] 10000';
const B = '1m@2 buy order 1 [] 10000';
const C = `1m@3 hold - [1 buy 1 @ 102 at 2] ${round(cash3 + 102.5)}`;
const D = `1m@4 sell order 2 [] ${round(cash3 + 99)}`;
const E = `1m@5 hold - [2 sell 1 @ 98 at 4] ${round(cash5)}`;
const X = `1m@6 hold - [] ${round(cash5)}`;

describe('tradeStrategy', () => {
  describe('the RxJS checklist', () => {
    it('never emits and never completes on a never source', () => {
      ts.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold<Candle>('-');
        expectObservable(src.pipe(tradeStrategy(byClose(), engineOf()))).toBe('-');
        expectSubscriptions(src.subscriptions).toBe('^');
      });
    });

    it('completes on an empty source', () => {
      ts.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold<Candle>('|');
        expectObservable(src.pipe(tradeStrategy(byClose(), engineOf()))).toBe('|');
        expectSubscriptions(src.subscriptions).toBe('(^!)');
      });
    });

    it('one step per candle: decisions, orders, fills at the next open, the account after it', () => {
      ts.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('a-b--c-d-e|', { a, b, c, d, e });
        const subs = '    ^---------!';
        const expected = 'A-B--C-D-E|';
        expectObservable(src.pipe(tradeStrategy(byClose(), engineOf()), map(brief))).toBe(expected, {
          A,
          B,
          C,
          D,
          E,
        });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('one value', () => {
      ts.run(({ cold, expectObservable }) => {
        expectObservable(cold('a|', { a }).pipe(tradeStrategy(byClose(), engineOf()), map(brief))).toBe(
          'A|',
          {
            A,
          },
        );
      });
    });

    it('passes an error through after the steps before it', () => {
      ts.run(({ cold, expectObservable, expectSubscriptions }) => {
        const err = new Error('feed lost');
        const src = cold('ab#', { a, b }, err);
        expectObservable(src.pipe(tradeStrategy(byClose(), engineOf()), map(brief))).toBe(
          'AB#',
          { A, B },
          err,
        );
        expectSubscriptions(src.subscriptions).toBe('^-!');
      });
    });

    it('never-ending source: a step as each candle comes, and stays open', () => {
      ts.run(({ hot, expectObservable, expectSubscriptions }) => {
        const src = hot('-a-b-c-', { a, b, c });
        expectObservable(src.pipe(tradeStrategy(byClose(), engineOf()), map(brief))).toBe('-A-B-C-', {
          A,
          B,
          C,
        });
        expectSubscriptions(src.subscriptions).toBe('^------');
      });
    });

    it('unsubscribes from the source on early unsubscription, and lets go of the engine', () => {
      const engine = engineOf()();
      ts.run(({ hot, expectObservable, expectSubscriptions }) => {
        const src = hot('-a-b-c-d-|', { a, b, c, d });
        const unsub = '  ^----!    ';
        expectObservable(src.pipe(tradeStrategy(byClose(), engine), map(brief)), unsub).toBe('-A-B--', {
          A,
          B,
        });
        expectSubscriptions(src.subscriptions).toBe('^----!');
      });
      // Released: another pipeline may drive it now, and it goes on from where it stopped (order 1 pending).
      expect(steps([c], tradeStrategy(byClose(), engine)).map(brief)).toEqual([C]);
    });

    it('a throwing strategy gives a hold and the error on its step, and the stream goes on', () => {
      ts.run(({ cold, expectObservable }) => {
        const src = cold('abcdexy', { a, b, c, d, e, x, y: at(7, 100) });
        const out = src.pipe(tradeStrategy(byClose(), engineOf()));
        expectObservable(out.pipe(map(brief))).toBe('ABCDEXY', {
          A,
          B,
          C,
          D,
          E,
          X,
          Y: `1m@7 hold - [] ${round(cash5)}`,
        });
        expectObservable(out.pipe(map((s) => s.strategyError?.message ?? 'none'))).toBe('nnnnntn', {
          n: 'none',
          t: 'thirteen',
        });
        expectObservable(out.pipe(map((s) => s.signal?.reason))).toBe('abcdefg', {
          a: 'warming up',
          b: 'close 101',
          c: 'nothing',
          d: 'close 99',
          e: 'nothing',
          f: 'strategy error: thirteen',
          g: 'nothing',
        });
      });
    });
  });

  describe('the engine', () => {
    it('a factory gives each subscription its own engine', () => {
      const op = tradeStrategy(byClose(), engineOf());
      expect(steps([a, b, c, d, e], op).map(brief)).toEqual([A, B, C, D, E]);
      expect(steps([a, b, c, d, e], op).map(brief)).toEqual([A, B, C, D, E]);
    });

    it('an engine is driven by one subscription at a time', () => {
      ts.run(({ hot, expectObservable }) => {
        const engine = engineOf()();
        const src = hot('-a-b-', { a, b });
        expectObservable(src.pipe(tradeStrategy(byClose(), engine), map(brief))).toBe('-A-B-', { A, B });
        expectObservable(src.pipe(tradeStrategy(byClose(), engine))).toBe(
          '#',
          undefined,
          expect.objectContaining({ name: 'UsageError', message: expect.stringMatching(/already driven/) }),
        );
      });
    });

    it('with `snapshots`, each step carries the engine state after its candle, as plain JSON', () => {
      const engine = engineOf()();
      const out = steps([a, b, c], tradeStrategy(byClose(), engine, { snapshots: true }));
      expect(JSON.parse(JSON.stringify(out[2]?.engineState))).toEqual(engine.snapshot());
      expect(out[1]?.engineState?.venue.pendingOrders).toEqual([expect.objectContaining({ id: 1 })]);
      expect(out[1]?.engineState).toMatchObject({ pricedToMs: 2 * MIN, decidedToMs: 2 * MIN });
      expect(steps([a], tradeStrategy(byClose(), engineOf()))[0]?.engineState).toBeUndefined();
    });

    it('with `portfolio: false`, steps leave the account out; what is traded is the same', () => {
      const engine = engineOf()();
      const lean = steps([a, b, c, d, e], tradeStrategy(byClose(), engine, { portfolio: false }));
      const full = steps([a, b, c, d, e], tradeStrategy(byClose(), engineOf()));
      expect(lean.every((s) => s.portfolio === undefined)).toBe(true);
      expect(lean).toEqual(full.map((s) => ({ ...s, portfolio: undefined })));
      expect(engine.book.equity).toBe(full[4]?.portfolio.equity);
    });

    it('ignores forming and revised candles, and timeframes it does not use', () => {
      ts.run(({ cold, expectObservable }) => {
        const forming = { ...at(2, 101), closed: false };
        const revised = { ...at(1, 101), revision: 1 };
        const five = k('5m', 5, 101, 101, 101, 101);
        const src = cold('af5rb|', { a, f: forming, 5: five, r: revised, b });
        expectObservable(src.pipe(tradeStrategy(byClose(), engineOf()), map(brief))).toBe('A---B|', { A, B });
      });
    });

    it('errors on candles out of order, a second symbol, or a price candle twice', () => {
      ts.run(({ cold, expectObservable }) => {
        const op = (): OperatorFunction<Candle, TradeStep> => tradeStrategy(byClose(), engineOf());
        expectObservable(cold('ba', { a, b }).pipe(op(), map(brief))).toBe(
          'B#',
          { B: '1m@2 buy order 1 [] 10000' },
          invalidData(/arrived after/),
        );
        expectObservable(cold('ab', { a, b: { ...b, symbol: 'ETH-USDT' } }).pipe(op(), map(brief))).toBe(
          'A#',
          { A },
          invalidData(/ETH-USDT candle in a stream of BTC-USDT/),
        );
        // A 15m strategy does not check 1m candles itself: the prices must still come in order.
        const m1 = at(1, 100);
        expectObservable(
          cold('ab', { a: m1, b: m1 }).pipe(tradeStrategy(byClose('15m'), engineOf()), map(brief)),
        ).toBe('A#', { A: '1m@1 - - [] 10000' }, invalidData(/1m candle closing at .* arrived after/));
      });
    });
  });

  describe('prices: the first after the decision', () => {
    /** 1m candles at 100 for 45 minutes, with what the test needs changed. */
    function minutes(changes: Record<number, Candle>): Candle[] {
      return Array.from({ length: 45 }, (_, i) => changes[i + 1] ?? at(i + 1, 100));
    }
    const withStop: RiskConfigInput = { sizing: { type: 'fixed', quantity: 1 }, stop_loss_percentage: 1 };

    it('a 15m strategy on 1m candles: fills at the next 1m open, exits watched on 1m ranges', () => {
      const candles = minutes({
        15: at(15, 101), // the 15m candle closing at 15 closes at 101: buy
        16: k('1m', 16, 100.5, 100.6, 100.4, 100.5), // filled at 100.5, at 15 (its open time)
        20: k('1m', 20, 100, 100, 99, 99.5), // the 1 % stop (99.495) is hit at 19
      });
      const out = steps(candles, tradeStrategy(byClose('15m'), engineOf(withStop)), ['1m', '15m']);
      const decisions = out.filter((s) => s.signal !== undefined);
      expect(
        decisions.map((s) => [s.candle.timeframe, s.candle.closeTimeMs / MIN, s.signal?.action]),
      ).toEqual([
        ['15m', 15, 'buy'],
        ['15m', 30, 'hold'],
        ['15m', 45, 'hold'],
      ]);
      const fills = out.flatMap((s) =>
        s.fills.map((f) => [f.purpose, f.price, f.timeMs / MIN, s.candle.closeTimeMs / MIN]),
      );
      expect(fills).toEqual([
        ['entry', 100.5, 15, 16],
        ['stop_loss', 100.5 * 0.99, 19, 20],
      ]);
      // One step per 1m candle, one per 15m candle; the 15m step comes after the 1m one closing with it.
      expect(out).toHaveLength(45 + 3);
      expect(out.slice(14, 16).map((s) => s.candle.timeframe)).toEqual(['1m', '15m']);
    });

    it('a 15m strategy on 15m candles alone: fills at the next 15m open, exits watched on 15m ranges', () => {
      const candles = [
        k('15m', 15, 100, 100, 100, 101),
        k('15m', 30, 100.5, 101, 99, 100), // filled at its open, 100.5; the stop (99.495) inside its range
        k('15m', 45, 100, 100, 100, 100),
      ];
      const out = steps(candles, tradeStrategy(byClose('15m'), engineOf(withStop)));
      const cash = CASH - 100.5 - 0.1005 + 99.495 - 0.099495;
      expect(out.map(brief)).toEqual([
        '15m@15 buy order 1 [] 10000',
        `15m@30 hold - [1 buy 1 @ 100.5 at 15, 1 sell 1 @ 99.495 at 15] ${round(cash)}`,
        `15m@45 hold - [] ${round(cash)}`,
      ]);
    });

    it('`priceTimeframe` picks the candles explicitly', () => {
      const candles = minutes({ 15: at(15, 101), 16: k('1m', 16, 100.5, 100.6, 100.4, 100.5) });
      const op = tradeStrategy(byClose('15m'), engineOf(), { priceTimeframe: '15m' });
      const got = steps(candles, op, ['1m', '15m']);
      // Only the 15m candles are used: the order decided at 15 fills at the open of the 15m candle 15–30.
      expect(got.map((s) => s.candle.timeframe)).toEqual(['15m', '15m', '15m']);
      expect(got[1]?.fills.map((f) => [f.price, f.timeMs / MIN])).toEqual([[100.5, 15]]);
    });
  });

  describe('warm-up and resuming', () => {
    it('`tradeFromMs`: the candles before only warm the indicators up (no step, no order)', () => {
      const warm = steps([a, b, c, d, e], tradeStrategy(byClose(), engineOf(), { tradeFromMs: 4 * MIN }));
      // The buy at 2 was never traded; at 4 the SMA(2) is already warm.
      expect(warm.map(brief)).toEqual(['1m@4 sell denied no_position [] 10000', '1m@5 hold - [] 10000']);
      expect(warm[0]?.signal?.indicators).toEqual({ sma: (102.5 + 99) / 2 });
    });

    it('a restored engine skips the candles it has used and goes on as if it had never stopped', () => {
      const full = steps([a, b, c, d, e], tradeStrategy(byClose(), engineOf(), { snapshots: true }));
      for (let cut = 0; cut < 4; cut++) {
        const saved = JSON.parse(JSON.stringify(full[cut]?.engineState)) as unknown;
        const engine = TradingEngine.restore(saved, { risk: fixed1, venue });
        const resumed = steps([a, b, c, d, e], tradeStrategy(byClose(), engine, { snapshots: true }));
        expect(resumed).toEqual(full.slice(cut + 1));
      }
    });

    it('a restored 15m engine also resumes between the 1m and the 15m step closing together', () => {
      const candles = Array.from({ length: 45 }, (_, i) => at(i + 1, i === 14 ? 101 : i === 29 ? 99 : 100));
      const run = (engine: TradingEngine): TradeStep[] =>
        steps(candles, tradeStrategy(byClose('15m'), engine, { snapshots: true }), ['1m', '15m']);
      const full = run(engineOf()());
      const cut = full.findIndex((s) => s.candle.timeframe === '1m' && s.candle.closeTimeMs === 30 * MIN);
      expect(full[cut + 1]?.signal?.action).toBe('sell');
      const engine = TradingEngine.restore(full[cut]?.engineState, { risk: fixed1, venue });
      expect(run(engine)).toEqual(full.slice(cut + 1));
    });
  });
});
