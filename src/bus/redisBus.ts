import { UsageError } from '../domain/errors.js';
import { Redis, type RedisOptions } from 'ioredis';
import type { Observable } from 'rxjs';
import type { Logger } from '../infra/logger.js';
import type { Bus, BusDelivery, BusStats } from './bus.js';
import { isGlob } from './glob.js';
import type { BusMessage } from './messages.js';
import { Subscriptions } from './subscriptions.js';

export interface RedisBusOptions {
  readonly redisUrl: string;
  readonly logger: Logger;
  /** Longest wait between reconnect attempts. */
  readonly maxRetryDelayMs?: number;
  /** Publishes allowed to wait for the first connection at once; beyond that they fail at once. */
  readonly maxOfflinePublishes?: number;
  /**
   * Prepended to every Redis channel name (and stripped on delivery), so several deployments, or test files,
   * can share one Redis without hearing each other. Default '' (channels exactly as named: `market:BTC-USDT`).
   */
  readonly channelPrefix?: string;
}

/**
 * The bus over Redis pub/sub. Two connections, because a connection in subscriber mode cannot PUBLISH.
 *
 * When Redis goes away ioredis keeps reconnecting (capped backoff) and the pipeline keeps running: during a
 * known outage a publish fails at once (nothing is queued); only while first connecting do publishes wait in
 * ioredis' offline queue, at most `maxOfflinePublishes` of them, until the first connection attempt succeeds
 * or fails. Every publish that does not get through is counted in `failed`. Outages are logged once when
 * they start (error, naming the URL) and once when they end (warn, with the count of failed publishes).
 * Subscriptions are restored by ioredis after a reconnect; messages published meanwhile are lost (pub/sub
 * is at most once).
 */
