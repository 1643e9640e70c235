import type { Subscription } from 'rxjs';
import type { Bus, BusDelivery } from '../../src/bus/bus.js';
import type { BusMessage } from '../../src/bus/messages.js';

/** Polls `condition` (every few ms) until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface Collector {
  /** Everything received except readiness probes. */
  readonly items: BusDelivery[];
  probes: number;
  completed: boolean;
  readonly subscription: Subscription;
}

export function collect(bus: Bus, pattern: string): Collector {
  const collector = { items: [] as BusDelivery[], probes: 0, completed: false } as Omit<
    Collector,
    'subscription'
  >;
  const subscription = bus.subscribe(pattern).subscribe({
    next: (delivery) => {
      if (isProbe(delivery.message)) collector.probes++;
      else collector.items.push(delivery);
    },
    complete: () => (collector.completed = true),
  });
  return Object.assign(collector, { subscription });
}

const PROBE_EVENT = 'test-probe';

function isProbe(message: BusMessage): boolean {
  return message.type === 'system' && message.event === PROBE_EVENT;
}

/**
 * Subscriptions open asynchronously on Redis (SUBSCRIBE is a round trip), and publishes made before the
 * broker has it are lost by design. So tests publish probes on `channel` until every collector saw one.
 */
export async function untilSubscribed(bus: Bus, channel: string, ...collectors: Collector[]): Promise<void> {
  const deadline = Date.now() + 5000;
  while (collectors.some((c) => c.probes === 0)) {
    if (Date.now() > deadline) throw new Error(`subscription to ${channel} never became active`);
    await bus.publish(channel, { type: 'system', tsMs: 0, event: PROBE_EVENT });
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function systemMessage(tsMs: number, event = 'test'): BusMessage {
  return { type: 'system', tsMs, event };
}
