import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Bus } from '../../src/bus/bus.js';
import { InProcessBus } from '../../src/bus/inProcessBus.js';
import { candleMessage, type BusMessage } from '../../src/bus/messages.js';
import { RedisBus } from '../../src/bus/redisBus.js';
import { RecordingLogger } from '../../src/infra/logger.js';
import { collect, systemMessage, untilSubscribed, waitFor } from './busTesting.js';

/**
 * One suite, every Bus implementation. The Redis run needs the real Redis at 127.0.0.1:6379 and FAILS (never
 * skips) when it is not there. Channels carry a random prefix so parallel runs on one Redis do not collide.
 */

const REDIS_URL = 'redis://127.0.0.1:6379';

interface Harness {
  readonly bus: Bus;
  /** Sends a payload past the bus' encoder, as a foreign or broken publisher would. */
  publishRaw(channel: string, payload: string): Promise<void>;
  dispose(): Promise<void>;
}

const implementations: [string, () => Promise<Harness>][] = [
  [
    'InProcessBus',
    async () => {
      const bus = new InProcessBus();
      return {
        bus,
        publishRaw: async (channel, payload) => bus.publishRaw(channel, payload),
        dispose: () => bus.close(),
      };
    },
  ],
  [
    'RedisBus',
    async () => {
      // No retries: if Redis is down, PING rejects at once and the test fails saying so.
      const raw = new Redis(REDIS_URL, { retryStrategy: () => null, maxRetriesPerRequest: 0 });
      raw.on('error', () => undefined);
      try {
        await raw.ping();
      } catch (err) {
        if (raw.status !== 'end') raw.disconnect();
        throw new Error(`the bus contract tests need Redis at ${REDIS_URL}: ${String(err)}`, { cause: err });
      }
      const bus = new RedisBus({ redisUrl: REDIS_URL, logger: new RecordingLogger() });
      return {
        bus,
        publishRaw: async (channel, payload) => void (await raw.publish(channel, payload)),
        dispose: async () => {
          await bus.close();
          await raw.quit();
        },
      };
    },
  ],
];

const candle = {
  symbol: 'BTC-USDT',
  timeframe: '1m',
  closeTimeMs: 1_700_000_060_000,
  open: 100,
  high: 110,
  low: 95,
  close: 105,
  volume: 12.5,
  tradesCount: 40,
  closed: true,
  revision: 0,
} as const;

