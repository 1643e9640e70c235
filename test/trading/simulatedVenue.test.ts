import type { Candle } from '../../src/domain/candle.js';
import type { Trade } from '../../src/domain/trade.js';
import { parseVenueModel } from '../../src/domain/trading/config.js';
import { PortfolioBook } from '../../src/domain/trading/portfolioBook.js';
import { SimulatedVenue } from '../../src/domain/trading/simulatedVenue.js';
import type { ExitPlan, Order, RoundTrip, VenueEvent } from '../../src/domain/trading/types.js';
import { bar, fill, flat, order } from './support.js';

const venue = parseVenueModel({});
const slTp: ExitPlan = { stopLoss: 0.02, takeProfits: [{ distance: 0.03, fraction: 1 }] };

/** Runs a sequence through the venue (on a book of its own), returning what it emitted. */
function run(
  events: readonly (Candle | Trade | Order)[],
  model = venue,
): { out: VenueEvent[]; trips: RoundTrip[]; v: SimulatedVenue; book: PortfolioBook } {
  const out: VenueEvent[] = [];
  const trips: RoundTrip[] = [];
  const book = new PortfolioBook(1_000_000);
  const v = new SimulatedVenue(model, book, (e, trip) => {
    out.push(e);
    if (trip !== undefined) trips.push(trip);
  });
  for (const e of events) {
    if ('kind' in e) v.submit(e);
    else if ('tradeId' in e) v.onTrade(e);
    else v.onCandle(e);
  }
  return { out, trips, v, book };
}

