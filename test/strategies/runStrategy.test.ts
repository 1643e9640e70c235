import { from, toArray } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import type { Candle } from '../../src/domain/candle.js';
import { Sma } from '../../src/domain/indicators/index.js';
import type { Signal } from '../../src/domain/signal.js';
import { resampleCandles } from '../../src/operators/resampleCandles.js';
import { runStrategy, type StrategyErrorEvent } from '../../src/operators/strategy.js';
import type { Strategy, StrategyContext } from '../../src/strategies/strategy.js';
import { invalidData, marbleScheduler } from '../support/marbles.js';
import { bar, series } from './support.js';

// runStrategy does not use time: one marble frame is one input candle.

type Spec = { sma: () => Sma };

/** Buy above the SMA(2), sell below it, hold on it or while warming up; throws on a close of 13. */
class AboveSma implements Strategy<Spec> {
  readonly name = 'above_sma';
  readonly params = {};
  readonly timeframe = '1m' as const;
  readonly indicators: Spec = { sma: () => new Sma(2) };
  onCandle(ctx: StrategyContext<Spec>): Signal {
    const close = ctx.candle.close;
    if (close === 13) throw new Error('thirteen');
    const sma = ctx.values.sma;
    if (sma === undefined) return ctx.hold('warming up');
    if (close > sma) return ctx.buy(0.5, 'above', { sma });
    if (close < sma) return ctx.sell(0.5, 'below', { sma });
    return ctx.hold('on it', { sma });
  }
}

const strategy = new AboveSma();

function signal(c: Candle, action: Signal['action'], reason: string, sma?: number): Signal {
  return {
    symbol: c.symbol,
    timeframe: c.timeframe,
    closeTimeMs: c.closeTimeMs,
    action,
    confidence: action === 'hold' ? 0 : 0.5,
    reason,
    price: c.close,
    indicators: sma === undefined ? {} : { sma },
  };
}

const a = bar(1, 10);
const b = bar(2, 12); // sma 11 → buy
const c = bar(3, 10); // sma 11 → sell
const d = bar(4, 10); // sma 10 → hold
const x = bar(5, 13); // throws
const e = bar(6, 11); // sma 12 → sell (the sma saw 13)
const A = signal(a, 'hold', 'warming up');
const B = signal(b, 'buy', 'above', 11);
const C = signal(c, 'sell', 'below', 11);
const D = signal(d, 'hold', 'on it', 10);
const X = signal(x, 'hold', 'strategy error: thirteen');
const E = signal(e, 'sell', 'below', 12);

let testScheduler: TestScheduler;

beforeEach(() => {
  testScheduler = marbleScheduler();
});

