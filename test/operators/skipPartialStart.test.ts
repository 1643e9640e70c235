import type { Candle } from '../../src/domain/candle.js';
import type { Timeframe } from '../../src/domain/timeframe.js';
import { skipPartialStart } from '../../src/operators/skipPartialStart.js';
import { marbleScheduler } from '../support/marbles.js';

// skipPartialStart does not use time: one marble frame is one candle, closeTimeMs is its data time.

const MIN = 60_000;

function c(symbol: string, timeframe: Timeframe, closeMinute: number, revision = 0): Candle {
  return {
    symbol,
    timeframe,
    closeTimeMs: closeMinute * MIN,
    open: 1,
    high: 1,
    low: 1,
    close: 1,
    volume: 1,
    tradesCount: 1,
    closed: true,
    revision,
  };
}

describe('skipPartialStart', () => {
  it('drops the first 1m candle of each symbol and the higher candles that began before the first whole minute', () => {
    marbleScheduler().run(({ cold, expectObservable }) => {
      const values = {
        a: c('BTC', '1m', 3), // the minute the stream started in: partial
        b: c('BTC', '1m', 4),
        f: c('BTC', '1m', 5),
        F: c('BTC', '5m', 5), // 00:00–00:05 began before 00:03: partial
        g: c('BTC', '1m', 10),
        G: c('BTC', '5m', 10), // 00:05–00:10: whole
        x: c('ETH', '1m', 7),
        y: c('ETH', '1m', 8),
        r: c('BTC', '1m', 3, 1), // a revision of the partial minute: still partial
      };
      const source = cold('a b x f F y r g G |', values);
      expectObservable(source.pipe(skipPartialStart())).toBe('- b - f - y - g G |', values);
    });
  });

  it('tells the caller about each candle it drops', () => {
    marbleScheduler().run(({ cold, expectObservable, flush }) => {
      const dropped: string[] = [];
      const values = { a: c('BTC', '1m', 3), b: c('BTC', '1m', 4), F: c('BTC', '5m', 5) };
      expectObservable(
        cold('a b F|', values).pipe(
          skipPartialStart((d) => dropped.push(`${d.timeframe}@${d.closeTimeMs / MIN}`)),
        ),
      ).toBe('- b -|', values);
      flush();
      expect(dropped).toEqual(['1m@3', '5m@5']);
    });
  });

  it('passes empty, never, errors and early unsubscription through', () => {
    marbleScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      expectObservable(cold<Candle>('|').pipe(skipPartialStart())).toBe('|');
      expectObservable(cold<Candle>('-').pipe(skipPartialStart())).toBe('-');
      const values = { a: c('BTC', '1m', 3), b: c('BTC', '1m', 4) };
      expectObservable(cold('a b #', values).pipe(skipPartialStart())).toBe('- b #', values);
      const long = cold('a b b b', values);
      expectObservable(long.pipe(skipPartialStart()), '^--!').toBe('-bb', values);
      expectSubscriptions(long.subscriptions).toBe('^--!');
    });
  });

  it('keeps separate state per subscription', () => {
    marbleScheduler().run(({ cold, expectObservable }) => {
      const values = { a: c('BTC', '1m', 3), b: c('BTC', '1m', 4) };
      const op = skipPartialStart();
      expectObservable(cold('a b|', values).pipe(op)).toBe('- b|', values);
      expectObservable(cold('a b|', values).pipe(op)).toBe('- b|', values);
    });
  });

  it('keeps what the caller knows is whole: a restart that continued the stored history keeps its first minute and the 5m candle spanning it', () => {
    marbleScheduler().run(({ cold, expectObservable, flush }) => {
      const values = {
        a: c('BTC', '1m', 8), // the first minute after a restart whose stored history ended at 00:07
        b: c('BTC', '1m', 9),
        d: c('BTC', '1m', 10),
        F: c('BTC', '5m', 10), // 00:05–00:10, seeded with the stored 00:06 and 00:07: whole
        H: c('BTC', '1h', 60), // 00:00–01:00: the stored minutes from 00:03 only: partial
        x: c('ETH', '1m', 8), // not resumed: the default rule
        y: c('ETH', '1m', 9),
      };
      const asked: string[] = [];
      const op = skipPartialStart({
        wholeFromMs: (symbol, first) => {
          asked.push(`${symbol}@${first.closeTimeMs / MIN}`);
          return symbol === 'BTC' ? 3 * MIN : undefined;
        },
      });
      expectObservable(cold('a x b y d F H |', values).pipe(op)).toBe('a - b y d F - |', values);
      flush();
      expect(asked).toEqual(['BTC@8', 'ETH@8']);
    });
  });
});
