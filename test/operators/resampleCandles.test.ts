import { take, toArray } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { invalidData, marbleScheduler } from '../support/marbles.js';
import type { Candle } from '../../src/domain/candle.js';
import { InvalidDataError, UsageError } from '../../src/domain/errors.js';
import type { Timeframe } from '../../src/domain/timeframe.js';
import type { Trade } from '../../src/domain/trade.js';
import { resampleCandleArray, resampleCandles } from '../../src/operators/resampleCandles.js';
import { tradesToCandles } from '../../src/operators/tradesToCandles.js';
import { VirtualClock } from '../../src/scheduling/virtualClock.js';
import { replayInVirtualTime } from '../../src/streams/replay.js';

// resampleCandles does not use time: one marble frame is one input candle, and a candle's closeTimeMs is
// its data time. In run mode spaces are ignored, a value, '-', '(' and ')' each take one frame.

const MIN = 60_000;
const HOUR = 60 * MIN;

type Ohlc = readonly [open: number, high: number, low: number, close: number];

function bar(
  timeframe: Timeframe,
  closeTimeMs: number,
  ohlc: Ohlc,
  volume: number,
  tradesCount: number,
  extra: Partial<Candle> = {},
): Candle {
  const [open, high, low, close] = ohlc;
  return {
    symbol: 'BTC-USDT',
    timeframe,
    closeTimeMs,
    open,
    high,
    low,
    close,
    volume,
    tradesCount,
    closed: true,
    revision: 0,
    ...extra,
  };
}

/** A closed 1m candle, stamped with the minute it closes at. */
function m1(minute: number, ohlc: Ohlc, volume = 1, tradesCount = 1, extra: Partial<Candle> = {}): Candle {
  return bar('1m', minute * MIN, ohlc, volume, tradesCount, extra);
}

/** A 1m candle with one price for open, high, low and close. */
function flat(minute: number, price: number, extra: Partial<Candle> = {}): Candle {
  return m1(minute, [price, price, price, price], 1, 1, extra);
}

/** A 1m candle without trades: it carries the previous close. */
function empty1m(minute: number, previousClose: number): Candle {
  const p = previousClose;
  return m1(minute, [p, p, p, p], 0, 0);
}

let testScheduler: TestScheduler;

beforeEach(() => {
  testScheduler = marbleScheduler();
});

// minutes 1..10: the 5m buckets closing at 5 and 10 minutes
const a = m1(1, [10, 12, 9, 11], 2, 3);
const b = m1(2, [11, 13, 10, 12]);
const c = m1(3, [12, 12, 8, 9], 3, 2);
const d = m1(4, [9, 10, 9, 10]);
const e = m1(5, [10, 11, 10, 11]);
const f = flat(6, 20);
const g = flat(7, 21);
const h = flat(8, 22);
const i = flat(9, 23);
const j = flat(10, 24);
const tenMinutes = { a, b, c, d, e, f, g, h, i, j };
const F = bar('5m', 5 * MIN, [10, 13, 8, 11], 8, 8);
const G = bar('5m', 10 * MIN, [20, 24, 20, 24], 5, 5);

