import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { marketChannel } from '../../src/bus/messages.js';
import { RedisBus } from '../../src/bus/redisBus.js';
import { RecordingLogger } from '../../src/infra/logger.js';
import { collect, systemMessage, untilSubscribed, waitFor } from './busTesting.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

describe('RedisBus channel prefix', () => {
  const buses: RedisBus[] = [];
  const raws: Redis[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
    await Promise.all(raws.splice(0).map((r) => r.quit()));
  });

  it('puts the prefix on the wire and strips it on delivery; buses with other prefixes hear nothing', async () => {
    const a = `t-${randomUUID()}:`;
    const b = `t-${randomUUID()}:`;
    const busA = new RedisBus({ redisUrl: REDIS_URL, logger: new RecordingLogger(), channelPrefix: a });
    const busB = new RedisBus({ redisUrl: REDIS_URL, logger: new RecordingLogger(), channelPrefix: b });
    buses.push(busA, busB);
    const raw = new Redis(REDIS_URL, { maxRetriesPerRequest: 0 });
    raws.push(raw);
    const onWire: [string, string][] = [];
    raw.on('message', (channel: string, payload: string) => onWire.push([channel, payload]));
    await raw.subscribe(a + marketChannel('BTC-USDT'));

    const channel = marketChannel('BTC-USDT');
    const heardA = collect(busA, 'market:*');
    const heardB = collect(busB, 'market:*');
    await untilSubscribed(busA, channel, heardA);
    await untilSubscribed(busB, channel, heardB);

    await busA.publish(channel, systemMessage(42));
    await waitFor('the message on A', () => heardA.items.length === 1);
    await waitFor('the raw subscriber', () => onWire.some(([, p]) => p.includes('"tsMs":42')));
    expect(heardA.items[0]).toEqual({ channel, message: systemMessage(42) });
    expect(onWire.find(([, p]) => p.includes('"tsMs":42'))?.[0]).toBe(`${a}market:BTC-USDT`);
    // B's probe traffic is all it ever saw.
    expect(heardB.items).toEqual([]);
  });

  it('refuses a prefix with glob characters', () => {
    expect(
      () => new RedisBus({ redisUrl: REDIS_URL, logger: new RecordingLogger(), channelPrefix: 'a*' }),
    ).toThrow(/must not contain/);
  });
});
