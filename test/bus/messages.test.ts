import { UsageError } from '../../src/domain/errors.js';
import {
  busMessageSchema,
  candleMessage,
  decodeBusMessage,
  marketChannel,
  signalsChannel,
  statusChannel,
  SYSTEM_CHANNEL,
} from '../../src/bus/messages.js';

describe('channel names', () => {
  it('follow the design', () => {
    expect(marketChannel('BTC-USDT')).toBe('market:BTC-USDT');
    expect(signalsChannel('ema-1')).toBe('signals:ema-1');
    expect(statusChannel('ema-1')).toBe('status:ema-1');
    expect(SYSTEM_CHANNEL).toBe('system:events');
  });

  it.each(['', 'BTC*', 'a b', 'x?', '[x]'])(
    'refuse %j, which would subscribe to the wrong channels',
    (id) => {
      expect(() => marketChannel(id)).toThrow(UsageError);
    },
  );
});

describe('messages', () => {
  it('candleMessage is a valid wire candle without the closed flag', () => {
    const message = candleMessage({
      symbol: 'ETH-USDT',
      timeframe: '5m',
      closeTimeMs: 1_700_000_100_000,
      open: 2000,
      high: 2010,
      low: 1990,
      close: 2005,
      volume: 3,
      tradesCount: 7,
      closed: true,
      revision: 1,
    });
    expect(busMessageSchema.parse(message)).toEqual(message);
    expect(message).not.toHaveProperty('closed');
  });

  it('candleMessage carries prices and volumes exactly, as market_data stores them', () => {
    const base = { symbol: 'PEPE-USDT', timeframe: '1m', closeTimeMs: 60_000, tradesCount: 1 } as const;
    for (const [price, volume] of [
      [0.000012345678, Number('123456789012.345678')],
      [1e-12, 1e-9],
      [4.2e-5, 1e18],
    ] as const) {
      const c = {
        ...base,
        open: price,
        high: price,
        low: price,
        close: price,
        volume,
        closed: true,
        revision: 0,
      };
      expect(candleMessage(c)).toMatchObject({ open: price, close: price, volume });
    }
  });

  it('decodes valid payloads, strips unknown keys, rejects the rest', () => {
    const signal = {
      type: 'signal',
      botId: 'b',
      tsMs: 1,
      action: 'buy',
      price: 10,
      confidence: 0.5,
      reason: 'ema cross',
    };
    expect(decodeBusMessage(JSON.stringify({ ...signal, extra: 1 }))).toEqual(signal);
    expect(decodeBusMessage(JSON.stringify({ ...signal, confidence: 2 }))).toBeUndefined();
    expect(decodeBusMessage(JSON.stringify({ ...signal, tsMs: 1.5 }))).toBeUndefined();
    expect(
      decodeBusMessage(JSON.stringify({ type: 'status', botId: 'b', tsMs: 1, status: 'lost' })),
    ).toBeUndefined();
    expect(decodeBusMessage('{')).toBeUndefined();
    expect(decodeBusMessage('null')).toBeUndefined();
  });
});

describe('bot messages', () => {
  const fill = {
    type: 'fill',
    botId: 'btc-ema',
    tsMs: 1_700_000_060_000,
    symbol: 'BTC-USDT',
    side: 'buy',
    price: 60_000.5,
    qty: 0.08,
    fee: 4.80004,
    balanceAfter: 5195.15996,
    orderId: 3,
    seq: 5,
  } as const;
  const performance = {
    type: 'performance',
    botId: 'btc-ema',
    tsMs: 1_700_000_060_000,
    totalValue: 10_002.5,
    cash: 5195.15996,
    cryptoValue: 4807.34,
    totalTrades: 2,
    winningTrades: 1,
    totalFees: 9.7,
  } as const;

  it('fills and performance decode as sent', () => {
    expect(decodeBusMessage(JSON.stringify(fill))).toEqual(fill);
    expect(decodeBusMessage(JSON.stringify(performance))).toEqual(performance);
  });

  it('a fill with a zero quantity or no fill number is dropped', () => {
    expect(decodeBusMessage(JSON.stringify({ ...fill, qty: 0 }))).toBeUndefined();
    const { seq: _seq, ...noSeq } = fill;
    expect(decodeBusMessage(JSON.stringify(noSeq))).toBeUndefined();
  });

  it('a signal may carry its indicator values (null while warming up)', () => {
    const signal = {
      type: 'signal',
      botId: 'btc-ema',
      tsMs: 1_700_000_060_000,
      action: 'buy',
      price: 60_000,
      confidence: 0.5,
      reason: 'EMA(5) crossed above EMA(13)',
      symbol: 'BTC-USDT',
      indicators: { ema_5: 60_010.2, atr_14: null },
    } as const;
    expect(decodeBusMessage(JSON.stringify(signal))).toEqual(signal);
  });
});
