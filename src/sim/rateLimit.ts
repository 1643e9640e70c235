/**
 * A sliding-window counter per key (an IP, an endpoint and IP, a connection): at most `limit` hits in any
 * `windowMs`. Refused attempts do not count, so a client that backs off gets through again.
 */
export class SlidingWindowLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  tryTake(key: string, nowMs: number): boolean {
    let times = this.hits.get(key);
    if (times === undefined) {
      if (this.hits.size > 10_000) this.prune(nowMs);
      times = [];
      this.hits.set(key, times);
    }
    while (times.length > 0 && (times[0] as number) <= nowMs - this.windowMs) times.shift();
    if (times.length >= this.limit) return false;
    times.push(nowMs);
    return true;
  }

  private prune(nowMs: number): void {
    for (const [key, times] of this.hits) {
      if (times.length === 0 || (times[times.length - 1] as number) <= nowMs - this.windowMs)
        this.hits.delete(key);
    }
  }
}
