import type { SchedulerLike } from 'rxjs';
import type { Logger } from '../infra/logger.js';
import type { LatencySummary } from './latencyWindow.js';

/**
 * Where a batch goes (a database table). Must be idempotent: after an outage a batch whose commit was
 * not acknowledged is written again, and a spill file may be replayed more than once.
 */
export type WriteBatch<T> = (items: readonly T[]) => Promise<unknown>;

export interface BatchWriterOptions<T> {
  /** Names the sink in logs and stats ("candles", "raw trades"). */
  readonly name: string;
  readonly write: WriteBatch<T>;
  /** Write as soon as this many items wait. Default 1000. */
  readonly maxBatch?: number;
  /**
   * How long an item may wait for companions before its batch is written. Default 0: the batch is written
   * on the next turn of the scheduler, so a burst emitted together (every symbol's candle at the close of a
   * minute) becomes one batch. The bound is 250 ms; anything above is refused.
   */
  readonly lingerMs?: number;
  /**
   * Items kept in memory while the database is unreachable. Past this bound new items go to the spill
   * file (in order) and are replayed from it once the queue has drained. Default 100 000 (a candle
   * collector for 10 symbols produces ~14 candles a minute: this is days).
   */
  readonly maxQueued?: number;
  /** Append-only JSON-lines file for items beyond `maxQueued`; without it, items beyond the bound are refused loudly. */
  readonly spillPath?: string;
  /**
   * Append-only JSON-lines file for the items the database refuses (see `isDataError`), one line each:
   * `{"row": …, "sqlstate": "22003", "message": …, "detail"?: …, "time": ISO-8601}`. Without it refused
   * items are only logged.
   */
  readonly deadLetterPath?: string;
  readonly toJson?: (item: T) => unknown;
  readonly fromJson?: (json: unknown) => T;
  /** Retry backoff after a failed write: base·2^(n−1) capped at max. Defaults 200 ms and 10 s. */
  readonly retry?: { readonly baseMs?: number; readonly maxMs?: number };
  /**
   * Errors that say the database refuses the items themselves, versus errors worth retrying (the database
   * is away, or cannot take anything until someone fixes it). A batch refused for its data is split in
   * halves, down to single items, so that every item the database takes is stored; the refused ones go
   * to the dead-letter file. Default: `isDataDbError`.
   */
  readonly isDataError?: (err: unknown) => boolean;
  readonly scheduler?: SchedulerLike;
  readonly logger?: Logger;
  readonly random?: () => number;
  /** Wall clock for latency figures. */
  readonly now?: () => number;
}

export interface BatchWriterStats {
  /** Items handed to `add`. */
  readonly received: number;
  /** Items in batches that the database acknowledged. */
  readonly written: number;
  readonly batches: number;
  /** Items waiting in memory. */
  readonly queued: number;
  /** Items written to the spill file since start (replayed or not). */
  readonly spilled: number;
  /** Spilled items not yet replayed. */
  readonly spillPending: number;
  /** Failed write attempts (each retried). */
  readonly failures: number;
  /**
   * Items that were not stored and never will be: refused by the database (see `isDataError`; also in
   * `deadLettered` when they reached the dead-letter file), unreadable spill lines, or refused by a full
   * queue without a spill file.
   */
  readonly rejected: number;
  /** Refused items written to the dead-letter file. */
  readonly deadLettered: number;
  /** True while writes are failing. */
  readonly degraded: boolean;
  /** add → commit latency of written items, ms, on the `now` clock (window: the last 8192). */
  readonly latency: LatencySummary;
}
