import { take, type Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { invalidData, marbleScheduler } from '../support/marbles.js';
import type { Candle } from '../../src/domain/candle.js';
import { UsageError } from '../../src/domain/errors.js';
import type { Trade } from '../../src/domain/trade.js';
import { tradesToCandles, type LateTrade } from '../../src/operators/tradesToCandles.js';
import { VirtualClock } from '../../src/scheduling/virtualClock.js';
import { replayInVirtualTime } from '../../src/streams/replay.js';

// Virtual time starts at 0 = the epoch and one frame is one millisecond, so 1m intervals are
// [0, 60000), [60000, 120000)... Unless a test is about delay, a trade's tsMs equals the frame it is emitted at.
// Marble reminders (run mode): a value, '-', '(' and ')' each take one frame; 'NNNms ' advances NNN frames.

const MIN = 60_000;

interface TradeOpts {
  readonly id?: string;
  readonly size?: number;
  readonly symbol?: string;
}

function trade(tsMs: number, price: number, opts: TradeOpts = {}): Trade {
  return {
    symbol: opts.symbol ?? 'BTC-USDT',
    tradeId: opts.id ?? String(tsMs),
    tsMs,
    price,
    size: opts.size ?? 1,
    side: 'buy',
  };
}

type Ohlc = readonly [open: number, high: number, low: number, close: number];

function candle(
  closeTimeMs: number,
  ohlc: Ohlc,
  volume: number,
  tradesCount: number,
  extra: Partial<Candle> = {},
): Candle {
  const [open, high, low, close] = ohlc;
  return {
    symbol: 'BTC-USDT',
    timeframe: '1m',
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

/** A candle of an interval without trades: OHLC carry the previous close, volume 0. */
function emptyCandle(closeTimeMs: number, previousClose: number, extra: Partial<Candle> = {}): Candle {
  const p = previousClose;
  return candle(closeTimeMs, [p, p, p, p], 0, 0, extra);
}

let testScheduler: TestScheduler;

beforeEach(() => {
  testScheduler = marbleScheduler();
});

describe('tradesToCandles', () => {
  describe('the RxJS checklist', () => {
    it('never emits and never completes on a never source', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold<Trade>('-');
        const subs = '           ^';
        const expected = '       -';

        expectObservable(src.pipe(tradesToCandles({}, testScheduler))).toBe(expected);
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('completes without a candle on an empty source', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold<Trade>('|');
        const subs = '           (^!)';
        const expected = '       |';

        expectObservable(src.pipe(tradesToCandles({}, testScheduler))).toBe(expected);
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('one trade, then completion: the forming candle never closed, so nothing is emitted', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('a 999ms |', { a: trade(0, 10) });
        const subs = '    ^ 999ms !';
        const expected = '- 999ms |';

        expectObservable(src.pipe(tradesToCandles({}, testScheduler))).toBe(expected);
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('one trade in a quiet market: its candle comes out at close + 2 s (default grace)', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('1s a', { a: trade(1_000, 10) });
        const unsub = '   ^ 69999ms !';
        const subs = '    ^ 69999ms !';
        const expected = '62s x';

        expectObservable(src.pipe(tradesToCandles({}, testScheduler)), unsub).toBe(expected, {
          x: candle(MIN, [10, 10, 10, 10], 1, 1),
        });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('many trades over several minutes, closed by trades and by the clock, then completion', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // a@0 b@20s c@40s d@61s e@150s |@190s
        const src = cold('a 19999ms b 19999ms c 20999ms d 88999ms e 39999ms |', {
          a: trade(0, 10),
          b: trade(20_000, 12, { size: 2 }),
          c: trade(40_000, 9),
          d: trade(61_000, 11),
          e: trade(150_000, 13, { size: 0.5 }),
        });
        const subs = '    ^ 189999ms !';
        // x@61s (closed by d), y@122s (clock), z@182s (clock), |@190s
        const expected = '61000ms x 60999ms y 59999ms z 7999ms |';

        expectObservable(src.pipe(tradesToCandles({}, testScheduler))).toBe(expected, {
          x: candle(MIN, [10, 12, 9, 9], 4, 3),
          y: candle(2 * MIN, [11, 11, 11, 11], 1, 1),
          z: candle(3 * MIN, [13, 13, 13, 13], 0.5, 1),
        });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('forwards an error from the source and stops its timers', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const error = new Error('feed lost');
        const src = cold('a 69999ms #', { a: trade(0, 10) }, error);
        const subs = '    ^ 69999ms !';
        const expected = '62000ms x 7999ms #';

        expectObservable(src.pipe(tradesToCandles({}, testScheduler))).toBe(
          expected,
          { x: candle(MIN, [10, 10, 10, 10], 1, 1) },
          error,
        );
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('forwards an error that arrives before any candle closed', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('a 9ms #', { a: trade(0, 10) });
        const subs = '    ^ 9ms !';
        const expected = '- 9ms #';

        expectObservable(src.pipe(tradesToCandles({}, testScheduler))).toBe(expected);
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('a never-ending source keeps its candles coming until unsubscribed, then stops every timer', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // The operator reschedules its close timer forever while subscribed: the unsub marble ends the test.
        const src = cold('a 9999ms b', { a: trade(0, 10), b: trade(10_000, 11) });
        const unsub = '   ^ 199999ms !';
        const subs = '    ^ 199999ms !';
        const expected = '62000ms x 59999ms y 59999ms z';

        expectObservable(src.pipe(tradesToCandles({}, testScheduler)), unsub).toBe(expected, {
          x: candle(MIN, [10, 11, 10, 11], 2, 2),
          y: emptyCandle(2 * MIN, 11),
          z: emptyCandle(3 * MIN, 11),
        });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('stops at once when the consumer takes what it needs (take)', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('a 299999ms b', { a: trade(0, 10), b: trade(300_000, 20) });
        const subs = '    ^ 121999ms !';
        const expected = '62000ms x 59999ms (y|)';

        expectObservable(src.pipe(tradesToCandles({}, testScheduler), take(2))).toBe(expected, {
          x: candle(MIN, [10, 10, 10, 10], 1, 1),
          y: emptyCandle(2 * MIN, 10),
        });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('stops when the consumer unsubscribes early, before anything closed', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('a 9999ms b 9999ms c', {
          a: trade(0, 10),
          b: trade(10_000, 11),
          c: trade(20_000, 12),
        });
        const unsub = '   ^ 14999ms !';
        const subs = '    ^ 14999ms !';
        const expected = '-';

        expectObservable(src.pipe(tradesToCandles({}, testScheduler)), unsub).toBe(expected);
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('turns an onLateTrade callback that throws into an error notification', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const boom = new Error('late-trade counter broke');
        const src = cold('a 62999ms L 9999ms b', {
          a: trade(0, 10),
          L: trade(30_000, 9), // arrives at 63 s, after the 60 s candle went out at 62 s
          b: trade(73_000, 11),
        });
        const subs = '    ^ 62999ms !';
        const expected = '62000ms x 999ms #';

        const candles = src.pipe(
          tradesToCandles(
            {
              onLateTrade: () => {
                throw boom;
              },
            },
            testScheduler,
          ),
        );
        expectObservable(candles).toBe(expected, { x: candle(MIN, [10, 10, 10, 10], 1, 1) }, boom);
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('turns a throwing onLateTrade into an error with reviseLateTrades too, after the revision', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const boom = new Error('late-trade counter broke');
        const src = cold('a 62999ms L', { a: trade(0, 10), L: trade(30_000, 9) });
        const subs = '    ^ 62999ms !';
        const expected = '62000ms x 999ms (r#)';

        const candles = src.pipe(
          tradesToCandles(
            {
              reviseLateTrades: true,
              onLateTrade: () => {
                throw boom;
              },
            },
            testScheduler,
          ),
        );
        expectObservable(candles).toBe(
          expected,
          {
            x: candle(MIN, [10, 10, 10, 10], 1, 1),
            r: candle(MIN, [10, 10, 9, 9], 2, 2, { revision: 1 }),
          },
          boom,
        );
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });
  });

  describe('interval boundaries', () => {
    it('puts a trade at exactly the close time into the next candle, and one just before into this one', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // a@0, c@59.999s, b@60s
        const src = cold('a 59998ms c b', {
          a: trade(0, 10),
          c: trade(59_999, 11),
          b: trade(60_000, 20),
        });
        const unsub = '   ^ 129999ms !';
        const subs = '    ^ 129999ms !';
        const expected = '60000ms x 61999ms y';

        expectObservable(src.pipe(tradesToCandles({}, testScheduler)), unsub).toBe(expected, {
          x: candle(MIN, [10, 11, 10, 11], 2, 2),
          y: candle(2 * MIN, [20, 20, 20, 20], 1, 1),
        });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('aligns intervals to the epoch whatever the first trade time', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const src = cold('90s a', { a: trade(90_000, 10) });
        const unsub = '   ^ 129999ms !';
        const expected = '122s x';

        expectObservable(src.pipe(tradesToCandles({}, testScheduler)), unsub).toBe(expected, {
          x: candle(2 * MIN, [10, 10, 10, 10], 1, 1),
        });
      });
    });

    it('emits every empty minute skipped by a trade, carrying the previous close (closed by the trade)', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // A grace longer than the gap, so it is the trade at 185 s that closes 60 s, 120 s and 180 s.
        const src = cold('a 184999ms b 4999ms |', { a: trade(0, 10), b: trade(185_000, 12) });
        const subs = '    ^ 189999ms !';
        const expected = '185000ms (xyz) 4995ms |';

        expectObservable(src.pipe(tradesToCandles({ graceMs: 10 * MIN }, testScheduler))).toBe(expected, {
          x: candle(MIN, [10, 10, 10, 10], 1, 1),
          y: emptyCandle(2 * MIN, 10),
          z: emptyCandle(3 * MIN, 10),
        });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('supports another timeframe', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const src = cold('a 99999ms b', { a: trade(0, 10), b: trade(100_000, 12) });
        const unsub = '   ^ 399999ms !';
        const expected = '302s x';

        expectObservable(src.pipe(tradesToCandles({ timeframe: '5m' }, testScheduler)), unsub).toBe(
          expected,
          {
            x: candle(5 * MIN, [10, 12, 10, 12], 2, 2, { timeframe: '5m' }),
          },
        );
      });
    });
  });

  describe('out-of-order trades inside the forming candle', () => {
    it('takes open and close by trade time, ties broken by trade id (numeric order)', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        // arrival frame -> trade time: w@20s->20s, y@30s->5s (new open), z@40s->50s (new close),
        // v@45s->35s (new high, not close), u@50s->50s id 10 > 7 (new close), t@51s->5s id 2 < 3 (new open)
        const src = cold('20s w 9999ms y 9999ms z 4999ms v 4999ms u 999ms t', {
          w: trade(20_000, 11, { id: '5' }),
          y: trade(5_000, 9, { id: '3' }),
          z: trade(50_000, 13, { id: '7' }),
          v: trade(35_000, 14, { id: '6' }),
          u: trade(50_000, 12, { id: '10' }),
          t: trade(5_000, 8, { id: '2' }),
        });
        const unsub = '   ^ 69999ms !';
        const expected = '62000ms x';

        expectObservable(src.pipe(tradesToCandles({}, testScheduler)), unsub).toBe(expected, {
          x: candle(MIN, [8, 14, 8, 12], 6, 6),
        });
      });
    });

    it('keeps a delayed trade that arrives within the grace period in its own candle', () => {
      const late: LateTrade[] = [];
      testScheduler.run(({ cold, expectObservable }) => {
        // L is stamped 59.5 s but reaches us at 61.5 s, before the clock closes the 60 s candle at 62 s.
        const src = cold('a 61499ms L', { a: trade(0, 10), L: trade(59_500, 15) });
        const unsub = '   ^ 69999ms !';
        const expected = '62000ms x';

        const candles = src.pipe(tradesToCandles({ onLateTrade: (l) => late.push(l) }, testScheduler));
        expectObservable(candles, unsub).toBe(expected, { x: candle(MIN, [10, 15, 10, 15], 2, 2) });
      });
      expect(late).toEqual([]);
    });
  });

  describe('late trades', () => {
    it('never changes emitted history: a late trade is only reported to onLateTrade', () => {
      const late: LateTrade[] = [];
      const L = trade(30_000, 5);
      testScheduler.run(({ cold, expectObservable }) => {
        // L (stamped 30 s) arrives at 63 s, after the 60 s candle went out at 62 s
        const src = cold('a 62999ms L 999ms b', { a: trade(0, 10), L, b: trade(64_000, 11) });
        const unsub = '   ^ 129999ms !';
        const expected = '62000ms x 59999ms y';

        const candles = src.pipe(tradesToCandles({ onLateTrade: (l) => late.push(l) }, testScheduler));
        expectObservable(candles, unsub).toBe(expected, {
          x: candle(MIN, [10, 10, 10, 10], 1, 1),
          y: candle(2 * MIN, [11, 11, 11, 11], 1, 1),
        });
      });
      expect(late).toEqual([{ trade: L, candleCloseTimeMs: MIN, revised: false }]);
    });

    it('treats a trade older than the forming candle as late even when a trade (not the clock) closed it', () => {
      const late: LateTrade[] = [];
      const L = trade(59_000, 5);
      testScheduler.run(({ cold, expectObservable }) => {
        const src = cold('a 60999ms b 499ms L', { a: trade(0, 10), b: trade(61_000, 11), L });
        const unsub = '   ^ 69999ms !';
        const expected = '61000ms x';

        const candles = src.pipe(tradesToCandles({ onLateTrade: (l) => late.push(l) }, testScheduler));
        expectObservable(candles, unsub).toBe(expected, { x: candle(MIN, [10, 10, 10, 10], 1, 1) });
      });
      expect(late).toEqual([{ trade: L, candleCloseTimeMs: MIN, revised: false }]);
    });

    it('with reviseLateTrades, emits the candle again with revision 1, 2... and carries the revised close', () => {
      const late: LateTrade[] = [];
      const L = trade(50_000, 8); // later than b: the new close
      const M = trade(10_000, 15); // between a and b: a new high only
      testScheduler.run(({ cold, expectObservable }) => {
        const src = cold('a 29999ms b 32999ms L 999ms M', { a: trade(0, 10), b: trade(30_000, 12), L, M });
        const unsub = '   ^ 129999ms !';
        const expected = '62000ms x 999ms r 999ms s 57999ms y';

        const candles = src.pipe(
          tradesToCandles({ reviseLateTrades: true, onLateTrade: (l) => late.push(l) }, testScheduler),
        );
        expectObservable(candles, unsub).toBe(expected, {
          x: candle(MIN, [10, 12, 10, 12], 2, 2),
          r: candle(MIN, [10, 12, 8, 8], 3, 3, { revision: 1 }),
          s: candle(MIN, [10, 15, 8, 8], 4, 4, { revision: 2 }),
          // the next (empty) minute carries the revised close
          y: emptyCandle(2 * MIN, 8),
        });
      });
      expect(late).toEqual([
        { trade: L, candleCloseTimeMs: MIN, revised: true },
        { trade: M, candleCloseTimeMs: MIN, revised: true },
      ]);
    });

    it('with reviseLateTrades, a burst of late trades makes one revision per interval, before later candles', () => {
      const late: LateTrade[] = [];
      testScheduler.run(({ cold, expectObservable }) => {
        // At 123 s, a backfill delivers at once two late trades for the 60 s candle, one for the 120 s
        // candle and an on-time one for the forming 180 s interval.
        const src = cold('a 59999ms b 62999ms (LMNP)', {
          a: trade(0, 10),
          b: trade(60_000, 11),
          L: trade(10_000, 8),
          M: trade(20_000, 15),
          N: trade(70_000, 9),
          P: trade(130_000, 12),
        });
        const unsub = '   ^ 149999ms !';
        const expected = '60000ms x 61999ms y 999ms (rs)';

        const candles = src.pipe(
          tradesToCandles({ reviseLateTrades: true, onLateTrade: (l) => late.push(l) }, testScheduler),
        );
        expectObservable(candles, unsub).toBe(expected, {
          x: candle(MIN, [10, 10, 10, 10], 1, 1),
          y: candle(2 * MIN, [11, 11, 11, 11], 1, 1),
          r: candle(MIN, [10, 15, 8, 15], 3, 3, { revision: 1 }),
          s: candle(2 * MIN, [11, 11, 9, 9], 2, 2, { revision: 1 }),
        });
      });
      expect(late.map((l) => [l.candleCloseTimeMs, l.revised])).toEqual([
        [MIN, true],
        [MIN, true],
        [2 * MIN, true],
      ]);
    });

    it('with reviseLateTrades, revises an emitted empty candle into one with trades', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        // 120 s went out empty at 122 s; L (stamped 90 s) arrives at 123 s
        const src = cold('a 122999ms L', { a: trade(0, 10), L: trade(90_000, 7, { size: 3 }) });
        const unsub = '   ^ 189999ms !';
        const expected = '62000ms x 59999ms y 999ms r 58999ms z';

        expectObservable(src.pipe(tradesToCandles({ reviseLateTrades: true }, testScheduler)), unsub).toBe(
          expected,
          {
            x: candle(MIN, [10, 10, 10, 10], 1, 1),
            y: emptyCandle(2 * MIN, 10),
            r: candle(2 * MIN, [7, 7, 7, 7], 3, 1, { revision: 1 }),
            z: emptyCandle(3 * MIN, 7),
          },
        );
      });
    });

    it('reports a trade older than the symbol’s first interval as late, with nothing to revise', () => {
      const late: LateTrade[] = [];
      const early = trade(30_000, 5);
      testScheduler.run(({ cold, expectObservable }) => {
        // the symbol's first trade is stamped 90 s: its first candle is the 120 s one
        const src = cold('90s a 999ms E', { a: trade(90_000, 10), E: early });
        const unsub = '   ^ 129999ms !';
        const expected = '122s x';

        const candles = src.pipe(
          tradesToCandles({ reviseLateTrades: true, onLateTrade: (l) => late.push(l) }, testScheduler),
        );
        expectObservable(candles, unsub).toBe(expected, { x: candle(2 * MIN, [10, 10, 10, 10], 1, 1) });
      });
      expect(late).toEqual([{ trade: early, candleCloseTimeMs: MIN, revised: false }]);
    });

    it('only counts a late trade that falls outside revisionWindow', () => {
      const late: LateTrade[] = [];
      const old = trade(30_000, 5);
      const recent = trade(100_000, 14);
      testScheduler.run(({ cold, expectObservable }) => {
        const src = cold('a 89999ms b 32999ms L 999ms R', {
          a: trade(0, 10),
          b: trade(90_000, 11),
          L: old,
          R: recent,
        });
        const unsub = '   ^ 129999ms !';
        const expected = '62000ms x 59999ms y 1999ms r';

        const candles = src.pipe(
          tradesToCandles(
            { reviseLateTrades: true, revisionWindow: 1, onLateTrade: (l) => late.push(l) },
            testScheduler,
          ),
        );
        expectObservable(candles, unsub).toBe(expected, {
          x: candle(MIN, [10, 10, 10, 10], 1, 1),
          y: candle(2 * MIN, [11, 11, 11, 11], 1, 1),
          r: candle(2 * MIN, [11, 14, 11, 14], 2, 2, { revision: 1 }),
        });
      });
      expect(late).toEqual([
        { trade: old, candleCloseTimeMs: MIN, revised: false },
        { trade: recent, candleCloseTimeMs: 2 * MIN, revised: true },
      ]);
    });
  });

  describe('closing by the clock', () => {
    it('closes a quiet candle at close + graceMs, then one empty candle every minute', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('1s a', { a: trade(1_000, 10) });
        const unsub = '   ^ 199999ms !';
        const subs = '    ^ 199999ms !';
        const expected = '62000ms x 59999ms y 59999ms z';

        expectObservable(src.pipe(tradesToCandles({}, testScheduler)), unsub).toBe(expected, {
          x: candle(MIN, [10, 10, 10, 10], 1, 1),
          y: emptyCandle(2 * MIN, 10),
          z: emptyCandle(3 * MIN, 10),
        });
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('honours a custom graceMs', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const src = cold('1s a', { a: trade(1_000, 10) });
        const unsub = '   ^ 129999ms !';
        const expected = '60500ms x 59999ms y';

        expectObservable(src.pipe(tradesToCandles({ graceMs: 500 }, testScheduler)), unsub).toBe(expected, {
          x: candle(MIN, [10, 10, 10, 10], 1, 1),
          y: emptyCandle(2 * MIN, 10),
        });
      });
    });

    it('with graceMs 0 closes at the close time itself', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const src = cold('1s a', { a: trade(1_000, 10) });
        const unsub = '   ^ 129999ms !';
        const expected = '60000ms x 59999ms y';

        expectObservable(src.pipe(tradesToCandles({ graceMs: 0 }, testScheduler)), unsub).toBe(expected, {
          x: candle(MIN, [10, 10, 10, 10], 1, 1),
          y: emptyCandle(2 * MIN, 10),
        });
      });
    });

    it('a trade after the grace period is late, one just inside it is not', () => {
      const late: LateTrade[] = [];
      const tooLate = trade(59_999, 99);
      testScheduler.run(({ cold, expectObservable }) => {
        // i (stamped 59.999 s) arrives at 61.999 s: in time. T (stamped 59.999 s) arrives at 62.001 s: late.
        const src = cold('a 61998ms i 1ms T', {
          a: trade(0, 10, { id: '1' }),
          i: trade(59_999, 11, { id: '2' }),
          T: tooLate,
        });
        const unsub = '   ^ 69999ms !';
        const expected = '62000ms x';

        const candles = src.pipe(tradesToCandles({ onLateTrade: (l) => late.push(l) }, testScheduler));
        expectObservable(candles, unsub).toBe(expected, { x: candle(MIN, [10, 11, 10, 11], 2, 2) });
      });
      expect(late).toEqual([{ trade: tooLate, candleCloseTimeMs: MIN, revised: false }]);
    });

    it('closes candles on time in a VirtualClock replay as well', () => {
      const clock = new VirtualClock();
      const seen: string[] = [];
      const trades = [trade(1_000, 10), trade(30_000, 12), trade(200_000, 9)];
      replayInVirtualTime(trades, (t) => t.tsMs, clock)
        .pipe(tradesToCandles({}, clock))
        .subscribe((c) => seen.push(`${c.closeTimeMs}@${clock.now()} ${c.close} v${c.volume}`));
      // 60 s closes at 62 s, the quiet 120 s and 180 s at 122 s and 182 s; 240 s is still forming.
      expect(seen).toEqual(['60000@62000 12 v2', '120000@122000 12 v0', '180000@182000 12 v0']);
    });
  });

  describe('several symbols in one stream', () => {
    it('keeps candles, clocks and lateness per symbol', () => {
      const late: LateTrade[] = [];
      const eth = (tsMs: number, price: number): Trade => trade(tsMs, price, { symbol: 'ETH-USDT' });
      testScheduler.run(({ cold, expectObservable }) => {
        // BTC a@0 c@20s; ETH b@10s d@61s (closes ETH 60 s); BTC closes by the clock at 62 s;
        // ETH e stamped 59.5 s arrives at 61.5 s: late for ETH (a trade closed it), while BTC's 60 s is still open.
        // BTC f stamped 59.8 s arrives at 61.8 s: in time for BTC.
        const src = cold('a 9999ms b 9999ms c 40999ms d 499ms e 299ms f', {
          a: trade(0, 100),
          b: eth(10_000, 10),
          c: trade(20_000, 101),
          d: eth(61_000, 11),
          e: eth(59_500, 9),
          f: trade(59_800, 99),
        });
        const unsub = '   ^ 99999ms !';
        const expected = '61000ms E 999ms B';

        const candles = src.pipe(tradesToCandles({ onLateTrade: (l) => late.push(l) }, testScheduler));
        expectObservable(candles, unsub).toBe(expected, {
          E: candle(MIN, [10, 10, 10, 10], 1, 1, { symbol: 'ETH-USDT' }),
          B: candle(MIN, [100, 101, 99, 99], 3, 3),
        });
      });
      expect(late).toEqual([
        { trade: trade(59_500, 9, { symbol: 'ETH-USDT' }), candleCloseTimeMs: MIN, revised: false },
      ]);
    });

    it('starts a symbol that first trades later on its own interval and closes both by the clock', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const src = cold('a 69999ms b', { a: trade(0, 100), b: trade(70_000, 10, { symbol: 'ETH-USDT' }) });
        const unsub = '   ^ 129999ms !';
        const expected = '62000ms x 59999ms (yz)';

        expectObservable(src.pipe(tradesToCandles({}, testScheduler)), unsub).toBe(expected, {
          x: candle(MIN, [100, 100, 100, 100], 1, 1),
          y: emptyCandle(2 * MIN, 100),
          z: candle(2 * MIN, [10, 10, 10, 10], 1, 1, { symbol: 'ETH-USDT' }),
        });
      });
    });
  });

  describe('forming snapshots (formingEveryMs)', () => {
    it('emits the forming candle as closed:false at most every N ms while trades come in', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        // a@0 b@3s c@6s d@15s; snapshots at 0 s (a), 10 s (a..c), 20 s (a..d); no trades after, no snapshots
        const src = cold('a 2999ms b 2999ms c 8999ms d', {
          a: trade(0, 10),
          b: trade(3_000, 12),
          c: trade(6_000, 9),
          d: trade(15_000, 11),
        });
        const unsub = '   ^ 129999ms !';
        const expected = 'p 9999ms q 9999ms r 41999ms x 59999ms y';

        expectObservable(src.pipe(tradesToCandles({ formingEveryMs: 10_000 }, testScheduler)), unsub).toBe(
          expected,
          {
            p: candle(MIN, [10, 10, 10, 10], 1, 1, { closed: false }),
            q: candle(MIN, [10, 12, 9, 9], 3, 3, { closed: false }),
            r: candle(MIN, [10, 12, 9, 11], 4, 4, { closed: false }),
            x: candle(MIN, [10, 12, 9, 11], 4, 4),
            y: emptyCandle(2 * MIN, 11),
          },
        );
      });
    });

    it('snapshots the new forming candle after a trade closed the previous one', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        // a@55s -> snapshot at 55 s; b@61s closes 60 s at once, its snapshot waits until 65 s
        const src = cold('55s a 5999ms b', { a: trade(55_000, 10), b: trade(61_000, 12) });
        const unsub = '   ^ 99999ms !';
        const expected = '55s p 5999ms x 3999ms q';

        expectObservable(src.pipe(tradesToCandles({ formingEveryMs: 10_000 }, testScheduler)), unsub).toBe(
          expected,
          {
            p: candle(MIN, [10, 10, 10, 10], 1, 1, { closed: false }),
            x: candle(MIN, [10, 10, 10, 10], 1, 1),
            q: candle(2 * MIN, [12, 12, 12, 12], 1, 1, { closed: false }),
          },
        );
      });
    });

    it('emits no snapshot for a candle that closed before its snapshot was due', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        // a@50s snapshot at 50 s; b@59s wants one at 80 s, but 60 s closes at 62 s and nothing trades after
        const src = cold('50s a 8999ms b', { a: trade(50_000, 10), b: trade(59_000, 11) });
        const unsub = '   ^ 99999ms !';
        const expected = '50s p 11999ms x';

        expectObservable(src.pipe(tradesToCandles({ formingEveryMs: 30_000 }, testScheduler)), unsub).toBe(
          expected,
          {
            p: candle(MIN, [10, 10, 10, 10], 1, 1, { closed: false }),
            x: candle(MIN, [10, 11, 10, 11], 2, 2),
          },
        );
      });
    });
  });

  describe('invalid data', () => {
    const cases: readonly [string, Trade, RegExp][] = [
      ['a NaN price', trade(1_000, Number.NaN), /price NaN/],
      ['a zero price', trade(1_000, 0), /price 0/],
      ['an infinite price', trade(1_000, Number.POSITIVE_INFINITY), /price Infinity/],
      ['a negative size', trade(1_000, 10, { size: -1 }), /size -1/],
      ['a NaN size', trade(1_000, 10, { size: Number.NaN }), /size NaN/],
      ['a fractional timestamp', trade(1_000.5, 10), /timestamp 1000.5/],
      ['an empty symbol', trade(1_000, 10, { symbol: '' }), /symbol is empty/],
    ];

    it.each(cases)('errors the stream on %s', (_what, bad, message) => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const src = cold('a 999ms b 9999ms c', { a: trade(0, 10), b: bad, c: trade(11_000, 11) });
        const subs = '    ^ 999ms !';
        const expected = '1000ms #';

        expectObservable(src.pipe(tradesToCandles({}, testScheduler))).toBe(
          expected,
          undefined,
          invalidData(message),
        );
        expectSubscriptions(src.subscriptions).toBe(subs);
      });
    });

    it('rejects invalid options when the operator is built', () => {
      const build = (o: Parameters<typeof tradesToCandles>[0]): unknown => tradesToCandles(o, testScheduler);
      expect(() => build({ graceMs: -1 })).toThrow(UsageError);
      expect(() => build({ graceMs: Number.NaN })).toThrow(UsageError);
      expect(() => build({ revisionWindow: 0 })).toThrow(UsageError);
      expect(() => build({ revisionWindow: 1.5 })).toThrow(UsageError);
      expect(() => build({ formingEveryMs: -5 })).toThrow(UsageError);
      expect(build({ graceMs: 0, revisionWindow: 1, formingEveryMs: 0 })).toEqual(expect.any(Function));
    });
  });

  it('sums sizes to the exact decimal volume, without float drift (0.1 + 0.2 is 0.3, not 0.30000000000000004)', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const src = cold('a b c 60s d', {
        a: trade(0, 10, { size: 0.1 }),
        b: trade(1, 10, { size: 0.2 }),
        c: trade(2, 10, { size: 0.000012345678 }),
        d: trade(60_003, 11, { size: 1e-12 }),
      });
      const unsub = '   ^ 69999ms !';
      const expected = '60003ms x';

      expectObservable(src.pipe(tradesToCandles({}, testScheduler)), unsub).toBe(expected, {
        x: candle(MIN, [10, 10, 10, 10], 0.300012345678, 3),
      });
    });
  });

  it('gives each subscription its own state', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const src = cold('a 9999ms b', { a: trade(0, 10), b: trade(10_000, 11) });
      const candles: Observable<Candle> = src.pipe(tradesToCandles({}, testScheduler));
      const unsub = '   ^ 69999ms !';
      const expected = '62000ms x';
      const values = { x: candle(MIN, [10, 11, 10, 11], 2, 2) };

      expectObservable(candles, unsub).toBe(expected, values);
      expectObservable(candles, unsub).toBe(expected, values);
    });
  });
});
