import { PortfolioBook } from '../../src/domain/trading/portfolioBook.js';
import type { Fill, PortfolioSnapshot, Position, RoundTrip } from '../../src/domain/trading/types.js';
import { fill, MIN } from './support.js';

function snap(minute: number, price: number, s: Partial<PortfolioSnapshot>): PortfolioSnapshot {
  return {
    kind: 'snapshot',
    timeMs: minute * MIN,
    symbol: 'BTC-USDT',
    price,
    cash: 10_000,
    equity: 10_000,
    positionsValue: 0,
    realizedPnl: 0,
    unrealizedPnl: 0,
    feesPaid: 0,
    closedTrades: 0,
    winningTrades: 0,
    positions: [],
    ...s,
  };
}

const long2: Position = {
  symbol: 'BTC-USDT',
  side: 'long',
  qty: 2,
  avgEntryPrice: 100,
  entryTimeMs: MIN,
  entryFees: 0.2,
};

describe('PortfolioBook', () => {
  it('fees on both fills, one round trip per partial exit with its share of the entry fee, trade counts', () => {
    const b = new PortfolioBook(10_000);
    const out: (PortfolioSnapshot | RoundTrip)[] = [];
    const mark = (minute: number, price: number): void => {
      b.mark('BTC-USDT', price, minute * MIN);
      out.push(b.snapshot(minute * MIN, 'BTC-USDT', price));
    };
    const apply = (f: Fill): void => {
      const t = b.applyFill(f);
      if (t !== undefined) out.push(t);
    };
    mark(1, 100);
    apply(fill(1, 1, 'buy', 2, 100, 'entry')); // cost 200 + fee 0.2
    mark(2, 105);
    apply(fill(1, 2, 'sell', 1, 110, 'take_profit')); // + 110 − 0.11
    mark(3, 108);
    apply(fill(1, 3, 'sell', 1, 90, 'stop_loss')); // + 90 − 0.09
    mark(4, 95);
    const trip = (
      exitMinute: number,
      exitPrice: number,
      pnl: number,
      fees: number,
      purpose: RoundTrip['exitPurpose'],
    ) => ({
      kind: 'round_trip',
      symbol: 'BTC-USDT',
      side: 'long',
      entryTimeMs: MIN,
      exitTimeMs: exitMinute * MIN,
      entryPrice: 100,
      exitPrice,
      qty: 1,
      pnl,
      fees,
      returnPct: pnl / 100,
      exitPurpose: purpose,
    });
    const cash1 = 10_000 - 200 - 0.2;
    const cash2 = cash1 + 110 - 0.11;
    const cash3 = cash2 + 90 - 0.09;
    expect(out).toEqual([
      snap(1, 100, {}),
      snap(2, 105, {
        cash: cash1,
        equity: cash1 + 210,
        positionsValue: 210,
        unrealizedPnl: 10,
        feesPaid: 0.2,
        positions: [long2],
      }),
      // +10 gross − (0.1 of the entry fee + 0.11) = 9.79
      trip(2, 110, 10 - 0.1 - 0.11, 0.1 + 0.11, 'take_profit'),
      snap(3, 108, {
        cash: cash2,
        equity: cash2 + 108,
        positionsValue: 108,
        realizedPnl: 10,
        unrealizedPnl: 8,
        feesPaid: 0.2 + 0.11,
        closedTrades: 1,
        winningTrades: 1,
        positions: [{ ...long2, qty: 1, entryFees: 0.1 }],
      }),
      trip(3, 90, -10 - 0.1 - 0.09, 0.1 + 0.09, 'stop_loss'),
      snap(4, 95, {
        cash: cash3,
        equity: cash3,
        realizedPnl: 0,
        feesPaid: 0.2 + 0.11 + 0.09,
        closedTrades: 2,
        winningTrades: 1,
      }),
    ]);
  });

  it('flat again: Σ round-trip pnl = equity change; equity = cash + qty × price throughout', () => {
    const b = new PortfolioBook(1000);
    const trips: RoundTrip[] = [];
    const steps: [string, number][] = [];
    const apply = (f: ReturnType<typeof fill>) => {
      const t = b.applyFill(f);
      if (t) trips.push(t);
    };
    apply(fill(1, 1, 'buy', 3, 10, 'entry'));
    b.mark('BTC-USDT', 12, 2 * MIN);
    steps.push(['marked', b.equity]);
    expect(b.equity).toBeCloseTo(b.cash + 3 * 12, 10);
    expect(b.equity).toBeCloseTo(1000 + b.realizedPnl + b.unrealizedPnl - b.feesPaid, 10);
    apply(fill(1, 2, 'buy', 1, 14, 'entry')); // adds: avg (30 + 14) / 4 = 11
    expect(b.position('BTC-USDT')).toMatchObject({ qty: 4, avgEntryPrice: 11 });
    apply(fill(2, 3, 'sell', 4, 13, 'exit'));
    expect(b.openCount).toBe(0);
    expect(trips).toHaveLength(1);
    expect(trips[0]).toMatchObject({ qty: 4, entryPrice: 11, exitPrice: 13 });
    expect(trips[0]?.pnl).toBeCloseTo(b.equity - 1000, 10);
    expect(b.equity).toBeCloseTo(1000 + 8 - (0.03 + 0.014 + 0.052), 10);
  });

  it('keeps shorts open too: a sell from flat opens a short, a larger buy flips it', () => {
    const b = new PortfolioBook(1000);
    b.applyFill(fill(1, 1, 'sell', 2, 100, 'entry', { rate: 0 }));
    expect(b.position('BTC-USDT')).toMatchObject({ side: 'short', qty: 2, avgEntryPrice: 100 });
    b.mark('BTC-USDT', 90, 2 * MIN);
    expect(b.unrealizedPnl).toBe(20);
    expect(b.equity).toBe(1020);
    const t = b.applyFill(fill(2, 2, 'buy', 3, 90, 'exit', { rate: 0 }));
    expect(t).toMatchObject({ side: 'short', qty: 2, pnl: 20 });
    expect(b.position('BTC-USDT')).toMatchObject({ side: 'long', qty: 1, avgEntryPrice: 90 });
  });

  it('refuses an impossible fill', () => {
    const bad = { ...fill(1, 1, 'buy', 1, 100, 'entry'), price: Number.NaN };
    expect(() => new PortfolioBook(10_000).applyFill(bad)).toThrow(
      expect.objectContaining({
        name: 'InvalidDataError',
        message: expect.stringMatching(/impossible fill/),
      }),
    );
  });

  it('a fill earlier than the last mark does not move the mark', () => {
    const b = new PortfolioBook(1000);
    b.mark('BTC-USDT', 105, 2 * MIN);
    b.applyFill(fill(1, 1, 'buy', 1, 100, 'entry', { rate: 0 }));
    expect(b.equity).toBe(1005);
  });
});