describe('SimulatedVenue', () => {
  describe('basics', () => {
    it('fills a market order at the next candle open, stamped with its open time, and books it', () => {
      const { out, book } = run([flat(1, 100), order(1, 1), bar(2, 101, 103, 99, 102)]);
      expect(out).toEqual([fill(1, 1, 'buy', 1, 101, 'entry')]);
      expect(book.qtyOf('BTC-USDT')).toBe(1);
      expect(book.cash).toBeCloseTo(1_000_000 - 101 - 0.101, 9);
    });

    it('no fill when there is no next candle', () => {
      const { out, v } = run([flat(1, 100), order(1, 1)]);
      expect(out).toEqual([]);
      expect(v.pendingOrders).toHaveLength(1);
    });

    it('never fills on a candle that opened before the decision', () => {
      const { out } = run([order(1, 5), bar(5, 100, 100, 100, 100), bar(6, 101, 101, 101, 101)]);
      expect(out).toEqual([fill(1, 5, 'buy', 1, 101, 'entry')]);
    });

    it('refuses an impossible order', () => {
      expect(() => run([order(1, 1, { qty: Number.NaN })])).toThrow(
        expect.objectContaining({ name: 'InvalidDataError' }),
      );
      expect(() => run([order(1, 1, { type: 'limit' })])).toThrow(/has no valid price/);
    });

    it("a position it holds is the book's: an exit reads the quantity there", () => {
      const book = new PortfolioBook(1_000);
      book.applyFill(fill(9, 0, 'buy', 3, 100, 'entry'));
      const out: VenueEvent[] = [];
      const v = new SimulatedVenue(venue, book, (e) => out.push(e));
      v.submit(order(1, 1, { side: 'sell', purpose: 'exit', qty: 5 }));
      v.onCandle(flat(2, 110));
      expect(out).toEqual([fill(1, 1, 'sell', 3, 110, 'exit')]);
      expect(book.openCount).toBe(0);
    });
  });

  describe('orders', () => {
    it('limit buy: at the limit when the low reaches it (maker fee), at the open on a gap below', () => {
      const m = parseVenueModel({ maker_fee_rate: 0.0002, taker_fee_rate: 0.0005 });
      const { out } = run(
        [
          order(1, 1, { type: 'limit', limitPrice: 99 }),
          bar(2, 100, 101, 99.5, 100), // not reached
          bar(3, 100, 101, 98, 100), // reached
          order(2, 3, { type: 'limit', limitPrice: 99 }),
          bar(4, 97, 98, 96, 97), // gap below: the open
        ],
        m,
      );
      expect(out).toEqual([
        fill(1, 2, 'buy', 1, 99, 'entry', { liquidity: 'maker', rate: 0.0002 }),
        fill(2, 3, 'buy', 1, 97, 'entry', { liquidity: 'maker', rate: 0.0002 }),
      ]);
    });

    it('stop buy: at the stop inside the range, at the open on a gap through it (the worse price)', () => {
      const { out } = run([
        order(1, 1, { type: 'stop', stopPrice: 102 }),
        bar(2, 100, 103, 99, 101),
        order(2, 2, { type: 'stop', stopPrice: 102 }),
        bar(3, 104, 105, 103, 104),
      ]);
      expect(out).toEqual([fill(1, 1, 'buy', 1, 102, 'entry'), fill(2, 2, 'buy', 1, 104, 'entry')]);
    });

    it('limit and stop orders expire', () => {
      const { out } = run([
        order(1, 1, { type: 'limit', limitPrice: 90, expiresAtMs: 2 * 60_000 }),
        flat(2, 100),
        flat(3, 100),
      ]);
      expect(out).toEqual([
        { kind: 'cancelled', orderId: 1, symbol: 'BTC-USDT', timeMs: 2 * 60_000, reason: 'expired' },
      ]);
    });

    it('an exit with no position is cancelled; an exit larger than the position is capped', () => {
      const { out } = run([
        order(1, 1, { side: 'sell', purpose: 'exit' }),
        order(2, 1, { qty: 2 }),
        flat(2, 100),
        order(3, 2, { side: 'sell', purpose: 'exit', qty: 5 }),
        flat(3, 110),
      ]);
      expect(out).toEqual([
        { kind: 'cancelled', orderId: 1, symbol: 'BTC-USDT', timeMs: 60_000, reason: 'no_position' },
        fill(2, 1, 'buy', 2, 100, 'entry'),
        fill(3, 2, 'sell', 2, 110, 'exit'),
      ]);
    });

    it('cuts an entry down to its maxCost (fee included), rounded to the step, or cancels it', () => {
      const { out } = run([
        order(1, 1, { qty: 10, maxCost: 505, qtyStep: 0.1 }),
        order(2, 1, { qty: 10, maxCost: 5, qtyStep: 0.1, symbol: 'ETH-USDT', minQty: 0.1 }),
        flat(2, 100),
        flat(2, 100, 'ETH-USDT'),
      ]);
      expect(out).toEqual([
        fill(1, 1, 'buy', 5, 100, 'entry'), // 505 / 100.1 = 5.04 → 5.0
        { kind: 'cancelled', orderId: 2, symbol: 'ETH-USDT', timeMs: 60_000, reason: 'insufficient_cash' },
      ]);
    });

    it('fixed slippage worsens taker fills; random slippage is seeded and reproducible', () => {
      const fixed = parseVenueModel({ slippage: { type: 'fixed', bps: 10 } });
      const { out } = run(
        [order(1, 1), flat(2, 100), order(2, 2, { side: 'sell', purpose: 'exit' }), flat(3, 100)],
        fixed,
      );
      expect(out).toEqual([
        fill(1, 1, 'buy', 1, 100 * 1.001, 'entry'),
        fill(2, 2, 'sell', 1, 100 * (1 - 0.001), 'exit'),
      ]);

      const random = parseVenueModel({ slippage: { type: 'random', max_bps: 20, seed: 7 } });
      const seq = [order(1, 1), flat(2, 100), order(2, 2, { side: 'sell', purpose: 'exit' }), flat(3, 100)];
      const a = run(seq, random).out as { price: number }[];
      const b = run(seq, random).out as { price: number }[];
      expect(a).toEqual(b);
      expect(a[0]?.price).toBeGreaterThanOrEqual(100);
      expect(a[0]?.price).toBeLessThanOrEqual(100.2);
      expect(a[1]?.price).toBeLessThanOrEqual(100);
      expect(a[1]?.price).toBeGreaterThanOrEqual(99.8);
    });

    it('on trades: the next trade price, stamped with its time', () => {
      const trade = {
        symbol: 'BTC-USDT',
        tradeId: '7',
        tsMs: 61_234,
        price: 100.5,
        size: 1,
        side: 'buy' as const,
      };
      const { out } = run([order(1, 1), trade]);
      expect(out).toEqual([{ ...fill(1, 0, 'buy', 1, 100.5, 'entry'), timeMs: 61_234 }]);
    });
  });

  describe('exit plans', () => {
    it('stop-loss inside a candle fills at the stop; the entry candle itself is watched after the open', () => {
      const { out } = run([order(1, 1, { exitPlan: slTp }), bar(2, 100, 100.5, 97, 99)]);
      expect(out).toEqual([fill(1, 1, 'buy', 1, 100, 'entry'), fill(1, 1, 'sell', 1, 98, 'stop_loss')]);
    });

    it('a gap through the stop fills at the open, the worse price', () => {
      const { out } = run([
        order(1, 1, { exitPlan: slTp }),
        bar(2, 100, 101, 99, 100),
        bar(3, 96, 97, 95, 96),
      ]);
      expect(out).toEqual([fill(1, 1, 'buy', 1, 100, 'entry'), fill(1, 2, 'sell', 1, 96, 'stop_loss')]);
    });

    it('stop-loss and take-profit in one candle: the stop-loss first, flagged and counted', () => {
      const { out, v } = run([
        order(1, 1, { exitPlan: slTp }),
        bar(2, 100, 101, 99, 100),
        bar(3, 100, 104, 97, 100),
      ]);
      expect(out).toEqual([
        fill(1, 1, 'buy', 1, 100, 'entry'),
        fill(1, 2, 'sell', 1, 98, 'stop_loss', { slTpSameCandle: true }),
      ]);
      expect(v.slTpSameCandle).toBe(1);
    });

    it('take-profit gapped through fills at the open (the better price, maker fee)', () => {
      const { out } = run([
        order(1, 1, { exitPlan: slTp }),
        bar(2, 100, 101, 99, 100),
        bar(3, 105, 106, 104, 105),
      ]);
      expect(out).toEqual([fill(1, 1, 'buy', 1, 100, 'entry'), fill(1, 2, 'sell', 1, 105, 'take_profit')]);
    });

    it('partial take-profits: 30 % at +1.5 %, the rest at +3 %, then nothing is watched', () => {
      const plan: ExitPlan = {
        stopLoss: 0.05,
        takeProfits: [
          { distance: 0.015, fraction: 0.3 },
          { distance: 0.03, fraction: 0.7 },
        ],
      };
      const { out, v } = run([
        order(1, 1, { qty: 10, qtyStep: 0.1, exitPlan: plan }),
        bar(2, 100, 102, 99.9, 101),
        bar(3, 102, 103.5, 101, 103),
        bar(4, 90, 90, 80, 85),
      ]);
      expect(out).toEqual([
        fill(1, 1, 'buy', 10, 100, 'entry'),
        fill(1, 1, 'sell', 3, 100 * 1.015, 'take_profit'), // 101.49999999999999: the float of 100 × 1.015
        fill(1, 2, 'sell', 7, 103, 'take_profit'),
      ]);
      expect(v.pendingOrders).toEqual([]);
    });

    it('take-profit levels adding up to less than 100 % leave the rest to the stop', () => {
      const plan: ExitPlan = { stopLoss: 0.02, takeProfits: [{ distance: 0.01, fraction: 0.5 }] };
      const { out } = run([
        order(1, 1, { qty: 2, exitPlan: plan }),
        bar(2, 100, 101.5, 99.5, 101),
        bar(3, 99, 99, 97, 97),
      ]);
      expect(out).toEqual([
        fill(1, 1, 'buy', 2, 100, 'entry'),
        fill(1, 1, 'sell', 1, 101, 'take_profit'),
        fill(1, 2, 'sell', 1, 98, 'stop_loss'),
      ]);
    });

    it('trailing stop: activates at +1 %, follows the high 2 % behind from the next candle, fills there', () => {
      const plan: ExitPlan = { takeProfits: [], trailing: { activation: 0.01, offset: 0.02 } };
      const { out } = run([
        order(1, 1, { exitPlan: plan }),
        bar(2, 100, 100.5, 99, 100), // best 100.5: not active (101)
        bar(3, 100.5, 105, 100.2, 104), // active: trail 105 × 0.98 = 102.9 from the next candle
        bar(4, 104, 104.5, 102, 103), // 102 ≤ 102.9
      ]);
      expect(out).toEqual([
        fill(1, 1, 'buy', 1, 100, 'entry'),
        fill(1, 3, 'sell', 1, 105 * 0.98, 'trailing_stop'),
      ]);
    });

    it('a trailing stop below the fixed stop-loss is a stop-loss', () => {
      const plan: ExitPlan = { stopLoss: 0.01, takeProfits: [], trailing: { activation: 0, offset: 0.05 } };
      const { out } = run([
        order(1, 1, { exitPlan: plan }),
        bar(2, 100, 101, 99.5, 100),
        bar(3, 100, 100, 98, 98),
      ]);
      expect(out).toEqual([fill(1, 1, 'buy', 1, 100, 'entry'), fill(1, 2, 'sell', 1, 99, 'stop_loss')]);
    });

    it('a limit entry filled inside a candle is watched from the next candle on', () => {
      const { out } = run([
        order(1, 1, { type: 'limit', limitPrice: 99, exitPlan: slTp }),
        bar(2, 100, 100, 95, 96), // fills at 99; the low of 95 may have come before the fill
        bar(3, 96, 97, 96, 97), // 96 ≤ 97.02: a gap through the stop
      ]);
      expect(out).toEqual([
        fill(1, 1, 'buy', 1, 99, 'entry', { liquidity: 'maker' }),
        fill(1, 2, 'sell', 1, 96, 'stop_loss'),
      ]);
    });

    it('a market exit at the open comes before the exit plan', () => {
      const { out } = run([
        order(1, 1, { exitPlan: slTp }),
        bar(2, 100, 101, 99, 100),
        order(2, 2, { side: 'sell', purpose: 'exit' }),
        bar(3, 99, 99, 90, 90),
      ]);
      expect(out).toEqual([fill(1, 1, 'buy', 1, 100, 'entry'), fill(2, 2, 'sell', 1, 99, 'exit')]);
    });
  });
});
