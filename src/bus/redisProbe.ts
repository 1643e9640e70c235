import { Redis } from 'ioredis';

/**
 * A one-shot Redis client for a reachability check (`rxtrade doctor`, the optimize queue): no retries, no
 * offline queue, `connectTimeoutMs` for the connection. Connects, runs `body` on it and disconnects. A
 * failure rejects with its real cause: with no retries ioredis's connect() only says "Connection is closed",
 * the reason (ECONNREFUSED, a bad password...) comes as an 'error' event.
 */
export async function withRedisProbe<T>(
  url: string,
  connectTimeoutMs: number,
  body: (client: Redis) => Promise<T>,
): Promise<T> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let reason: unknown;
  client.on('error', (err) => (reason ??= err));
  try {
    return await body(client);
  } catch (err) {
    throw reason ?? err;
  } finally {
    client.disconnect();
  }
}
