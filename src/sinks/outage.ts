import type { Logger } from '../infra/logger.js';

/** Where a sink's backlog stands, for the outage log lines. */
export interface Backlog {
  readonly queued: number;
  readonly spillPending: number;
}

/**
 * A database outage as a sink sees it: since when, and its log lines — the first failure (saying where
 * items go meanwhile), then at most one every 10 s while it lasts, and the recovery.
 */
export class Outage {
  private sinceMs: number | undefined;
  private lastLogMs = 0;

  constructor(
    private readonly name: string,
    private readonly log: Logger,
    private readonly now: () => number,
    /** Where items go during an outage, e.g. "queueing in memory (up to 100000) and retrying". */
    private readonly meanwhile: string,
  ) {}

  get active(): boolean {
    return this.sinceMs !== undefined;
  }

  failed(err: unknown, backlog: Backlog, attempts: number): void {
    const now = this.now();
    const message = String(err instanceof Error ? err.message : err);
    if (this.sinceMs === undefined) {
      this.sinceMs = now;
      this.lastLogMs = now;
      this.log.error(
        { err: message, queued: backlog.queued },
        `cannot write ${this.name}: ${this.meanwhile}`,
      );
    } else if (now - this.lastLogMs >= 10_000) {
      this.lastLogMs = now;
      this.log.error(
        { err: message, downForMs: now - this.sinceMs, ...backlog, attempts },
        `still cannot write ${this.name}`,
      );
    }
  }

  /** A write went through: ends the outage, if any. */
  recovered(backlog: Backlog): void {
    if (this.sinceMs === undefined) return;
    this.log.warn(
      { downForMs: this.now() - this.sinceMs, ...backlog },
      `database is back: writing queued ${this.name} in order`,
    );
    this.sinceMs = undefined;
  }
}
