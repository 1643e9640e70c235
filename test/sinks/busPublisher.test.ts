import { InProcessBus } from '../../src/bus/inProcessBus.js';
import type { Candle } from '../../src/domain/candle.js';
import { CandlePublisher } from '../../src/sinks/busPublisher.js';
import type { Bus, BusStats } from '../../src/bus/bus.js';
import { firstValueFrom, take, toArray } from 'rxjs';

const candle = (closeTimeMs: number, closed = true): Candle => ({
  symbol: 'BTC-USDT',
  timeframe: '1m',
  closeTimeMs,
  open: 1,
  high: 2,
  low: 0.5,
  close: 1.5,
  volume: 3,
  tradesCount: 4,
  closed,
  revision: 0,
});

/** A bus whose publishes are acknowledged when the test says (a broker answering late). */
class ManualBus implements Bus {
  readonly acks: (() => void)[] = [];
  readonly channels: string[] = [];
  publish(channel: string): Promise<void> {
    this.channels.push(channel);
    return new Promise((resolve) => this.acks.push(resolve));
  }
  subscribe(): never {
    throw new Error('not used');
  }
  stats(): BusStats {
    return { published: this.channels.length, failed: 0, received: 0, dropped: 0 } as BusStats;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('CandlePublisher', () => {
  it('measures publish → acknowledgement on the injected clock, in exact milliseconds', async () => {
    let t = 0;
    const bus = new ManualBus();
    const publisher = new CandlePublisher(bus, () => t);
    publisher.publish(candle(60_000)); // sent at 0
    t = 2;
    publisher.publish(candle(120_000)); // sent at 2
    t = 3;
    bus.acks[1]!(); // second acknowledged first: 1 ms
    await tick();
    expect(publisher.latency()).toEqual({ p50: 1, p99: 1, max: 1, count: 1 });
    t = 9;
    bus.acks[0]!(); // 9 ms
    await tick();
    expect(publisher.latency()).toEqual({ p50: 9, p99: 9, max: 9, count: 2 });
    expect(bus.channels).toEqual(['market:BTC-USDT', 'market:BTC-USDT']);
  });

  it('publishes closed candles only, and counts nothing for what it did not send', async () => {
    const bus = new ManualBus();
    const publisher = new CandlePublisher(bus, () => 0);
    publisher.publish(candle(60_000, false));
    await tick();
    expect(bus.channels).toEqual([]);
    expect(publisher.latency().count).toBe(0);
  });

  it('delivers the candle on market:{symbol} of a real (in-process) bus', async () => {
    const bus = new InProcessBus();
    const received = firstValueFrom(bus.subscribe('market:BTC-USDT').pipe(take(1), toArray()));
    const publisher = new CandlePublisher(bus);
    publisher.publish(candle(60_000));
    const [delivery] = await received;
    expect(delivery).toMatchObject({ channel: 'market:BTC-USDT' });
    expect(publisher.latency().count).toBe(1);
    await bus.close();
  });
});
