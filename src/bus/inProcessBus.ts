import type { Observable } from 'rxjs';
import type { Bus, BusDelivery, BusStats } from './bus.js';
import type { BusMessage } from './messages.js';
import { Subscriptions } from './subscriptions.js';

/**
 * The bus without Redis (no REDIS_URL, tests, backtests). It behaves like Redis on purpose: messages go
 * through JSON (subscribers get their own copies, never the publisher's object), are validated on receipt,
 * and arrive asynchronously (a microtask later), in publish order per channel.
 */
export class InProcessBus implements Bus {
  private readonly subscriptions = new Subscriptions(
    () => undefined,
    () => undefined,
  );
  private published = 0;
  private failed = 0;
  private closed = false;

  publish(channel: string, message: BusMessage): Promise<void> {
    this.publishRaw(channel, JSON.stringify(message));
    return Promise.resolve();
  }

  /** Publishes a payload as is, unvalidated: how tests (and tools) inject what a foreign publisher might send. */
  publishRaw(channel: string, payload: string): void {
    if (this.closed) {
      this.failed++;
      return;
    }
    this.published++;
    const patterns = [...this.subscriptions.matching(channel)];
    if (patterns.length === 0) return;
    queueMicrotask(() => {
      for (const pattern of patterns) this.subscriptions.deliver(pattern, channel, payload);
    });
  }

  subscribe(pattern: string): Observable<BusDelivery> {
    return this.subscriptions.observe(pattern);
  }

  stats(): BusStats {
    const { received, dropped } = this.subscriptions;
    return { published: this.published, failed: this.failed, dropped, received, connected: !this.closed };
  }

  close(): Promise<void> {
    this.closed = true;
    this.subscriptions.completeAll();
    return Promise.resolve();
  }
}
