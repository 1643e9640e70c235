import type { Bus } from '../bus/bus.js';
import { candleMessage, marketChannel } from '../bus/messages.js';
import type { Candle } from '../domain/candle.js';
import { LatencyWindow, type LatencySummary } from './latencyWindow.js';

/**
 * Publishes each closed candle on `market:{symbol}`. Never waits and never throws: a bus that is down
 * counts the publish as failed (`bus.stats().failed`) and the pipeline goes on. Keeps the candle → broker
 * acknowledgement latency for the health endpoint and the bench.
 */
export class CandlePublisher {
  private readonly latencies = new LatencyWindow();

  constructor(
    private readonly bus: Bus,
    private readonly now: () => number = () => performance.now(),
  ) {}

  publish(candle: Candle): void {
    if (!candle.closed) return;
    const started = this.now();
    void this.bus.publish(marketChannel(candle.symbol), candleMessage(candle)).then(() => {
      this.latencies.record(this.now() - started);
    });
  }

  /**
   * publish → broker acknowledgement latency in ms over the last 8192 publishes (one that fails counts
   * when the bus gives up on it).
   */
  latency(): LatencySummary {
    return this.latencies.summary();
  }
}
