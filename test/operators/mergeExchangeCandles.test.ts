import type { Candle } from '../../src/domain/candle.js';
import { mergeExchangeCandles } from '../../src/operators/mergeExchangeCandles.js';
import { marbleScheduler } from '../support/marbles.js';

// mergeExchangeCandles does not use time: one marble frame is one candle, closeTimeMs is its data time.

const MIN = 60_000;

function c(minute: number, price: number, extra: Partial<Candle> = {}): Candle {
  return {
    symbol: 'BTC',
    timeframe: '1m',
    closeTimeMs: minute * MIN,
    open: price,
    high: price,
    low: price,
    close: price,
    volume: 1,
    tradesCount: 1,
    closed: true,
    revision: 0,
    ...extra,
  };
}

const okx = (minute: number, price: number, extra: Partial<Candle> = {}): Candle =>
  c(minute, price, { source: 'okx_candles', tradesCount: 0, ...extra });
const quiet = (minute: number, price: number): Candle => c(minute, price, { volume: 0, tradesCount: 0 });

describe('mergeExchangeCandles', () => {
  it('passes new minutes, turns OKX candles for passed minutes into revisions, and drops ours for minutes OKX gave', () => {
    marbleScheduler().run(({ cold, expectObservable }) => {
      const values = {
        a: c(1, 10),
        b: quiet(2, 10), // closed by the clock while the trades waited
        X: okx(2, 12), // OKX's candle for it: a revision
        Y: okx(3, 13), // a new minute from OKX
        m: c(3, 99), // ours for minute 3 (only the trades we saw): dropped
        r: c(1, 11, { revision: 1 }), // a late-trade revision of a minute OKX did not give: passes
        d: c(4, 14),
      };
      const expected = { ...values, X: okx(2, 12, { revision: 1 }) };
      expectObservable(cold('a b X Y m r d |', values).pipe(mergeExchangeCandles())).toBe(
        'a b X Y - r d |',
        expected,
      );
    });
  });

  it('after a restart that got every trade, fills the quiet minutes between the stored end and the first candle', () => {
    marbleScheduler().run(({ cold, expectObservable, flush }) => {
      const values = { d: c(4, 14), e: c(5, 15), x: c(9, 1, { symbol: 'ETH' }) };
      const asked: string[] = [];
      const out = cold('d----e x |', values).pipe(
        mergeExchangeCandles({
          continues: (symbol) => {
            asked.push(symbol);
            return symbol === 'BTC' ? { closeTimeMs: 1 * MIN, close: 9 } : undefined;
          },
        }),
      );
      expectObservable(out).toBe('(pqd) e x |', { p: quiet(2, 9), q: quiet(3, 9), ...values });
      flush();
      expect(asked).toEqual(['BTC', 'ETH']);
    });
  });

  it('forwards errors and completion; ignores forming candles', () => {
    marbleScheduler().run(({ cold, expectObservable }) => {
      const values = { f: c(1, 1, { closed: false }), a: c(2, 2) };
      expectObservable(cold('f a #', values).pipe(mergeExchangeCandles())).toBe('- a #', values);
    });
  });
});