describe('runStrategy', () => {
  describe('the RxJS checklist', () => {
    it('never emits and never completes on a never source', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold<Candle>('-');
        const subs = '            ^';
        expectObservable(src.pipe(runStrategy(strategy))).toBe('-');
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('completes on an empty source', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold<Candle>('|');
        const subs = '            (^!)';
        expectObservable(src.pipe(runStrategy(strategy))).toBe('|');
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('one signal per candle, holds included, in step with the candles', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('a-b--c-d|', { a, b, c, d });
        const subs = '    ^-------!';
        const expected = 'A-B--C-D|';
        expectObservable(src.pipe(runStrategy(strategy))).toBe(expected, { A, B, C, D });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('passes an error through after the signals before it', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('ab#', { a, b }, new Error('feed lost'));
        const subs = '    ^-!';
        expectObservable(src.pipe(runStrategy(strategy))).toBe('AB#', { A, B }, new Error('feed lost'));
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('never-ending source: emits as candles come and stays open', () => {
      testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const src = hot('-a-b-c-', { a, b, c });
        const subs = '   ^------';
        expectObservable(src.pipe(runStrategy(strategy))).toBe('-A-B-C-', { A, B, C });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('unsubscribes from the source on early unsubscription', () => {
      testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const src = hot('-a-b-c-d-|', { a, b, c, d });
        const subs = '   ^----!    ';
        const unsub = '  ^----!    ';
        expectObservable(src.pipe(runStrategy(strategy)), unsub).toBe('-A-B--    ', { A, B });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('a throwing strategy gives a hold and an error event, and the stream goes on', () => {
      const events: StrategyErrorEvent[] = [];
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('abcdxe|', { a, b, c, d, x, e });
        const subs = '    ^-----!';
        const expected = 'ABCDXE|';
        const out = src.pipe(runStrategy(strategy, { onError: (ev) => events.push(ev) }));
        expectObservable(out).toBe(expected, { A, B, C, D, X, E });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'strategy-error',
        strategy: 'above_sma',
        symbol: 'BTC-USDT',
        timeframe: '1m',
        closeTimeMs: x.closeTimeMs,
        message: 'thirteen',
      });
      expect(events[0]?.stack).toMatch(/Error: thirteen\n\s+at /);
    });

    it('an onError callback that throws errors the stream', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('abx-e|', { a, b, x, e });
        const subs = '    ^-!   ';
        const out = src.pipe(
          runStrategy(strategy, {
            onError: () => {
              throw new Error('logger down');
            },
          }),
        );
        expectObservable(out).toBe('AB#', { A, B }, new Error('logger down'));
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });
  });

  it('a signal with a confidence out of 0..1 becomes a hold and an error event', async () => {
    const bad: Strategy<Spec> = {
      ...strategy,
      name: 'bad',
      indicators: strategy.indicators,
      onCandle: (ctx) => ctx.buy(1.5, 'too sure', {}),
    };
    const events: StrategyErrorEvent[] = [];
    const out = await from([a, b])
      .pipe(runStrategy(bad, { onError: (ev) => events.push(ev) }), toArray())
      .toPromise();
    expect(out?.map((s) => [s.action, s.reason])).toEqual([
      ['hold', 'strategy error: onCandle returned confidence 1.5: it must be from 0 to 1'],
      ['hold', 'strategy error: onCandle returned confidence 1.5: it must be from 0 to 1'],
    ]);
    expect(events).toHaveLength(2);
  });

  it('ignores forming and revised candles, and timeframes it does not use', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const forming = bar(2, 50, { closed: false });
      const revised = bar(1, 50, { revision: 1 });
      const five = bar(5, 50, {}, '5m');
      const src = cold('a-fr5b|', { a, f: forming, r: revised, 5: five, b });
      expectObservable(src.pipe(runStrategy(strategy))).toBe('A----B|', { A, B });
    });
  });

  it('errors on candles out of time order', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const src = cold('ba', { a, b });
      expectObservable(src.pipe(runStrategy(strategy))).toBe(
        'B#',
        { B: signal(b, 'hold', 'warming up') },
        invalidData(/closing at 1970-01-01T00:01:00.000Z arrived after 1970-01-01T00:02:00.000Z/),
      );
    });
  });

  it('errors on a second symbol', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const src = cold('ab', { a, b: bar(2, 12, { symbol: 'ETH-USDT' }) });
      expectObservable(src.pipe(runStrategy(strategy))).toBe(
        'A#',
        { A },
        invalidData(/ETH-USDT candle in a stream of BTC-USDT/),
      );
    });
  });

  it('fresh indicators for every subscription', async () => {
    const candles = series([10, 12, 10, 10]);
    const op = runStrategy(strategy);
    const first = await from(candles).pipe(op, toArray()).toPromise();
    const second = await from(candles).pipe(op, toArray()).toPromise();
    expect(second).toEqual(first);
  });

  it('any indicator name, quotes and backslashes included, reaches ctx.values under that name', async () => {
    const names = ['plain', 'with "quotes"', "it's", 'back\\slash', 'new\nline', '${x}', 'ünï'];
    const indicators = Object.fromEntries(names.map((n, i) => [n, () => new Sma(i + 1)]));
    const seen: Record<string, unknown>[] = [];
    const recorder: Strategy = {
      name: 'recorder',
      params: {},
      timeframe: '1m',
      indicators,
      onCandle(ctx) {
        seen.push({ ...ctx.values });
        return ctx.hold('recorded');
      },
    };
    await from(series([10, 12, 14]))
      .pipe(runStrategy(recorder), toArray())
      .toPromise();
    expect(Object.keys(seen[2] as object).sort()).toEqual([...names].sort());
    expect(seen[2]?.['plain']).toBe(14);
    expect(seen[2]?.['with "quotes"']).toBe(13);
    expect(seen[2]?.["it's"]).toBe(12);
    expect(seen[2]?.['back\\slash']).toBeUndefined(); // SMA(4) after 3 candles
    expect(seen[1]?.['with "quotes"']).toBe(11);
  });

  describe('multiple timeframes', () => {
    /** Records, in its reason, the close time (in minutes) of the last 5m candle it can see and its SMA(1). */
    const watcher: Strategy = {
      name: 'watcher',
      params: {},
      timeframe: '1m',
      indicators: {},
      higherTimeframes: { '5m': { close: () => new Sma(1) } },
      onCandle(ctx) {
        const view = ctx.higher('5m');
        const seen = view?.candle === undefined ? 'none' : String(view.candle.closeTimeMs / 60_000);
        return ctx.hold(`5m ${seen} ${String(view?.values.close)}`);
      },
    };

    it('sees a higher-timeframe candle only after it closed (resampleCandles order)', async () => {
      const minutes = series([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      const out = await from(minutes)
        .pipe(resampleCandles(['1m', '5m']), runStrategy(watcher), toArray())
        .toPromise();
      expect(out?.map((s) => [s.closeTimeMs / 60_000, s.reason])).toEqual([
        [1, '5m none undefined'],
        [2, '5m none undefined'],
        [3, '5m none undefined'],
        [4, '5m none undefined'],
        // the 5m candle closing at 5 arrives after the 1m candle closing at 5: first seen at 6
        [5, '5m none undefined'],
        [6, '5m 5 5'],
        [7, '5m 5 5'],
        [8, '5m 5 5'],
        [9, '5m 5 5'],
        [10, '5m 5 5'],
        [11, '5m 10 10'],
      ]);
    });

    it('holds back a higher candle that arrives before its close time', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const early = bar(5, 99, {}, '5m');
        const src = cold('aQbcde|', {
          a: bar(1, 1),
          Q: early,
          b: bar(2, 2),
          c: bar(3, 3),
          d: bar(4, 4),
          e: bar(5, 5),
        });
        const hold = (m: number, reason: string): Signal => ({ ...signal(bar(m, m), 'hold', reason) });
        expectObservable(src.pipe(runStrategy(watcher))).toBe('a-bcde|', {
          a: hold(1, '5m none undefined'),
          b: hold(2, '5m none undefined'),
          c: hold(3, '5m none undefined'),
          d: hold(4, '5m none undefined'),
          e: hold(5, '5m 5 99'),
        });
      });
    });

    it('errors on higher-timeframe candles out of order', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const src = cold('PQ', { P: bar(10, 1, {}, '5m'), Q: bar(5, 1, {}, '5m') });
        expectObservable(src.pipe(runStrategy(watcher))).toBe('-#', {}, invalidData(/5m candle closing at/));
      });
    });
  });
});