describe('resampleCandles', () => {
  describe('the RxJS checklist', () => {
    it('never emits and never completes on a never source', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold<Candle>('-');
        const subs = '            ^';
        const expected = '        -';

        expectObservable(src.pipe(resampleCandles(['1m', '5m']))).toBe(expected);
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('completes on an empty source', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold<Candle>('|');
        const subs = '            (^!)';
        const expected = '        |';

        expectObservable(src.pipe(resampleCandles(['1m', '5m']))).toBe(expected);
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('one candle that completes its bucket', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('e|', { e });
        const subs = '    ^!';
        const expected = 'X|';

        expectObservable(src.pipe(resampleCandles(['5m']))).toBe(expected, {
          X: bar('5m', 5 * MIN, [10, 11, 10, 11], 1, 1),
        });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('one candle that does not complete its bucket: nothing, not even at completion', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('a|', { a });
        const subs = '    ^!';
        const expected = '-|';

        expectObservable(src.pipe(resampleCandles(['5m']))).toBe(expected);
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('many candles: passes 1m through and emits each 5m with its last 1m', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('abcde---fghij---|', tenMinutes);
        const subs = '    ^---------------!';
        const expected = 'abcd(eF)fghi(jG)|';

        expectObservable(src.pipe(resampleCandles(['1m', '5m']))).toBe(expected, { ...tenMinutes, F, G });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('forwards an error from the source, dropping the unfinished bucket', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const error = new Error('feed lost');
        const src = cold('abc#', tenMinutes, error);
        const subs = '    ^--!';
        const expected = 'abc#';

        expectObservable(src.pipe(resampleCandles(['1m', '5m']))).toBe(expected, tenMinutes, error);
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('a never-ending source: emits as buckets complete until unsubscribed', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('abcdefghi-', tenMinutes);
        const unsub = '   ^----------!';
        const subs = '    ^----------!';
        const expected = '----F------';

        expectObservable(src.pipe(resampleCandles(['5m'])), unsub).toBe(expected, { F });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('stops on early unsubscription (take), even between the outputs of one input', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('abcdefghij|', tenMinutes);
        const subs = '    ^---!';
        const expected = 'abcd(e|)';

        expectObservable(src.pipe(resampleCandles(['1m', '5m']), take(5))).toBe(expected, tenMinutes);
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('stops on an unsubscription marble', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('abcdefghij|', tenMinutes);
        const unsub = '   ^--!';
        const subs = '    ^--!';
        const expected = 'abc';

        expectObservable(src.pipe(resampleCandles(['1m', '5m'])), unsub).toBe(expected, tenMinutes);
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });
  });

  describe('completeness', () => {
    it('emits a bucket in the same frame as its last 1m candle, never earlier', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const src = cold('abcdefghij|', tenMinutes);
        const expected = '----F----G|';

        expectObservable(src.pipe(resampleCandles(['5m']))).toBe(expected, { F, G });
      });
    });

    it('closes a bucket left open by a gap when a later candle arrives, before passing that candle on', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        // minutes 1, 2, then 7 and 10: the 5-minute bucket is closed by the 7-minute candle
        const values = { p: flat(1, 10), q: flat(2, 12), r: flat(7, 15), s: flat(10, 14) };
        const src = cold('pq r---s---|', values);
        const expected = 'pq(Xr)(sY)|';

        expectObservable(src.pipe(resampleCandles(['1m', '5m']))).toBe(expected, {
          ...values,
          X: bar('5m', 5 * MIN, [10, 12, 10, 12], 2, 2),
          Y: bar('5m', 10 * MIN, [15, 15, 14, 14], 2, 2),
        });
      });
    });

    it('emits no candle for a bucket without any input candle', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        // minute 2, then 13 and 15: nothing for the 10-minute bucket
        const values = { p: flat(2, 10), q: flat(13, 11), r: flat(15, 12) };
        const src = cold('pqr|', values);
        const expected = '-XY|';

        expectObservable(src.pipe(resampleCandles(['5m']))).toBe(expected, {
          X: bar('5m', 5 * MIN, [10, 10, 10, 10], 1, 1),
          Y: bar('5m', 15 * MIN, [11, 12, 11, 12], 2, 2),
        });
      });
    });

    it('counts empty 1m candles toward completeness but not toward OHLC', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        // the previous close (20) is carried by the empty minutes; it must not leak into open or high
        const values = {
          p: empty1m(1, 20),
          q: m1(2, [10, 12, 9, 11], 2, 2),
          r: empty1m(3, 11),
          s: m1(4, [11, 15, 11, 14], 3, 1),
          t: empty1m(5, 14),
        };
        const src = cold('pqrst|', values);
        const expected = '----X|';

        expectObservable(src.pipe(resampleCandles(['5m']))).toBe(expected, {
          X: bar('5m', 5 * MIN, [10, 15, 9, 14], 5, 3),
        });
      });
    });

    it('emits a bucket in which nothing traded with the carried close and zero volume', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const values = {
          p: empty1m(6, 15),
          q: empty1m(7, 15),
          r: empty1m(8, 15),
          s: empty1m(9, 15),
          t: empty1m(10, 15),
        };
        const src = cold('pqrst|', values);
        const expected = '----X|';

        expectObservable(src.pipe(resampleCandles(['5m']))).toBe(expected, {
          X: bar('5m', 10 * MIN, [15, 15, 15, 15], 0, 0),
        });
      });
    });

    it('aligns 1h, 4h and 1d buckets to the UTC epoch', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        // 1m candles closing at 00:01, 01:00, 04:00 and 24:00 UTC (gaps elsewhere)
        const values = {
          p: m1(1, [100, 101, 99, 100]),
          q: m1(60, [100, 110, 100, 105]),
          r: m1(240, [105, 106, 90, 95]),
          s: m1(1440, [95, 96, 94, 96]),
        };
        const src = cold('pqr---s----|', values);
        const expected = '-P(QR)(STU)|';

        expectObservable(src.pipe(resampleCandles(['1d', '4h', '1h']))).toBe(expected, {
          P: bar('1h', HOUR, [100, 110, 99, 105], 2, 2),
          Q: bar('1h', 4 * HOUR, [105, 106, 90, 95], 1, 1),
          R: bar('4h', 4 * HOUR, [100, 110, 90, 95], 3, 3),
          S: bar('1h', 24 * HOUR, [95, 96, 94, 96], 1, 1),
          T: bar('4h', 24 * HOUR, [95, 96, 94, 96], 1, 1),
          U: bar('1d', 24 * HOUR, [100, 110, 90, 96], 4, 4),
        });
      });
    });
  });

  describe('output', () => {
    it('sums volumes to the exact decimal volume, without float drift', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const v = [0.1, 0.2, 0.3, 0.000012345678, 0.7];
        const src = cold('abcde', {
          a: m1(1, [1, 1, 1, 1], v[0]),
          b: m1(2, [1, 1, 1, 1], v[1]),
          c: m1(3, [1, 1, 1, 1], v[2]),
          d: m1(4, [1, 1, 1, 1], v[3]),
          e: m1(5, [1, 1, 1, 1], v[4]),
        });
        expect(v.reduce((s, x) => s + x, 0)).toBe(1.3000123456780002);
        expectObservable(src.pipe(resampleCandles(['5m']))).toBe('----X', {
          X: bar('5m', 5 * MIN, [1, 1, 1, 1], 1.300012345678, 5),
        });
      });
    });

    it('passes 1m through only when asked for', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const src = cold('abcde|', tenMinutes);
        expectObservable(src.pipe(resampleCandles(['1m']))).toBe('abcde|', tenMinutes);
        expectObservable(src.pipe(resampleCandles(['5m']))).toBe('----F|', { F });
      });
    });

    it('orders the outputs of one input by time: gap-closed buckets, the input, completed buckets shortest first', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const values = { p: flat(1, 10), q: flat(60, 12) };
        const src = cold('pq-------|', values);
        const expected = 'p(ABqCDE)|';

        // timeframes given in any order
        expectObservable(src.pipe(resampleCandles(['1h', '5m', '1m', '15m']))).toBe(expected, {
          ...values,
          A: bar('5m', 5 * MIN, [10, 10, 10, 10], 1, 1),
          B: bar('15m', 15 * MIN, [10, 10, 10, 10], 1, 1),
          C: bar('5m', 60 * MIN, [12, 12, 12, 12], 1, 1),
          D: bar('15m', 60 * MIN, [12, 12, 12, 12], 1, 1),
          E: bar('1h', 60 * MIN, [10, 12, 10, 12], 2, 2),
        });
      });
    });

    it('keeps buckets per symbol when symbols are interleaved', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const eth = (candle: Candle): Candle => ({ ...candle, symbol: 'ETH-USDT' });
        const values = {
          a,
          b,
          c,
          d,
          e,
          A: eth(flat(1, 1)),
          B: eth(flat(2, 2)),
          C: eth(flat(3, 3)),
          D: eth(flat(4, 4)),
          E: eth(flat(5, 5)),
        };
        const src = cold('aAbBcCdDeE|', values);
        const expected = '--------XY|';

        expectObservable(src.pipe(resampleCandles(['5m']))).toBe(expected, {
          X: F,
          Y: eth(bar('5m', 5 * MIN, [1, 5, 1, 5], 5, 5)),
        });
      });
    });

    it('ignores forming (closed:false) candles', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        // X is a snapshot of minute 3 with an extreme high: neither emitted nor merged nor a duplicate
        const values = { ...tenMinutes, X: m1(3, [12, 99, 8, 9], 3, 2, { closed: false }) };
        const src = cold('abXcde---|', values);
        const expected = 'ab-cd(eF)|';

        expectObservable(src.pipe(resampleCandles(['1m', '5m']))).toBe(expected, { ...tenMinutes, F });
      });
    });
  });

  describe('revisions', () => {
    const c1 = m1(3, [12, 14, 8, 9], 4, 3, { revision: 1 });
    const c2 = m1(3, [12, 14, 7, 9], 5, 4, { revision: 2 });

    it('a revised 1m candle revises the 5m it belongs to (revision 1, then 2)', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const values = { ...tenMinutes, R: c1, S: c2 };
        const src = cold('abcde---R---S---|', values);
        const expected = 'abcd(eF)(RX)(SY)|';

        expectObservable(src.pipe(resampleCandles(['1m', '5m']))).toBe(expected, {
          ...values,
          F,
          X: bar('5m', 5 * MIN, [10, 14, 8, 11], 9, 9, { revision: 1 }),
          Y: bar('5m', 5 * MIN, [10, 14, 7, 11], 10, 10, { revision: 2 }),
        });
      });
    });

    it('a revised 1m candle inside a forming bucket changes it before it is emitted (revision 0)', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const values = { ...tenMinutes, R: c1 };
        const src = cold('abcRde---|', values);
        const expected = 'abcRd(eX)|';

        expectObservable(src.pipe(resampleCandles(['1m', '5m']))).toBe(expected, {
          ...values,
          X: bar('5m', 5 * MIN, [10, 14, 8, 11], 9, 9),
        });
      });
    });

    it('revises the completed 5m and rebuilds the forming 15m', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const values = { ...tenMinutes, R: c1, q: flat(15, 30) };
        const src = cold('abcdeRq---|', values);
        const expected = '----FX(YZ)|';

        expectObservable(src.pipe(resampleCandles(['5m', '15m']))).toBe(expected, {
          F,
          X: bar('5m', 5 * MIN, [10, 14, 8, 11], 9, 9, { revision: 1 }),
          Y: bar('5m', 15 * MIN, [30, 30, 30, 30], 1, 1),
          Z: bar('15m', 15 * MIN, [10, 30, 8, 30], 10, 10),
        });
      });
    });

    it('passes on a revision too old to rebuild its bucket, deriving nothing from it', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const values = { ...tenMinutes, q: flat(15, 30), R: c1 };
        const src = cold('abcde---q---R---|', values);
        const expected = 'abcd(eF)(qX)R---|';

        expectObservable(src.pipe(resampleCandles(['1m', '5m']))).toBe(expected, {
          ...values,
          F,
          X: bar('5m', 15 * MIN, [30, 30, 30, 30], 1, 1),
        });
      });
    });
  });

  describe('invalid input', () => {
    it('errors on a candle older than the previous one', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('acbde|', tenMinutes);
        const subs = '    ^-!';
        const expected = 'ac#';

        expectObservable(src.pipe(resampleCandles(['1m', '5m']))).toBe(
          expected,
          tenMinutes,
          invalidData(/in time order/),
        );
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('errors on a duplicate candle', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const src = cold('abb|', tenMinutes);
        expectObservable(src.pipe(resampleCandles(['5m']))).toBe(
          '--#',
          undefined,
          invalidData(/without duplicates/),
        );
      });
    });

    it('errors on a candle not aligned to its timeframe', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const src = cold('ab|', { a, b: { ...b, closeTimeMs: 2 * MIN + 30_000 } });
        expectObservable(src.pipe(resampleCandles(['5m']))).toBe('-#', undefined, invalidData(/not aligned/));
      });
    });

    it('errors on a second input timeframe for one symbol', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const src = cold('ab|', { a, b: bar('5m', 5 * MIN, [1, 1, 1, 1], 1, 1) });
        expectObservable(src.pipe(resampleCandles(['15m']))).toBe(
          '-#',
          undefined,
          invalidData(/one input timeframe/),
        );
      });
    });

    it('errors when a requested timeframe cannot be derived from the input', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const src = cold('a|', { a: bar('5m', 5 * MIN, [1, 1, 1, 1], 1, 1) });
        expectObservable(src.pipe(resampleCandles(['1m', '15m']))).toBe(
          '#',
          undefined,
          expect.any(UsageError),
        );
      });
    });

    it('refuses an empty list of timeframes', () => {
      expect(() => resampleCandles([])).toThrow(UsageError);
    });
  });

  describe('fed by tradesToCandles in a VirtualClock replay', () => {
    const trade = (tsMs: number, price: number, size = 1): Trade => ({
      symbol: 'BTC-USDT',
      tradeId: String(tsMs),
      tsMs,
      price,
      size,
      side: 'buy',
    });

    it('builds 1m and 5m candles, quiet minutes included', async () => {
      const clock = new VirtualClock();
      const trades = [
        trade(1_000, 10),
        trade(30_000, 12),
        trade(61_000, 11),
        trade(200_000, 9),
        trade(301_000, 8),
      ];
      const out = await new Promise<Candle[]>((resolve, reject) =>
        replayInVirtualTime(trades, (t) => t.tsMs, clock)
          .pipe(tradesToCandles({}, clock), resampleCandles(['1m', '5m']), toArray())
          .subscribe({ next: resolve, error: reject }),
      );
      expect(out).toEqual([
        m1(1, [10, 12, 10, 12], 2, 2),
        m1(2, [11, 11, 11, 11], 1, 1),
        empty1m(3, 11),
        m1(4, [9, 9, 9, 9], 1, 1),
        empty1m(5, 9),
        bar('5m', 5 * MIN, [10, 12, 9, 9], 4, 4),
      ]);
    });

    it('builds a 1d candle from a day of trades, emitted when the clock closes the last minute', () => {
      const clock = new VirtualClock();
      const trades = [
        trade(1_000, 100),
        trade(3 * HOUR, 120, 2),
        trade(12 * HOUR, 80),
        trade(24 * HOUR - 1_000, 110),
        trade(24 * HOUR + 5_000, 90),
      ];
      const seen: string[] = [];
      const daily: Candle[] = [];
      let minutes = 0;
      replayInVirtualTime(trades, (t) => t.tsMs, clock)
        .pipe(tradesToCandles({}, clock), resampleCandles(['1m', '1d']))
        .subscribe((candle) => {
          if (candle.timeframe === '1m') minutes += 1;
          else {
            daily.push(candle);
            seen.push(`${candle.closeTimeMs}@${clock.now()}`);
          }
        });
      expect(minutes).toBe(1440);
      expect(daily).toEqual([bar('1d', 24 * HOUR, [100, 120, 80, 110], 5, 4)]);
      expect(seen).toEqual([`${24 * HOUR}@${24 * HOUR + 2_000}`]);
    });
  });

  describe('seed', () => {
    it('takes the seed candles into the buckets without emitting them: the first 5m candle is whole', () => {
      marbleScheduler().run(({ cold, expectObservable }) => {
        const seed = [flat(1, 10), m1(2, [10, 15, 9, 11]), flat(3, 12)];
        const values = { d: flat(4, 13), e: m1(5, [13, 14, 8, 13]), f: flat(6, 20) };
        const out = cold('d e---f |', values).pipe(resampleCandles(['1m', '5m'], { seed }));
        expectObservable(out).toBe('d (eE) f |', {
          ...values,
          E: bar('5m', 5 * MIN, [10, 15, 8, 13], 5, 5),
        });
      });
    });

    it('asks a seed function at each symbol’s first candle and takes only the seeds older than it', () => {
      marbleScheduler().run(({ cold, expectObservable, flush }) => {
        const asked: string[] = [];
        const seed = (symbol: string): Candle[] => {
          asked.push(symbol);
          return symbol === 'BTC-USDT' ? [flat(3, 7), flat(4, 8), flat(5, 99)] : [];
        };
        const eth = (minute: number) => flat(minute, 1, { symbol: 'ETH-USDT' });
        const values = { e: flat(5, 9), x: eth(4), y: eth(5) };
        const out = cold('e x y |', values).pipe(resampleCandles(['5m'], { seed }));
        // BTC 00:00–00:05 from the seeds 00:03, 00:04 and the input 00:05 (the seed 00:05 is not older);
        // ETH from its input alone.
        expectObservable(out).toBe('E - Y |', {
          E: bar('5m', 5 * MIN, [7, 9, 7, 9], 3, 3),
          Y: bar('5m', 5 * MIN, [1, 1, 1, 1], 2, 2, { symbol: 'ETH-USDT' }),
        });
        flush();
        expect(asked).toEqual(['BTC-USDT', 'ETH-USDT']);
      });
    });

    it('marks a higher candle with a constituent from OKX candles with that source', () => {
      marbleScheduler().run(({ cold, expectObservable }) => {
        const values = {
          a: flat(4, 1),
          b: flat(5, 2, { source: 'okx_candles', tradesCount: 0 }),
          c: flat(10, 3),
        };
        const out = cold('a b c |', values).pipe(resampleCandles(['5m']));
        expectObservable(out).toBe('- E F |', {
          E: bar('5m', 5 * MIN, [1, 2, 1, 2], 2, 1, { source: 'okx_candles' }),
          F: bar('5m', 10 * MIN, [3, 3, 3, 3], 1, 1),
        });
      });
    });
  });

  describe('resampleCandleArray (the same, over an array)', () => {
    const operatorOutput = (input: readonly Candle[], tfs: readonly Timeframe[]): Candle[] => {
      let out: Candle[] = [];
      let failure: unknown;
      replayInVirtualTime(input, (c) => c.closeTimeMs, new VirtualClock(0))
        .pipe(resampleCandles(tfs), toArray())
        .subscribe({ next: (v) => (out = v), error: (err: unknown) => (failure = err) });
      if (failure !== undefined) throw failure as Error;
      return out;
    };

    it('gives what the operator emits: gaps, pass-through, revisions, forming candles ignored', () => {
      const input = [
        ...Object.values(tenMinutes),
        { ...flat(11, 30), closed: false },
        flat(12, 31),
        { ...flat(12, 32), revision: 1 },
        flat(17, 33), // a gap: the 15m bucket closes first
        flat(20, 34),
      ];
      for (const tfs of [['1m'], ['5m'], ['1m', '5m', '15m'], ['5m', '1h']] as Timeframe[][]) {
        const array = resampleCandleArray(input, tfs);
        expect(array).toEqual(operatorOutput(input, tfs));
        expect(array.length).toBeGreaterThan(0);
      }
      // Pass-through keeps the input objects themselves.
      expect(resampleCandleArray([a, b], ['1m'])[1]).toBe(b);
    });

    it('throws what the operator reports: out of order, misaligned, a second timeframe', () => {
      expect(() => resampleCandleArray([b, a], ['1m', '5m'])).toThrow(InvalidDataError);
      expect(() => resampleCandleArray([b, a], ['1m', '5m'])).toThrow(
        /closing at .* arrived after .*: input must be in time order/,
      );
      expect(() => resampleCandleArray([{ ...a, closeTimeMs: MIN + 1 }], ['5m'])).toThrow(
        /is not aligned to 1m/,
      );
      expect(() => resampleCandleArray([a, bar('5m', 5 * MIN, [1, 1, 1, 1], 1, 1)], ['1h'])).toThrow(
        /one input timeframe per symbol/,
      );
      expect(() => resampleCandleArray([a], [])).toThrow(UsageError);
    });
  });
});
