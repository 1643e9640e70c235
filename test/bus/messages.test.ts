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
