import type { Middleware } from 'koa';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Bus } from '../bus/bus.js';
import type { BusMessage } from '../bus/messages.js';

/**
 * The Prometheus metrics of one app (its own registry, so several apps in one process do not collide):
 * process defaults, API latency, what crossed the bus (candles, signals, fills), the bus's own counters and
 * the backtests running.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly requestSeconds: Histogram<'method' | 'route' | 'status'>;
  private readonly busMessages: Counter<'type'>;
  /** Close time of the newest candle seen on the bus (any symbol, any process; the feed's clock). */
  lastCandleMs: number | undefined;
  /** When (wall clock, `now`) the last candle arrived on the bus. */
  lastCandleSeenMs: number | undefined;

  constructor(
    bus: Bus,
    backtestsRunning: () => number,
    private readonly now: () => number,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'rxtrade_' });
    this.requestSeconds = new Histogram({
      name: 'rxtrade_http_request_duration_seconds',
      help: 'HTTP API latency by route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    this.busMessages = new Counter({
      name: 'rxtrade_bus_messages_received_total',
      help: 'Bus messages seen by this API by type (candle = candles closed, fill = fills, signal = signals)',
      labelNames: ['type'],
      registers,
    });
    const stat = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    };
    stat(
      'rxtrade_bus_published_total',
      'Messages this process published on the bus',
      () => bus.stats().published,
    );
    stat('rxtrade_bus_failed_total', 'Publishes that could not reach the broker', () => bus.stats().failed);
    stat('rxtrade_bus_dropped_total', 'Received bus payloads that were invalid', () => bus.stats().dropped);
    stat('rxtrade_bus_connected', '1 when the bus is connected', () => (bus.stats().connected ? 1 : 0));
    stat('rxtrade_backtests_running', 'Backtests running in workers', backtestsRunning);
    stat(
      'rxtrade_last_candle_age_seconds',
      'Seconds (wall clock) since the last candle arrived on the bus (NaN: none yet)',
      () =>
        this.lastCandleSeenMs === undefined ? Number.NaN : Math.max(0, now() - this.lastCandleSeenMs) / 1000,
    );
  }

  /** Counts a bus message (and remembers the newest candle). */
  observe(message: BusMessage): void {
    this.busMessages.inc({ type: message.type });
    if (message.type !== 'candle') return;
    this.lastCandleSeenMs = this.now();
    if ((this.lastCandleMs ?? 0) < message.closeTimeMs) this.lastCandleMs = message.closeTimeMs;
  }

  /** Times every request by its route template (unmatched paths are one label, so cardinality stays small). */
  middleware(): Middleware {
    return async (ctx, next) => {
      const end = this.requestSeconds.startTimer();
      try {
        await next();
      } finally {
        const route = typeof ctx.state.route === 'string' ? ctx.state.route : 'unmatched';
        end({ method: ctx.method, route, status: String(ctx.status) });
      }
    };
  }
}
