/** Connection health of the OKX feed, as data: logged periodically and served by the API. */
export interface FeedHealth {
  readonly connected: boolean;
  readonly url: string | undefined;
  readonly reconnects: number;
  /** ms since the last frame of any kind; undefined before the first. */
  readonly lastMessageAgeMs: number | undefined;
  /** Frames per second since the previous snapshot. */
  readonly messagesPerSec: number;
  /** Exchange trade time → our receive time, over the last 2,048 pushes (includes clock offset). */
  readonly latencyP50Ms: number | undefined;
  readonly latencyP99Ms: number | undefined;
  readonly tradesEmitted: number;
  readonly backfilledTrades: number;
  readonly duplicatesDropped: number;
  readonly malformedFrames: number;
  readonly gaps: number;
  readonly symbolErrors: number;
  readonly restRateLimited: number;
}

const SAMPLES = 2048;

export class HealthTracker {
  reconnects = 0;
  messages = 0;
  tradesEmitted = 0;
  backfilledTrades = 0;
  duplicatesDropped = 0;
  malformedFrames = 0;
  gaps = 0;
  symbolErrors = 0;
  lastMessageAtMs: number | undefined;
  private readonly latencies = new Float64Array(SAMPLES);
  private latencyCount = 0;
  private lastSnapshotAtMs: number;
  private lastSnapshotMessages = 0;

  constructor(private readonly now: () => number) {
    this.lastSnapshotAtMs = now();
  }

  message(): void {
    this.messages += 1;
    this.lastMessageAtMs = this.now();
  }

  latency(exchangeTsMs: number): void {
    this.latencies[this.latencyCount % SAMPLES] = this.now() - exchangeTsMs;
    this.latencyCount += 1;
  }

  snapshot(connected: boolean, url: string | undefined, restRateLimited: number): FeedHealth {
    const now = this.now();
    const elapsed = Math.max(1, now - this.lastSnapshotAtMs);
    const messagesPerSec = ((this.messages - this.lastSnapshotMessages) * 1000) / elapsed;
    this.lastSnapshotAtMs = now;
    this.lastSnapshotMessages = this.messages;
    const n = Math.min(this.latencyCount, SAMPLES);
    const sorted = Array.from(this.latencies.subarray(0, n)).sort((a, b) => a - b);
    const pct = (p: number): number | undefined =>
      n === 0 ? undefined : sorted[Math.min(n - 1, Math.floor(p * n))];
    return {
      connected,
      url,
      reconnects: this.reconnects,
      lastMessageAgeMs: this.lastMessageAtMs === undefined ? undefined : now - this.lastMessageAtMs,
      messagesPerSec: Math.round(messagesPerSec * 10) / 10,
      latencyP50Ms: pct(0.5),
      latencyP99Ms: pct(0.99),
      tradesEmitted: this.tradesEmitted,
      backfilledTrades: this.backfilledTrades,
      duplicatesDropped: this.duplicatesDropped,
      malformedFrames: this.malformedFrames,
      gaps: this.gaps,
      symbolErrors: this.symbolErrors,
      restRateLimited,
    };
  }
}
