import { UsageError } from '../../domain/errors.js';

/** The optimize flags the queue reads. */
export interface QueueFlags {
  readonly queue?: 'redis';
  readonly redisUrl?: string;
  readonly timeout?: string;
  readonly data?: string;
  readonly pglite?: string;
  readonly databaseUrl?: string;
  readonly workers?: string;
}

export interface QueueSettings {
  readonly redisUrl: string;
  /** REDIS_URL or --redis-url, for the errors. */
  readonly redisFrom: string;
  /** No result for this long ends the search (undefined: no limit). */
  readonly timeoutMs: number | undefined;
}

/**
 * --queue: the Redis to use, and what the queue cannot run. The workers read the candles from their
 * database, so the queue runs on stored candles only: a CSV is refused with the command that stores it
 * (rxtrade import), rather than copied somewhere behind the user's back.
 */
export async function queueSettings(
  options: QueueFlags,
  walkForwardSpec: unknown,
  env: NodeJS.ProcessEnv,
): Promise<QueueSettings | undefined> {
  if (options.queue === undefined) {
    if (options.redisUrl !== undefined || options.timeout !== undefined) {
      throw new UsageError('--redis-url and --timeout only apply with --queue redis');
    }
    return undefined;
  }
  if (options.data !== undefined) {
    throw new UsageError(
      `--queue runs on candles stored in Postgres (the workers read them there), not on --data files: ` +
        `store them first (rxtrade import --file ${options.data} --symbol SYMBOL --database-url URL), ` +
        `then optimize with --symbol/--from/--to`,
    );
  }
  if (options.pglite !== undefined) {
    throw new UsageError(
      '--queue needs Postgres (workers on other processes and machines read the candles): give --database-url or DATABASE_URL, not --pglite',
    );
  }
  if (walkForwardSpec !== undefined) {
    throw new UsageError('--queue does not run --walk-forward searches yet: run it here (--workers N)');
  }
  if (options.workers !== undefined) {
    throw new UsageError(
      '--workers is for threads here; with --queue, start as many `rxtrade worker` as you like',
    );
  }
  const { readEnv, checkUrl, REDIS_PROTOCOLS } = await import('../../config/env.js');
  const parsed = readEnv(env);
  if (options.databaseUrl === undefined && parsed.databaseUrl === undefined) {
    throw new UsageError(
      '--queue needs Postgres (the workers read the candles there): set DATABASE_URL or give --database-url',
    );
  }
  const redisUrl =
    options.redisUrl !== undefined
      ? checkUrl('--redis-url', options.redisUrl, REDIS_PROTOCOLS)
      : parsed.redisUrl;
  if (redisUrl === undefined)
    throw new UsageError('--queue redis needs Redis: set REDIS_URL or give --redis-url');
  const timeoutS = options.timeout === undefined ? 300 : Number(options.timeout.trim());
  if (!Number.isFinite(timeoutS) || timeoutS < 0) {
    throw new UsageError(`--timeout must be a number of seconds (0: no limit), got "${options.timeout}"`);
  }
  const redisFrom = options.redisUrl !== undefined ? '--redis-url' : 'REDIS_URL';
  // Before the candles are read: a Redis that is down is the first thing said.
  await (await import('./connect.js')).checkRedisReachable(redisUrl, redisFrom);
  return {
    redisUrl,
    redisFrom,
    timeoutMs: timeoutS === 0 ? undefined : timeoutS * 1000,
  };
}
