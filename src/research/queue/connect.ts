import { Redis } from 'ioredis';
import { redactUrl } from '../../bus/redisBus.js';
import { withRedisProbe } from '../../bus/redisProbe.js';
import { RxtradeError } from '../../domain/errors.js';

/** How long a first connection to Redis may take before we say it does not answer. */
export const REDIS_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Checks that Redis answers at `url` (one PING, no retries) so that a down or mistyped Redis is one clear
 * error naming the setting (`from`: REDIS_URL or --redis-url) instead of BullMQ retrying forever.
 */
export async function checkRedisReachable(url: string, from: string): Promise<void> {
  try {
    await withRedisProbe(url, REDIS_CONNECT_TIMEOUT_MS, async (client) => {
      await client.connect();
      await client.ping();
    });
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    const why =
      code === 'ECONNREFUSED'
        ? 'nothing answers (ECONNREFUSED)'
        : `${cause instanceof Error ? cause.message : String(cause)}${typeof code === 'string' ? ` (${code})` : ''}`;
    throw new RxtradeError(
      'queue_unavailable',
      `cannot reach Redis at ${redactUrl(url)} (${from}): ${why}; start Redis or point ${from} at it`,
      { cause },
    );
  }
}

/**
 * The connection BullMQ's queue, events and workers share (each duplicates it for its blocking reads).
 * After the first check, a Redis that goes away is retried (BullMQ needs `maxRetriesPerRequest: null`);
 * `onError` hears each failure, so the caller can say so once rather than hang in silence.
 */
export function bullConnection(url: string, onError: (err: Error) => void): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  redis.on('error', onError);
  return redis;
}
