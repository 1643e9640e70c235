import { from, toArray } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import type { Candle } from '../../src/domain/candle.js';
import type { Indicator, IndicatorInput } from '../../src/domain/indicators/indicator.js';
import { STANDARD_INDICATORS, Sma } from '../../src/domain/indicators/index.js';
import { withIndicators, type CandleWithIndicators } from '../../src/operators/withIndicators.js';
import { invalidData, marbleScheduler } from '../support/marbles.js';
import { BTC_SLICE, candle, loadCandles } from './support.js';

// withIndicators does not use time: one marble frame is one input candle.

const spec = { sma: () => new Sma(2) };
type Out = CandleWithIndicators<typeof spec>;

const a = candle(0, 1);
const b = candle(1, 3);
const c = candle(2, 5);
const d = candle(3, 9);
const out = (x: Candle, sma: number | undefined): Out => ({ candle: x, indicators: { sma } });
const A = out(a, undefined);
const B = out(b, 2);
const C = out(c, 4);
const D = out(d, 7);

/** Records what it is fed; can be told to throw. */
class Recorder implements Indicator<number> {
  readonly key = 'recorder';
  readonly lookback = 0;
  readonly seen: number[] = [];
  constructor(private readonly throwOn?: number) {}
  update(x: IndicatorInput): number {
    if (x.close === this.throwOn) throw new Error(`boom at ${x.close}`);
    this.seen.push(x.close);
    return x.close;
  }
  reset(): void {
    this.seen.length = 0;
  }
}

let testScheduler: TestScheduler;

beforeEach(() => {
  testScheduler = marbleScheduler();
});

describe('withIndicators', () => {
  describe('the RxJS checklist', () => {
    it('never emits and never completes on a never source', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold<Candle>('-');
        const subs = '            ^';
        const expected = '        -';
        expectObservable(src.pipe(withIndicators(spec))).toBe(expected);
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('completes on an empty source', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold<Candle>('|');
        const subs = '            (^!)';
        const expected = '        |';
        expectObservable(src.pipe(withIndicators(spec))).toBe(expected);
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('one candle: its values, undefined while warming up', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('a|', { a }).pipe(withIndicators(spec))).toBe('A|', { A });
      });
    });

    it('many candles: one output per closed candle, in step with it', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('a-b--c-d|', { a, b, c, d });
        const subs = '    ^-------!';
        const expected = 'A-B--C-D|';
        expectObservable(src.pipe(withIndicators(spec))).toBe(expected, { A, B, C, D });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('passes an error through after the values before it', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('ab#', { a, b }, new Error('feed lost'));
        const subs = '    ^-!';
        const expected = 'AB#';
        expectObservable(src.pipe(withIndicators(spec))).toBe(expected, { A, B }, new Error('feed lost'));
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('never-ending source: emits as candles come and stays open', () => {
      testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const src = hot('-a-b-c-', { a, b, c });
        const subs = '   ^------';
        const expected = '-A-B-C-';
        expectObservable(src.pipe(withIndicators(spec))).toBe(expected, { A, B, C });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('unsubscribes from the source on early unsubscription', () => {
      testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const src = hot('-a-b-c-d-|', { a, b, c, d });
        const subs = '   ^----!    ';
        const unsub = '  ^----!    ';
        const expected = '-A-B--    ';
        expectObservable(src.pipe(withIndicators(spec)), unsub).toBe(expected, { A, B });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('an indicator that throws errors the stream and unsubscribes', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('abcd|', { a, b, c, d });
        const subs = '    ^-!  ';
        const expected = 'AB#  ';
        const throwing = { sma: () => new Sma(2), rec: () => new Recorder(5) };
        expectObservable(src.pipe(withIndicators(throwing))).toBe(
          expected,
          {
            A: { candle: a, indicators: { sma: undefined, rec: 1 } },
            B: { candle: b, indicators: { sma: 2, rec: 3 } },
          },
          new Error('boom at 5'),
        );
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });
  });

  describe('state', () => {
    it('a forming candle is dropped and never reaches an indicator; revisions are dropped too', () => {
      const recorders: Recorder[] = [];
      const rec = {
        rec: () => {
          const r = new Recorder();
          recorders.push(r);
          return r;
        },
      };
      testScheduler.run(({ cold, expectObservable }) => {
        const forming = { ...c, close: 100, high: 100, closed: false };
        const revised = { ...b, close: 50, high: 50, revision: 1 };
        const src = cold('a-f-b-r-c|', { a, f: forming, b, r: revised, c });
        const expected = 'A---B---C|';
        const o = (x: Candle): CandleWithIndicators<typeof rec> => ({
          candle: x,
          indicators: { rec: x.close },
        });
        expectObservable(src.pipe(withIndicators(rec))).toBe(expected, { A: o(a), B: o(b), C: o(c) });
      });
      expect(recorders.map((r) => r.seen)).toEqual([[1, 3, 5]]);
    });

    it('keeps separate indicators per symbol and per timeframe', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const eth = (x: Candle): Candle => ({ ...x, symbol: 'ETH-USDT', close: x.close * 10 });
        const h1 = (x: Candle): Candle => ({ ...x, timeframe: '1h', closeTimeMs: x.closeTimeMs * 60 });
        const src = cold('aebhcf|', { a, e: eth(a), b, h: h1(a), c, f: eth(b) });
        const expected = 'AEBHCF|';
        expectObservable(src.pipe(withIndicators(spec))).toBe(expected, {
          A,
          E: out(eth(a), undefined),
          B,
          H: out(h1(a), undefined),
          C,
          F: out(eth(b), 20),
        });
      });
    });

    it('errors on a candle that is not after the previous one of its series', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const src = cold('abb|', { a, b });
        expectObservable(src.pipe(withIndicators(spec))).toBe(
          'AB#',
          { A, B },
          invalidData(
            /withIndicators: TEST 1m candle closing at .* arrived after .*: input must be in time order/,
          ),
        );
      });
    });

    it('each subscription starts from scratch (no state shared between subscribers)', async () => {
      const op = withIndicators(spec);
      const once = async (): Promise<Out[]> =>
        new Promise((resolve) => from([a, b, c]).pipe(op, toArray()).subscribe(resolve));
      expect(await once()).toEqual([A, B, C]);
      expect(await once()).toEqual([A, B, C]);
    });
  });

  describe('no look-ahead', () => {
    it('appending future candles never changes any earlier value (standard set, real BTC/USDT 1m)', async () => {
      const candles = loadCandles(BTC_SLICE);
      const all = async (n: number) =>
        new Promise<CandleWithIndicators<typeof STANDARD_INDICATORS>[]>((resolve, reject) =>
          from(candles.slice(0, n))
            .pipe(withIndicators(STANDARD_INDICATORS), toArray())
            .subscribe({ next: resolve, error: reject }),
        );
      const full = await all(candles.length);
      expect(full).toHaveLength(candles.length);
      for (const n of [1, 2, 20, 34, 35, 300, 1439, 1999]) {
        expect(await all(n)).toEqual(full.slice(0, n));
      }
      // and every indicator is warm by the end
      const last = full[full.length - 1]?.indicators;
      expect(Object.values(last ?? {}).every((v) => v !== undefined)).toBe(true);
    });
  });
});
