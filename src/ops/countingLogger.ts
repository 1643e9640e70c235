import type { Logger } from '../infra/logger.js';

/**
 * A Logger that counts its warnings and errors by message (the soak reports how often each recovery path
 * ran: reconnects, backfills, malformed frames; numbers in a message count as one kind) and passes every line on to `inner`.
 */
export class CountingLogger implements Logger {
  constructor(
    private readonly inner: Logger,
    readonly counts: Map<string, number> = new Map(),
  ) {}

  debug(obj: object, msg?: string): void {
    this.inner.debug(obj, msg);
  }
  info(obj: object, msg?: string): void {
    this.inner.info(obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.count('warn', msg);
    this.inner.warn(obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.count('error', msg);
    this.inner.error(obj, msg);
  }
  child(bindings: Record<string, unknown>): Logger {
    return new CountingLogger(this.inner.child(bindings), this.counts);
  }

  private count(level: string, msg = ''): void {
    // Numbers vary from line to line (durations, counts): one key per kind of line.
    const key = `${level}: ${msg.replace(/\d+(?:\.\d+)?/g, '#').slice(0, 140)}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
}