export class RedisBus implements Bus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly subscriptions: Subscriptions;
  private readonly url: string;
  private readonly maxOfflinePublishes: number;
  private published = 0;
  private failed = 0;
  private offlinePublishes = 0;
  private closed = false;
  private releaseOffline: () => void = () => undefined;
  private readonly closing = new Promise<void>((resolve) => (this.releaseOffline = resolve));
  /** Set while at least one connection is down, with `failed` as it was when the outage began. */
  private outage: { readonly failedBefore: number } | undefined;

  private readonly prefix: string;

  constructor(private readonly options: RedisBusOptions) {
    this.prefix = options.channelPrefix ?? '';
    if (/[\s*?[\]\\]/.test(this.prefix)) {
      throw new UsageError(`Redis channel prefix '${this.prefix}' must not contain whitespace or * ? [ ] \\`);
    }
    this.url = redactUrl(options.redisUrl);
    this.maxOfflinePublishes = options.maxOfflinePublishes ?? 1000;
    const maxDelay = options.maxRetryDelayMs ?? 2000;
    const common: RedisOptions = {
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxDelay),
      connectionName: 'rxtrade-bus',
      // ioredis arms this timer on disconnect() even when the socket is already gone (mid-reconnect) and never
      // clears it; the 2 s default would keep the process (and jest) alive after close().
      disconnectTimeout: 300,
    };
    this.publisher = new Redis(options.redisUrl, { ...common, maxRetriesPerRequest: 0 });
    // SUBSCRIBE commands must survive an outage (ioredis replays them), so they wait in the queue.
    this.subscriber = new Redis(options.redisUrl, { ...common, maxRetriesPerRequest: null });
    this.subscriptions = new Subscriptions(
      (pattern) =>
        this.command(
          isGlob(pattern)
            ? this.subscriber.psubscribe(this.prefix + pattern)
            : this.subscriber.subscribe(this.prefix + pattern),
        ),
      (pattern) =>
        this.command(
          isGlob(pattern)
            ? this.subscriber.punsubscribe(this.prefix + pattern)
            : this.subscriber.unsubscribe(this.prefix + pattern),
        ),
    );
    const strip = (name: string): string => name.slice(this.prefix.length);
    this.subscriber.on('message', (channel: string, payload: string) =>
      this.subscriptions.deliver(strip(channel), strip(channel), payload),
    );
    this.subscriber.on('pmessage', (pattern: string, channel: string, payload: string) =>
      this.subscriptions.deliver(strip(pattern), strip(channel), payload),
    );
    for (const connection of [this.publisher, this.subscriber]) {
      connection.on('error', (err: Error) => this.down(err));
      connection.on('close', () => this.down(undefined));
      connection.on('ready', () => this.maybeUp());
    }
  }

  async publish(channel: string, message: BusMessage): Promise<void> {
    if (this.closed) {
      this.failed++;
      return;
    }
    const payload = JSON.stringify(message);
    if (this.publisher.status === 'ready') {
      try {
        await this.publisher.publish(this.prefix + channel, payload);
        this.published++;
      } catch {
        this.failed++;
      }
      return;
    }
    if (this.outage !== undefined) {
      this.failed++; // known outage: fail at once so a pipeline awaiting publish never stalls
      return;
    }
    await this.publishOffline(this.prefix + channel, payload);
  }

  subscribe(pattern: string): Observable<BusDelivery> {
    return this.subscriptions.observe(pattern);
  }

  stats(): BusStats {
    const { received, dropped } = this.subscriptions;
    const connected = !this.closed && this.publisher.status === 'ready' && this.subscriber.status === 'ready';
    return { published: this.published, failed: this.failed, dropped, received, connected };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.releaseOffline();
    this.subscriptions.completeAll();
    await Promise.all([shutDown(this.publisher), shutDown(this.subscriber)]);
  }

  /**
   * Still connecting, no failure seen yet (start-up): wait in ioredis' queue for the connection, bounded in
   * count, and settled as failed by the first failed attempt (`maxRetriesPerRequest: 0`) or by close().
   */
  private async publishOffline(channel: string, payload: string): Promise<void> {
    if (this.offlinePublishes >= this.maxOfflinePublishes) {
      this.failed++;
      return;
    }
    this.offlinePublishes++;
    try {
      const sent = this.publisher.publish(channel, payload).then(
        () => true,
        () => false,
      );
      // close() settles waiting publishes as failed: ioredis would keep them queued after disconnect().
      const ok = await Promise.race([sent, this.closing.then(() => false)]);
      if (ok) this.published++;
      else this.failed++;
    } finally {
      this.offlinePublishes--;
    }
  }

  private command(reply: Promise<unknown>): void {
    reply.catch((err: unknown) => {
      if (!this.closed)
        this.options.logger.error({ url: this.url, err: String(err) }, 'Redis bus subscription failed');
    });
  }

  private down(err: Error | undefined): void {
    if (this.closed) return;
    if (this.outage !== undefined) {
      if (err !== undefined)
        this.options.logger.debug({ url: this.url, err: err.message }, 'Redis bus still down');
      return;
    }
    this.outage = { failedBefore: this.failed };
    this.options.logger.error(
      { url: this.url, err: err?.message ?? 'connection closed' },
      `Redis bus lost ${this.url}: reconnecting; publishes are dropped and counted as failed until it is back`,
    );
  }

  private maybeUp(): void {
    if (this.closed || this.outage === undefined) return;
    if (this.publisher.status !== 'ready' || this.subscriber.status !== 'ready') return;
    const failedDuringOutage = this.failed - this.outage.failedBefore;
    this.outage = undefined;
    this.options.logger.warn(
      { url: this.url, failedDuringOutage },
      `Redis bus reconnected to ${this.url}; ${failedDuringOutage} publishes failed during the outage`,
    );
  }
}

/** Graceful QUIT when connected (pending publishes go out first), otherwise drop the reconnect loop. */
async function shutDown(connection: Redis): Promise<void> {
  if (connection.status === 'end') return;
  if (connection.status === 'ready') {
    const ended = new Promise<void>((resolve) => connection.once('end', () => resolve()));
    await connection.quit().catch(() => connection.disconnect());
    await ended;
    return;
  }
  connection.disconnect();
}

/** The URL as logs may show it: without the password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}
