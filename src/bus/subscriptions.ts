import { Observable, type Subscriber } from 'rxjs';
import type { BusDelivery } from './bus.js';
import { globMatcher } from './glob.js';
import { decodeBusMessage } from './messages.js';

interface PatternGroup {
  readonly matches: (channel: string) => boolean;
  readonly observers: Set<Subscriber<BusDelivery>>;
}

/**
 * The subscriber side both buses share: observers grouped by pattern, so the broker sees one subscription
 * per pattern however many observers there are, and each payload is decoded once per pattern.
 */
export class Subscriptions {
  private readonly groups = new Map<string, PatternGroup>();
  private closed = false;
  received = 0;
  dropped = 0;

  /**
   * @param open called when a pattern gets its first observer (open the broker subscription)
   * @param release called when its last observer leaves (close it)
   */
  constructor(
    private readonly open: (pattern: string) => void,
    private readonly release: (pattern: string) => void,
  ) {}

  observe(pattern: string): Observable<BusDelivery> {
    return new Observable<BusDelivery>((subscriber) => {
      if (this.closed) {
        subscriber.complete();
        return;
      }
      let group = this.groups.get(pattern);
      if (group === undefined) {
        group = { matches: globMatcher(pattern), observers: new Set() };
        this.groups.set(pattern, group);
        this.open(pattern);
      }
      group.observers.add(subscriber);
      return () => this.leave(pattern, subscriber);
    });
  }

  /** Patterns that currently have observers and match `channel` (for a bus that routes itself). */
  *matching(channel: string): Iterable<string> {
    for (const [pattern, group] of this.groups) if (group.matches(channel)) yield pattern;
  }

  /** One raw payload that arrived on `channel` for `pattern`: decode, count, fan out. */
  deliver(pattern: string, channel: string, payload: string): void {
    const group = this.groups.get(pattern);
    if (group === undefined) return; // unsubscribed while the payload was in flight
    const message = decodeBusMessage(payload);
    if (message === undefined) {
      this.dropped++;
      return;
    }
    this.received++;
    const delivery: BusDelivery = { channel, message };
    // A snapshot: an observer may unsubscribe (itself or others) from inside next().
    for (const observer of [...group.observers]) observer.next(delivery);
  }

  /** Completes every observer (bus closing); no release calls, the caller tears the broker down. */
  completeAll(): void {
    this.closed = true;
    const observers = [...this.groups.values()].flatMap((group) => [...group.observers]);
    this.groups.clear();
    for (const observer of observers) observer.complete();
  }

  private leave(pattern: string, subscriber: Subscriber<BusDelivery>): void {
    const group = this.groups.get(pattern);
    if (group === undefined || !group.observers.delete(subscriber)) return;
    if (group.observers.size === 0) {
      this.groups.delete(pattern);
      this.release(pattern);
    }
  }
}
