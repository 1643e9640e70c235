import type { Bus } from '../bus/bus.js';
import { candleMessage, marketChannel } from '../bus/messages.js';
import type { Candle } from '../domain/candle.js';

const SAMPLES = 8192;

/**
 * Publishes each closed candle on `market:{symbol}`. Never waits and never throws: a bus that is down
 * counts the publish as failed (`bus.stats().failed`) and the pipeline goes on. Keeps the candle → broker
 * acknowledgement latency for the health endpoint and the bench.
 */
export class CandlePublisher {
  private readonly latencies = new Float64Array(SAMPLES);
  private count = 0;

  constructor(
    private readonly bus: Bus,
    private readonly now: () => number = () => performance.now(),
  ) {}

  publish(candle: Candle): void {
    if (!candle.closed) return;
    const started = this.now();
    void this.bus.publish(marketChannel(candle.symbol), candleMessage(candle)).then(() => {
      this.latencies[this.count % SAMPLES] = this.now() - started;
      this.count += 1;
    });
  }

  /** publish → acknowledged latency in ms over the last 8192 publishes. */
  latency(): { p50: number; p99: number; count: number } {
    const n = Math.min(this.count, SAMPLES);
    const sorted = Array.from(this.latencies.subarray(0, n)).sort((a, b) => a - b);
    const pick = (q: number): number => (n === 0 ? 0 : (sorted[Math.min(n - 1, Math.floor(q * n))] ?? 0));
    return { p50: pick(0.5), p99: pick(0.99), count: this.count };
  }
}
