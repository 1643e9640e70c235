import type { Candle } from '../../src/domain/candle.js';
import type { Signal, SignalAction } from '../../src/domain/signal.js';
import type { Fill, FillPurpose, Order } from '../../src/domain/trading/types.js';

export const MIN = 60_000;

/** A closed 1m BTC-USDT candle closing at `minute` minutes. */
export function bar(
  minute: number,
  open: number,
  high: number,
  low: number,
  close: number,
  symbol = 'BTC-USDT',
): Candle {
  return {
    symbol,
    timeframe: '1m',
    closeTimeMs: minute * MIN,
    open,
    high,
    low,
    close,
    volume: 1,
    tradesCount: 1,
    closed: true,
    revision: 0,
  };
}

/** A candle with one price. */
export function flat(minute: number, price: number, symbol = 'BTC-USDT'): Candle {
  return bar(minute, price, price, price, price, symbol);
}

/** A signal decided on the candle closing at `minute`, at reference price `price`. */
export function signal(
  minute: number,
  action: SignalAction,
  price: number,
  extra: Partial<Signal> = {},
): Signal {
  return {
    symbol: 'BTC-USDT',
    timeframe: '1m',
    closeTimeMs: minute * MIN,
    action,
    confidence: 1,
    reason: `${action} test`,
    price,
    indicators: {},
    ...extra,
  };
}

/** An order decided at `minute` (defaults: market buy entry of 1, no exits). */
export function order(id: number, minute: number, extra: Partial<Order> = {}): Order {
  return {
    kind: 'order',
    id,
    symbol: 'BTC-USDT',
    side: 'buy',
    type: 'market',
    qty: 1,
    purpose: 'entry',
    createdTimeMs: minute * MIN,
    reason: 'test',
    qtyStep: 0,
    minQty: 0,
    ...extra,
  };
}

/** The fill the venue emits, fee computed as it does (qty × price × rate). */
export function fill(
  orderId: number,
  minuteOpen: number,
  side: 'buy' | 'sell',
  qty: number,
  price: number,
  purpose: FillPurpose,
  extra: Partial<Fill> & { rate?: number } = {},
): Fill {
  const { rate = 0.001, ...rest } = extra;
  const maker = purpose === 'take_profit' || rest.liquidity === 'maker';
  return {
    kind: 'fill',
    orderId,
    symbol: 'BTC-USDT',
    side,
    qty,
    price,
    fee: qty * price * rate,
    liquidity: maker ? 'maker' : 'taker',
    timeMs: minuteOpen * MIN,
    purpose,
    reason: purpose === 'entry' || purpose === 'exit' ? 'test' : purpose,
    ...rest,
  };
}
