import { parseRiskConfig, parseVenueModel, type RiskConfigInput } from '../../src/domain/trading/config.js';
import { PortfolioBook } from '../../src/domain/trading/portfolioBook.js';
import { RiskManager } from '../../src/domain/trading/riskManager.js';
import type { Denied, Order, RiskDecision } from '../../src/domain/trading/types.js';
import { fill, MIN, order, signal } from './support.js';

const venue = parseVenueModel({});

function manager(config: RiskConfigInput, cash = 10_000): { risk: RiskManager; book: PortfolioBook } {
  const book = new PortfolioBook(cash);
  book.mark('BTC-USDT', 100, MIN);
  return { risk: new RiskManager(parseRiskConfig(config), venue, book), book };
}

function entry(id: number, minute: number, qty: number, extra: Partial<Order> = {}): Order {
  return order(id, minute, { qty, reason: 'buy test', maxCost: 10_000, ...extra });
}

function deniedOf(d: RiskDecision | undefined): Pick<Denied, 'reason'> | undefined {
  return d?.kind === 'denied' ? { reason: d.reason } : undefined;
}

describe('RiskManager', () => {
  describe('decisions over time', () => {
    it('orders on a buy, denies a second buy once the fill is booked, exits on a sell', () => {
      const { risk, book } = manager({ sizing: { type: 'fixed', quantity: 2 } });
      expect(risk.onSignal(signal(1, 'buy', 100))).toEqual(entry(1, 1, 2));
      const f = fill(1, 1, 'buy', 2, 101, 'entry');
      book.applyFill(f);
      risk.onFill(f);
      expect(risk.onSignal(signal(2, 'buy', 101))).toEqual({
        kind: 'denied',
        symbol: 'BTC-USDT',
        timeMs: 2 * MIN,
        action: 'buy',
        reason: 'position_open',
        message: 'a BTC-USDT position is already open',
      });
      expect(risk.onSignal(signal(2, 'hold', 101))).toBeUndefined();
      expect(risk.onSignal(signal(2, 'sell', 101))).toEqual(
        order(2, 2, { side: 'sell', purpose: 'exit', qty: 2, reason: 'sell test' }),
      );
    });

    it('a cancelled entry frees the symbol again', () => {
      const { risk } = manager({ sizing: { type: 'fixed', quantity: 2 } });
      expect(risk.onSignal(signal(1, 'buy', 100))).toEqual(entry(1, 1, 2));
      risk.onCancelled({
        kind: 'cancelled',
        orderId: 1,
        symbol: 'BTC-USDT',
        timeMs: MIN,
        reason: 'insufficient_cash',
      });
      expect(risk.onSignal(signal(2, 'buy', 100))).toEqual(entry(2, 2, 2));
    });
  });

  describe('sizing', () => {
    it('fixed quantity, with the exit plan in fractions', () => {
      const { risk } = manager({
        sizing: { type: 'fixed', quantity: 2 },
        stop_loss_percentage: 2,
        take_profit: [
          { percentage: 3, position_percentage: 70 },
          { percentage: 1.5, position_percentage: 30 },
        ],
        trailing_stop: { activation_percentage: 1, offset_percentage: 0.5 },
      });
      expect(risk.onSignal(signal(1, 'buy', 100))).toEqual(
        entry(1, 1, 2, {
          exitPlan: {
            stopLoss: 0.02,
            takeProfits: [
              { distance: 0.015, fraction: 0.3 },
              { distance: 0.03, fraction: 0.7 },
            ],
            trailing: { activation: 0.01, offset: 0.005 },
          },
        }),
      );
    });

    it('% of equity, fees included, rounded down to the lot', () => {
      const { risk } = manager({ sizing: { type: 'equity', percentage: 50 }, lot_size: 0.01 });
      // 5000 / (100 × 1.001) = 49.95004995… → 49.95
      expect(risk.onSignal(signal(1, 'buy', 100))).toMatchObject({ kind: 'order', qty: 49.95 });
    });

    it('100 % of equity is affordable', () => {
      const { risk } = manager({ sizing: { type: 'equity', percentage: 100 } });
      const o = risk.onSignal(signal(1, 'buy', 100)) as Order;
      expect(o.kind).toBe('order');
      expect(o.qty * 100 * 1.001).toBeCloseTo(10_000, 9);
    });

    it('risk % of equity over the stop distance', () => {
      const { risk } = manager({ sizing: { type: 'risk', percentage: 1 }, stop_loss_percentage: 2 });
      // 1 % of 10 000 = 100 at risk; the stop is 2 % of 100 = 2 away → 50
      expect(risk.onSignal(signal(1, 'buy', 100))).toMatchObject({ kind: 'order', qty: 50 });
    });

    it('scaled by confidence when asked', () => {
      const { risk } = manager({ sizing: { type: 'fixed', quantity: 2 }, scale_by_confidence: true });
      expect(risk.onSignal(signal(1, 'buy', 100, { confidence: 0.25 }))).toMatchObject({ qty: 0.5 });
    });

    it('lot size rounds DOWN without float dust', () => {
      const { risk } = manager({ sizing: { type: 'fixed', quantity: 0.123456 }, lot_size: 0.001 });
      expect(risk.onSignal(signal(1, 'buy', 100))).toMatchObject({ qty: 0.123 });
      const { risk: r2 } = manager({ sizing: { type: 'fixed', quantity: 0.3 }, lot_size: 0.1 });
      expect(r2.onSignal(signal(1, 'buy', 100))).toMatchObject({ qty: 0.3 });
    });
  });

  describe('pre-trade validation: Denied, never an exception', () => {
    it('non-finite or non-positive price', () => {
      const { risk } = manager({ sizing: { type: 'fixed', quantity: 1 } });
      expect(deniedOf(risk.onSignal(signal(1, 'buy', Number.NaN)))).toEqual({ reason: 'invalid_price' });
      expect(deniedOf(risk.onSignal(signal(1, 'buy', Infinity)))).toEqual({ reason: 'invalid_price' });
      expect(deniedOf(risk.onSignal(signal(1, 'sell', 0)))).toEqual({ reason: 'invalid_price' });
    });

    it('insufficient cash, fees included', () => {
      // 99.9 × 100 = 9990, + 0.1 % fee = 9999.99 ≤ 10 000; 100 × 100 × 1.001 > 10 000
      expect(
        manager({ sizing: { type: 'fixed', quantity: 99.9 } }).risk.onSignal(signal(1, 'buy', 100)),
      ).toMatchObject({
        kind: 'order',
      });
      const d = manager({ sizing: { type: 'fixed', quantity: 100 } }).risk.onSignal(signal(1, 'buy', 100));
      expect(d).toEqual({
        kind: 'denied',
        symbol: 'BTC-USDT',
        timeMs: MIN,
        action: 'buy',
        reason: 'insufficient_cash',
        message: '100 BTC-USDT costs 10010 with fees, 10000 cash available',
      });
    });

    it('below the minimum size or value, including after lot rounding', () => {
      const r1 = manager({ sizing: { type: 'fixed', quantity: 0.5 }, min_order_size: 1 }).risk;
      expect(deniedOf(r1.onSignal(signal(1, 'buy', 100)))).toEqual({ reason: 'below_minimum' });
      const r2 = manager({ sizing: { type: 'fixed', quantity: 0.5 }, min_notional: 60 }).risk;
      expect(deniedOf(r2.onSignal(signal(1, 'buy', 100)))).toEqual({ reason: 'below_minimum' });
      const r3 = manager({ sizing: { type: 'fixed', quantity: 0.05 }, lot_size: 0.1 }).risk;
      expect(deniedOf(r3.onSignal(signal(1, 'buy', 100)))).toEqual({ reason: 'below_minimum' });
    });

    it('position already open, or its entry pending', () => {
      const { risk, book } = manager({ sizing: { type: 'fixed', quantity: 1 } });
      expect(risk.onSignal(signal(1, 'buy', 100))).toMatchObject({ kind: 'order', id: 1 });
      expect(deniedOf(risk.onSignal(signal(2, 'buy', 100)))).toEqual({ reason: 'position_open' });
      const f = fill(1, 2, 'buy', 1, 100, 'entry');
      book.applyFill(f);
      risk.onFill(f);
      expect(deniedOf(risk.onSignal(signal(3, 'buy', 100)))).toEqual({ reason: 'position_open' });
    });

    it('max open positions counts open and pending entries', () => {
      const { risk, book } = manager({ sizing: { type: 'fixed', quantity: 1 }, max_open_positions: 2 });
      const eth = { ...fill(9, 0, 'buy', 1, 50, 'entry'), symbol: 'ETH-USDT' };
      book.applyFill(eth);
      expect(risk.onSignal(signal(1, 'buy', 100))).toMatchObject({ kind: 'order' });
      expect(deniedOf(risk.onSignal(signal(1, 'buy', 10, { symbol: 'SOL-USDT' })))).toEqual({
        reason: 'max_open_positions',
      });
    });

    it('a pending entry holds its cash: a second symbol cannot spend it too', () => {
      const { risk } = manager({ sizing: { type: 'fixed', quantity: 60 }, max_open_positions: 3 });
      expect(risk.onSignal(signal(1, 'buy', 100))).toMatchObject({ kind: 'order', maxCost: 10_000 });
      expect(deniedOf(risk.onSignal(signal(1, 'buy', 100, { symbol: 'ETH-USDT' })))).toEqual({
        reason: 'insufficient_cash',
      });
    });

    it('sell without a position, or with its exit already pending', () => {
      const { risk, book } = manager({ sizing: { type: 'fixed', quantity: 1 } });
      expect(deniedOf(risk.onSignal(signal(1, 'sell', 100)))).toEqual({ reason: 'no_position' });
      book.applyFill(fill(7, 0, 'buy', 1, 100, 'entry'));
      expect(risk.onSignal(signal(1, 'sell', 100))).toMatchObject({ kind: 'order', side: 'sell', qty: 1 });
      expect(deniedOf(risk.onSignal(signal(2, 'sell', 100)))).toEqual({ reason: 'no_position' });
    });

    it('hold does nothing', () => {
      expect(
        manager({ sizing: { type: 'fixed', quantity: 1 } }).risk.onSignal(signal(1, 'hold', 100)),
      ).toBeUndefined();
    });
  });

  describe('config', () => {
    it('is strict and checks what belongs together', () => {
      expect(() => parseRiskConfig({ sizing: { type: 'risk', percentage: 1 } })).toThrow(
        /stop_loss_percentage/,
      );
      expect(() => parseRiskConfig({ sizing: { type: 'fixed', quantity: 1 }, stoploss: 2 })).toThrow(
        /stoploss/,
      );
      expect(() =>
        parseRiskConfig({
          sizing: { type: 'fixed', quantity: 1 },
          take_profit: [
            { percentage: 1, position_percentage: 60 },
            { percentage: 2, position_percentage: 60 },
          ],
        }),
      ).toThrow(/more than 100/);
    });
  });
});
