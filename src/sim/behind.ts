/**
 * The warning that the consumer cannot keep up with the replay (a client's send buffer growing, trades
 * generated later than their time): one line, at most once every `everyMs` of wall time, counting what it
 * held back — a lagging replay would otherwise warn on every 10 ms tick.
 */
export class BehindWarning {
  private lastMs = -Infinity;
  private held = 0;

  constructor(
    private readonly warn: (line: string) => void,
    private readonly everyMs = 10_000,
    private readonly wallNow: () => number = Date.now,
  ) {}

  /** `line` is only built when it is said (it may be noted on every push). */
  note(line: () => string): void {
    const now = this.wallNow();
    if (now - this.lastMs < this.everyMs) {
      this.held += 1;
      return;
    }
    const more = this.held > 0 ? ` (and ${this.held} more times since the last warning)` : '';
    this.warn(`${line()}${more}`);
    this.lastMs = now;
    this.held = 0;
  }
}
