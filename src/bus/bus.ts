import type { Observable } from 'rxjs';
import type { BusMessage } from './messages.js';

/** One message as a subscriber sees it: the concrete channel it arrived on, even for a pattern subscription. */
export interface BusDelivery {
  readonly channel: string;
  readonly message: BusMessage;
}

/**
 * Counters since the bus was created. `received` and `dropped` count per subscribed pattern (a message
 * matching two different patterns counts twice), however many observers share that pattern.
 */
export interface BusStats {
  readonly published: number;
  /** Publishes that could not be delivered to the broker (down, closed): the pipeline never waits for them. */
  readonly failed: number;
  /** Received payloads that were not valid JSON or did not match `busMessageSchema`. */
  readonly dropped: number;
  readonly received: number;
  readonly connected: boolean;
}

/**
 * Fire-and-forget pub/sub between the pipeline, bots and the dashboard. Delivery is at most once: a bus that
 * is down loses messages rather than stalling the dataflow that publishes them.
 */
export interface Bus {
  /** Never rejects: a publish that cannot reach the broker is counted in `stats().failed`. */
  publish(channel: string, message: BusMessage): Promise<void>;
  /**
   * Cold: each subscription opens the broker subscription (shared per pattern) and unsubscribing closes it.
   * `pattern` is an exact channel or a Redis glob (`market:*`). Invalid payloads are dropped and counted.
   * Completes when the bus is closed.
   */
  subscribe(pattern: string): Observable<BusDelivery>;
  stats(): BusStats;
  /** Completes every subscription and releases connections; later publishes count as failed. */
  close(): Promise<void>;
}
