import { silentLogger, type Logger } from '../infra/logger.js';
import type { Bus } from './bus.js';
import { InProcessBus } from './inProcessBus.js';
import { RedisBus } from './redisBus.js';

/**
 * The one place that picks the bus: Redis when a URL is given (the caller passes REDIS_URL; no
 * `process.env` here), otherwise in-process, with the same interface and semantics.
 */
export function createBus(options: { redisUrl?: string; channelPrefix?: string; logger?: Logger }): Bus {
  const logger = (options.logger ?? silentLogger).child({ component: 'bus' });
  if (options.redisUrl !== undefined && options.redisUrl !== '') {
    return new RedisBus({
      redisUrl: options.redisUrl,
      logger,
      ...(options.channelPrefix !== undefined ? { channelPrefix: options.channelPrefix } : {}),
    });
  }
  return new InProcessBus();
}