describe.each(implementations)('Bus contract: %s', (_name, makeHarness) => {
  let harness: Harness | undefined;
  let bus: Bus;
  let prefix: string;

  beforeEach(async () => {
    harness = await makeHarness();
    bus = harness.bus;
    prefix = `test-${randomUUID()}:`;
  });

  afterEach(async () => {
    await harness?.dispose();
    harness = undefined;
  });

  it('delivers a message on an exact channel, decoded and with its channel', async () => {
    const channel = `${prefix}market:BTC-USDT`;
    const received = collect(bus, channel);
    await untilSubscribed(bus, channel, received);

    await bus.publish(channel, candleMessage(candle));

    await waitFor('the candle', () => received.items.length === 1);
    const { closed: _closed, ...wire } = candle; // only closed candles travel, so the flag does not
    expect(received.items).toEqual([{ channel, message: { type: 'candle', ...wire } }]);
    expect(bus.stats()).toMatchObject({ failed: 0, dropped: 0, connected: true });
  });

  it('delivers on a glob pattern with the concrete channel, and nothing that does not match', async () => {
    const received = collect(bus, `${prefix}market:*`);
    await untilSubscribed(bus, `${prefix}market:probe`, received);

    await bus.publish(`${prefix}market:BTC-USDT`, systemMessage(1));
    await bus.publish(`${prefix}signals:bot-1`, systemMessage(2));
    await bus.publish(`${prefix}market:ETH-USDT`, systemMessage(3));

    // Delivery follows publish order, so once the last one is in, the non-matching one would have been too.
    await waitFor('both market messages', () => received.items.length >= 2);
    expect(received.items.map((d) => [d.channel, d.message.type === 'system' && d.message.tsMs])).toEqual([
      [`${prefix}market:BTC-USDT`, 1],
      [`${prefix}market:ETH-USDT`, 3],
    ]);
  });

  it('keeps publish order per channel', async () => {
    const channel = `${prefix}signals:bot-1`;
    const received = collect(bus, channel);
    await untilSubscribed(bus, channel, received);

    const count = 500;
    await Promise.all(Array.from({ length: count }, (_, i) => bus.publish(channel, systemMessage(i))));

    await waitFor(`${count} messages`, () => received.items.length === count);
    expect(received.items.map((d) => (d.message as { tsMs: number }).tsMs)).toEqual(
      Array.from({ length: count }, (_, i) => i),
    );
    expect(bus.stats().published).toBeGreaterThanOrEqual(count);
  });

  it('stops delivering to an observer that unsubscribed, and keeps delivering to the others', async () => {
    const channel = `${prefix}status:bot-1`;
    const leaving = collect(bus, channel);
    const staying = collect(bus, channel);
    await untilSubscribed(bus, channel, leaving, staying);

    leaving.subscription.unsubscribe();
    await bus.publish(channel, systemMessage(1));
    await waitFor('the message for the staying observer', () => staying.items.length === 1);
    expect(leaving.items).toEqual([]);

    // The last observer leaving closes the broker subscription; a new one opens it again.
    staying.subscription.unsubscribe();
    await bus.publish(channel, systemMessage(2));
    const again = collect(bus, channel);
    await untilSubscribed(bus, channel, again);
    await bus.publish(channel, systemMessage(3));
    await waitFor('the message for the new observer', () => again.items.length === 1);
    expect(staying.items).toHaveLength(1);
    expect(leaving.items).toEqual([]);
    expect(again.items.map((d) => d.message)).toEqual([systemMessage(3)]);
  });

  it('drops and counts payloads that are not JSON or do not match a message schema', async () => {
    const channel = `${prefix}market:BTC-USDT`;
    const received = collect(bus, channel);
    await untilSubscribed(bus, channel, received);
    if (harness === undefined) throw new Error('no harness');
    const { publishRaw } = harness;
    const before = bus.stats();

    await publishRaw(channel, 'not json {');
    await publishRaw(channel, JSON.stringify({ type: 'candle', symbol: 'BTC-USDT' }));
    await publishRaw(channel, JSON.stringify({ type: 'gossip', tsMs: 1 }));
    await publishRaw(channel, JSON.stringify(systemMessage(-5))); // negative time
    await bus.publish(channel, systemMessage(7));

    await waitFor('the valid message', () => received.items.length === 1);
    expect(received.items.map((d) => d.message)).toEqual([systemMessage(7)]);
    const after = bus.stats();
    expect(after.dropped - before.dropped).toBe(4);
    expect(after.received - before.received).toBe(1);
    expect(received.completed).toBe(false);
  });

  it('serves many observers on exact channels and patterns alike', async () => {
    const channel = `${prefix}market:SOL-USDT`;
    const exact = Array.from({ length: 20 }, () => collect(bus, channel));
    const globbed = Array.from({ length: 5 }, () => collect(bus, `${prefix}market:SOL-*`));
    await untilSubscribed(bus, channel, ...exact, ...globbed);

    const messages: BusMessage[] = Array.from({ length: 10 }, (_, i) => systemMessage(i));
    for (const message of messages) await bus.publish(channel, message);

    const all = [...exact, ...globbed];
    await waitFor('every observer to get all 10', () => all.every((c) => c.items.length === 10));
    for (const c of all) expect(c.items.map((d) => d.message)).toEqual(messages);
  });

  it('close() completes subscriptions; publishing afterwards resolves and counts as failed', async () => {
    const channel = `${prefix}system:events`;
    const received = collect(bus, channel);
    await untilSubscribed(bus, channel, received);

    await bus.close();

    expect(received.completed).toBe(true);
    expect(received.subscription.closed).toBe(true);
    const failedBefore = bus.stats().failed;
    await expect(bus.publish(channel, systemMessage(1))).resolves.toBeUndefined();
    expect(bus.stats()).toMatchObject({ failed: failedBefore + 1, connected: false });
    const late = collect(bus, channel);
    expect(late.completed).toBe(true);
    await bus.close(); // idempotent
  });
});
