import {
  ENGINE_STATE_VERSION,
  parseRiskConfig,
  parseVenueModel,
  TradingEngine,
  type EngineState,
  type Fill,
} from '../../src/domain/trading/index.js';
import { bar, flat, MIN, signal } from './support.js';

// The round trip on real data is test/trading/resume.test.ts; here: the format and its checks.

const risk = parseRiskConfig({
  sizing: { type: 'fixed', quantity: 1 },
  stop_loss_percentage: 2,
  take_profit: [
    { percentage: 1, position_percentage: 50 },
    { percentage: 3, position_percentage: 50 },
  ],
  trailing_stop: { activation_percentage: 0.5, offset_percentage: 1 },
});
const venue = parseVenueModel({ slippage: { type: 'random', max_bps: 10, seed: 5 } });

/** An engine in a long position (bracket set, first take-profit done) with a buy of ETH pending. */
function busy(): { engine: TradingEngine; fills: Fill[] } {
  const fills: Fill[] = [];
  const engine = new TradingEngine({
    risk: parseRiskConfig({ ...risk, max_open_positions: 2 }),
    venue,
    initialCash: 10_000,
    listener: { fill: (f) => fills.push(f) },
  });
  engine.onCandle(flat(1, 100));
  engine.onSignal(signal(1, 'buy', 100));
  engine.onCandle(bar(2, 100, 101.5, 99.5, 101)); // entry at 100 (+ slippage), first take-profit inside
  engine.onSignal(signal(2, 'buy', 2000, { symbol: 'ETH-USDT' }));
  return { engine, fills };
}

