import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { createBus } from '../../src/bus/createBus.js';
import { InProcessBus } from '../../src/bus/inProcessBus.js';
import { RedisBus } from '../../src/bus/redisBus.js';
import { RecordingLogger } from '../../src/infra/logger.js';
import { collect, systemMessage, untilSubscribed, waitFor } from './busTesting.js';

/** What the Redis bus does when Redis is not there, or goes away and comes back. */

describe('createBus', () => {
  it('picks the in-process bus without a Redis URL', async () => {
    const bus = createBus({});
    expect(bus).toBeInstanceOf(InProcessBus);
    await bus.close();
  });
});

describe('RedisBus when nothing listens at the URL', () => {
  it('resolves publishes, counts them as failed, reports disconnected and logs the URL once', async () => {
    const logger = new RecordingLogger();
    const bus = createBus({ redisUrl: 'redis://:secret@127.0.0.1:1', logger });
    expect(bus).toBeInstanceOf(RedisBus);
    const received = collect(bus, 'market:*'); // must not crash either

    for (let i = 0; i < 5; i++)
      await expect(bus.publish('market:BTC-USDT', systemMessage(i))).resolves.toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 300)); // a few reconnect attempts

    expect(bus.stats()).toMatchObject({ published: 0, failed: 5, connected: false });
    const errors = logger.records.filter((r) => r.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toContain('redis://:***@127.0.0.1:1');
    expect(JSON.stringify(logger.records)).not.toContain('secret');
    await bus.close();
    expect(received.completed).toBe(true);
  });
});

describe('RedisBus through an outage', () => {
  let port: number;
  let server: ChildProcess | undefined;

  beforeAll(async () => {
    port = await freePort();
  });

  afterEach(async () => {
    await stopRedis(server);
    server = undefined;
  });

  it('fails publishes while Redis is down, logs the outage once, recovers with its subscriptions', async () => {
    server = await startRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    const logger = new RecordingLogger();
    const bus = new RedisBus({ redisUrl: url, logger, maxRetryDelayMs: 50 });
    const channel = `test-${randomUUID()}:signals:bot-1`;
    const received = collect(bus, channel);
    await untilSubscribed(bus, channel, received);
    await bus.publish(channel, systemMessage(1));
    await waitFor('the first message', () => received.items.length === 1);

    await stopRedis(server);
    await waitFor('the bus to notice', () => !bus.stats().connected);
    const failedBefore = bus.stats().failed;
    const started = Date.now();
    for (let i = 0; i < 5; i++) await bus.publish(channel, systemMessage(100 + i));
    expect(Date.now() - started).toBeLessThan(500); // failing, not waiting for Redis
    expect(bus.stats().failed - failedBefore).toBe(5);

    server = await startRedis(port);
    await waitFor('the bus to reconnect', () => bus.stats().connected, 10_000);
    await untilSubscribed(bus, channel, received); // ioredis re-subscribed by itself
    await bus.publish(channel, systemMessage(2));
    await waitFor('a message after recovery', () => received.items.length === 2);

    expect(received.items.map((d) => d.message)).toEqual([systemMessage(1), systemMessage(2)]);
    expect(received.completed).toBe(false);
    const outageLogs = logger.records.filter((r) => r.level === 'error' || r.level === 'warn');
    expect(outageLogs.map((r) => r.level)).toEqual(['error', 'warn']);
    expect(outageLogs[0]?.msg).toContain(url);
    expect(outageLogs[1]).toMatchObject({ url: `${url}`, failedDuringOutage: 5 });
    await bus.close();
  });
});

/** A port nothing listens on right now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject()));
    });
  });
}

/** A throwaway redis-server (no persistence) on `port`, resolved once it answers PING. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const client = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    retryStrategy: () => null,
    disconnectTimeout: 50, // its 2 s default timer outlives a socket that never connected
  });
  client.on('error', () => undefined);
  try {
    await waitForAsync(`redis-server on port ${port}`, async () => {
      try {
        if (client.status !== 'ready') await client.connect();
        return (await client.ping()) === 'PONG';
      } catch {
        client.disconnect();
        return false;
      }
    });
  } finally {
    client.disconnect();
  }
  return child;
}

async function stopRedis(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

async function waitForAsync(
  what: string,
  condition: () => Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