describe('TradingEngine.snapshot / restore', () => {
  it('is plain JSON, versioned, and holds what the engine holds', () => {
    const { engine, fills } = busy();
    const s = engine.snapshot();
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    expect(s.v).toBe(ENGINE_STATE_VERSION);
    expect(fills.map((f) => f.purpose)).toEqual(['entry', 'take_profit']);
    expect(s).toMatchObject({
      pricedToMs: 2 * MIN,
      decidedToMs: 2 * MIN,
      book: {
        initialCash: 10_000,
        cash: engine.book.cash,
        closedTrades: 1,
        open: ['BTC-USDT'],
        holdings: [{ symbol: 'BTC-USDT', qty: 0.5, lastPrice: 101, lastPriceTimeMs: 2 * MIN }],
      },
      risk: { nextOrderId: 3, pendingEntries: [{ symbol: 'ETH-USDT', orderId: 2 }], pendingExits: [] },
      venue: {
        pendingOrders: [{ id: 2, symbol: 'ETH-USDT', type: 'market', purpose: 'entry' }],
        brackets: [
          {
            symbol: 'BTC-USDT',
            entryOrderId: 1,
            side: 'long',
            takeProfitsDone: 1,
            takeProfits: [{ qty: 0.5 }, { qty: null }],
            trailing: true,
          },
        ],
        slippageRng: { seed: 5 },
      },
    });
    const entry = fills[0] as Fill;
    expect(s.venue.brackets[0]?.stopLossPrice).toBeCloseTo(entry.price * 0.98, 9);
    expect(s.venue.brackets[0]?.bestPrice).toBe(101.5);
  });

  it('a fresh engine has nothing to say yet (no NaN or ∞ in the JSON)', () => {
    const s = new TradingEngine({ risk, venue, initialCash: 500 }).snapshot();
    expect(s).toEqual({
      v: 1,
      pricedToMs: null,
      decidedToMs: null,
      book: {
        initialCash: 500,
        cash: 500,
        realizedPnl: 0,
        feesPaid: 0,
        closedTrades: 0,
        winningTrades: 0,
        holdings: [],
        open: [],
      },
      risk: { nextOrderId: 1, pendingEntries: [], pendingExits: [], reserved: 0 },
      venue: { pendingOrders: [], brackets: [], slTpSameCandle: 0, slippageRng: { seed: 5, state: 5 } },
    });
  });

  it('the slippage generator goes on where it was; a new seed in the config starts a new one', () => {
    const prices = (engine: TradingEngine): number[] => {
      const out: number[] = [];
      const detach = engine.attach({ fill: (f) => out.push(f.price) });
      engine.onCandle(flat(3, 2000, 'ETH-USDT')); // the ETH entry at its open, with slippage
      engine.onCandle(bar(3, 101, 101.2, 100.8, 101));
      engine.onCandle(bar(4, 101, 101.2, 96, 97)); // the trailing stop (101.5 − 1 %), with slippage
      detach();
      return out;
    };
    const { engine } = busy();
    const saved = JSON.parse(JSON.stringify(engine.snapshot())) as unknown;
    const uninterrupted = prices(engine);
    expect(uninterrupted).toHaveLength(2);
    expect(prices(TradingEngine.restore(saved, { risk, venue }))).toEqual(uninterrupted);
    const reseeded = parseVenueModel({ slippage: { type: 'random', max_bps: 10, seed: 6 } });
    const other = TradingEngine.restore(saved, { risk, venue: reseeded });
    expect(other.snapshot().venue.slippageRng).toEqual({ seed: 6, state: 6 });
    expect(prices(other)).not.toEqual(uninterrupted);
  });

  it('refuses a snapshot after closeAll (the run is over)', () => {
    const { engine } = busy();
    engine.closeAll(3 * MIN);
    expect(() => engine.snapshot()).toThrow(/ended by closeAll/);
  });

  describe('a bad snapshot is refused, naming the key', () => {
    const good = (): EngineState => busy().engine.snapshot();
    const restore = (s: unknown) => () => TradingEngine.restore(s, { risk, venue });
    const edit = (f: (s: EngineState & Record<string, unknown>) => void): unknown => {
      const s = JSON.parse(JSON.stringify(good())) as EngineState & Record<string, unknown>;
      f(s);
      return s;
    };

    it.each<[string, unknown, RegExp]>([
      ['not an object', 'hello', /^engine snapshot: \(the snapshot\): /],
      [
        'another version',
        { ...good(), v: 2 },
        /^engine snapshot: v: version 2 is not one this rxtrade reads \(1\)/,
      ],
      ['no version', edit((s) => delete (s as { v?: number }).v), /^engine snapshot: v: /],
      [
        'a missing key',
        edit((s) => delete (s.book as { cash?: number }).cash),
        /^engine snapshot: book\.cash: /,
      ],
      [
        'a wrong type',
        edit((s) => ((s.risk as { reserved: unknown }).reserved = '0')),
        /^engine snapshot: risk\.reserved: /,
      ],
      ['an unknown key', edit((s) => (s.extra = 1)), /^engine snapshot: \(the snapshot\): .*extra/],
      [
        'a negative price',
        edit((s) => ((s.venue.brackets[0] as { bestPrice: number }).bestPrice = -1)),
        /^engine snapshot: venue\.brackets\.0\.bestPrice: /,
      ],
      [
        'a bracket without its position',
        edit(
          (s) => (s.venue.brackets[0] = { ...(s.venue.brackets[0] as object), symbol: 'SOL-USDT' } as never),
        ),
        /^engine snapshot: venue\.brackets\.0\.side: no open long SOL-USDT position in book\.holdings/,
      ],
      [
        'a pending entry the venue does not hold',
        edit((s) => (s.venue.pendingOrders = [])),
        /^engine snapshot: risk\.pendingEntries\.0\.orderId: order 2 is not in venue\.pendingOrders/,
      ],
      [
        'an open position that is not open',
        edit((s) => (s.book.open = ['ETH-USDT'])),
        /^engine snapshot: book\.open\.0: ETH-USDT has no open holding/,
      ],
      [
        'more take-profits done than there are',
        edit((s) => ((s.venue.brackets[0] as { takeProfitsDone: number }).takeProfitsDone = 3)),
        /^engine snapshot: venue\.brackets\.0\.takeProfitsDone: 3 of 2 levels/,
      ],
    ])('%s', (_what, input, message) => {
      expect(restore(input)).toThrow(
        expect.objectContaining({ name: 'InvalidDataError', message: expect.stringMatching(message) }),
      );
    });
  });
});
