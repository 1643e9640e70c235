import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { InternalError, UsageError } from '../domain/errors.js';
import { backoffMs } from '../infra/rateLimiter.js';
import { silentLogger, type Logger } from '../infra/logger.js';
import { isDataDbError } from '../storage/dataErrors.js';
import { describeRefusal, recordRefused } from './deadLetterFile.js';
import type { BatchWriterOptions, BatchWriterStats } from './batchWriterOptions.js';
import { LatencyWindow } from './latencyWindow.js';
import { SpillFile } from './spillFile.js';

export type { BatchWriterOptions, BatchWriterStats, WriteBatch } from './batchWriterOptions.js';

interface Queued<T> {
  readonly item: T;
  readonly addedMs: number;
}

/** An item the database refused, at `index` in its batch. */
interface Refused<T> {
  readonly index: number;
  readonly item: T;
  readonly err: unknown;
}

interface WriteOutcome<T> {
  /** Leading items of the batch that are done: stored or refused. */
  settled: number;
  readonly refused: Refused<T>[];
}

/**
 * Writes items to the database in batches, in order, one batch at a time, and loses nothing when the
 * database goes away: failed batches stay at the head of the queue and are retried with exponential
 * backoff while new items queue behind them; past `maxQueued` items they go to an append-only spill file
 * that is replayed, in order, once the database is back (and on the next start if the process stopped
 * first). One bad item never costs its batch: a batch the database refuses for its data is bisected until
 * every item it takes is stored, and the refused items go to the dead-letter file with the reason. The
 * producer never waits: `add` is synchronous, so the live pipeline keeps running.
 */
export class BatchWriter<T> {
  private readonly queue: Queued<T>[] = [];
  private readonly maxBatch: number;
  private readonly lingerMs: number;
  private readonly maxQueued: number;
  private readonly scheduler: SchedulerLike;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly isDataError: (err: unknown) => boolean;
  private timer: Subscription | undefined;
  private inFlight: Promise<void> | undefined;
  private attempt = 0;
  private degradedSinceMs: number | undefined;
  private lastOutageLogMs = 0;
  private closed = false;
  /** Items beyond the memory bound, in order, replayed once the queue has drained. */
  private readonly spill: SpillFile | undefined;
  private readonly latencies = new LatencyWindow();
  private counts = {
    received: 0,
    written: 0,
    batches: 0,
    spilled: 0,
    failures: 0,
    rejected: 0,
    deadLettered: 0,
  };
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: BatchWriterOptions<T>) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.lingerMs = options.lingerMs ?? 0;
    if (!(this.lingerMs >= 0 && this.lingerMs <= 250)) {
      throw new UsageError(`${options.name} sink: lingerMs must be within 0..250, got ${this.lingerMs}`);
    }
    if (!(this.maxBatch >= 1)) throw new UsageError(`${options.name} sink: maxBatch must be ≥ 1`);
    this.maxQueued = options.maxQueued ?? 100_000;
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.log = (options.logger ?? silentLogger).child({ sink: options.name });
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.isDataError = options.isDataError ?? isDataDbError;
    const path = options.spillPath;
    this.spill = path === undefined ? undefined : new SpillFile(path, this.log);
    // Left over from a run that stopped during an outage: replay it before anything newer.
    const left = this.spill?.resume() ?? 0;
    if (left > 0) {
      this.log.warn(
        { spillPath: path, items: left },
        `replaying ${left} spilled ${options.name} from a previous run`,
      );
      this.schedule(0);
    }
  }

  /** Queues one item; never blocks and never throws for an outage. */
  add(item: T): void {
    if (this.closed) throw new InternalError(`${this.options.name} sink is closed`);
    this.counts.received += 1;
    if (this.spill?.active === true || this.queue.length >= this.maxQueued) {
      this.toSpill(item);
      return;
    }
    this.queue.push({ item, addedMs: this.now() });
    if (this.inFlight !== undefined || this.degradedSinceMs !== undefined) return;
    if (this.queue.length >= this.maxBatch) this.schedule(0, true);
    else this.schedule(this.lingerMs);
  }

  stats(): BatchWriterStats {
    return {
      ...this.counts,
      queued: this.queue.length,
      spillPending: this.spill?.pending ?? 0,
      degraded: this.degradedSinceMs !== undefined,
      latency: this.latencies.summary(),
    };
  }

  /** Resolves when everything added so far is committed (waits through an outage). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight !== undefined || (this.spill?.pending ?? 0) > 0) {
      if (this.inFlight === undefined && this.degradedSinceMs === undefined) this.schedule(0, true);
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  /**
   * Stops: tries to commit what is queued within `timeoutMs`; whatever the database did not take by then is
   * appended to the spill file (when one is configured) so the next start replays it. The whole close fits
   * in `timeoutMs` (plus the spill write): a stop has a deadline (Ctrl-C: 2 s for the whole process).
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    const deadlineMs = Date.now() + timeoutMs;
    let timedOut = false;
    const deadline = new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timedOut = true;
        resolve();
      }, timeoutMs);
      t.unref();
    });
    await Promise.race([this.drain(), deadline]);
    this.closed = true;
    this.timer?.unsubscribe();
    // A write still in flight stays queued: spilled below, and harmless if it commits too (upserts).
    const left = deadlineMs - Date.now();
    if (this.inFlight !== undefined && left > 0) await Promise.race([this.inFlight, sleep(left)]);
    if (timedOut && this.queue.length > 0) {
      if (this.spill !== undefined) {
        // The queue is older than anything already in the spill file, so it goes first: rewrite the file.
        await this.spill.prepend(this.queue.splice(0).map((q) => this.toJson(q.item)));
        this.log.error(
          { spillPath: this.options.spillPath, items: this.spill?.pending },
          `database unavailable at shutdown: ${this.options.name} kept in the spill file for the next start`,
        );
      } else {
        this.log.error(
          { lost: this.queue.length },
          `database unavailable at shutdown and no spill file: ${this.queue.length} ${this.options.name} not stored`,
        );
      }
    }
    await this.spill?.close();
  }

  private toJson(item: T): unknown {
    return this.options.toJson === undefined ? item : this.options.toJson(item);
  }

  private schedule(delayMs: number, replace = false): void {
    if (this.closed) return;
    if (this.timer !== undefined && !replace) return;
    this.timer?.unsubscribe();
    this.timer = this.scheduler.schedule(() => {
      this.timer = undefined;
      this.kick();
    }, delayMs);
  }

  private kick(): void {
    if (this.inFlight !== undefined) return;
    const run =
      this.queue.length > 0 ? this.writeHead() : this.spill?.active === true ? this.replaySpill() : undefined;
    if (run === undefined) {
      this.wakeIdle();
      return;
    }
    this.inFlight = run.finally(() => {
      this.inFlight = undefined;
      if (this.closed) return this.wakeIdle();
      if (this.degradedSinceMs !== undefined) return; // a retry is scheduled
      if (this.queue.length > 0 || this.spill?.active === true) this.schedule(0, true);
      else this.wakeIdle();
    });
  }

  private async writeHead(): Promise<void> {
    const batch = this.queue.slice(0, this.maxBatch);
    const outcome = await this.store(batch.map((q) => q.item));
    // Settled items (stored or refused) leave the queue; after an outage the rest stays at its head.
    this.queue.splice(0, outcome.settled);
    const now = this.now();
    const refused = new Set(outcome.refused.map((r) => r.index));
    for (let i = 0; i < outcome.settled; i++) {
      if (!refused.has(i)) this.latencies.record(now - (batch[i] as Queued<T>).addedMs);
    }
  }

  /** Writes the next chunk of the spill file; the file is removed once everything in it is stored. */
  private async replaySpill(): Promise<void> {
    const spill = this.spill;
    if (spill === undefined) return;
    const chunk = await spill.read(this.maxBatch);
    if (chunk.lines.length === 0) {
      // Everything appended has been stored; anything added from now on goes straight to the queue.
      if (await spill.consume(chunk, 0)) {
        this.log.warn(
          { spillPath: spill.path },
          `spill file replayed; ${this.options.name} are queued in memory again`,
        );
      }
      return;
    }
    const fromJson = this.options.fromJson ?? ((j: unknown) => j as T);
    const items: T[] = [];
    /** Index in `chunk.lines` of each item. */
    const lineOf: number[] = [];
    for (const [i, line] of chunk.lines.entries()) {
      try {
        items.push(fromJson(JSON.parse(line)));
        lineOf.push(i);
      } catch (err) {
        // A torn last line (the process died mid-append) or a damaged file: say what, go on with the rest.
        this.counts.rejected += 1;
        this.log.error(
          { err, spillPath: spill.path, line: line.slice(0, 200) },
          'unreadable line in the spill file, skipped',
        );
      }
    }
    const settled = items.length === 0 ? 0 : (await this.store(items)).settled;
    // Lines up to the first unsettled item are done; after an outage the rest is read again.
    await spill.consume(chunk, settled < items.length ? (lineOf[settled] as number) : chunk.lines.length);
  }

  /**
   * Writes `items` in order. A batch the database refuses for its data is split in halves, and halves of
   * halves, down to single items: every item it takes is stored, each one it refuses is dead-lettered
   * (one log line for the batch). Any other failure stops the writing and starts the retry backoff;
   * `settled` then counts the leading items that are done (stored or refused): the rest are to be retried.
   */
  private async store(items: readonly T[]): Promise<WriteOutcome<T>> {
    const outcome: WriteOutcome<T> = { settled: 0, refused: [] };
    const failure = await this.writeSplitting(items, 0, outcome);
    if (outcome.refused.length > 0) this.refuse(outcome.refused, items.length);
    if (failure !== undefined) this.onFailure(failure.err);
    return outcome;
  }

  /**
   * Writes `items` (starting at `offset` in the batch), splitting on data errors; returns a failure that is
   * not one. `refusedWhole`: these items are known to be refused together (their batch was, and the half
   * before them was stored whole), so writing them whole again is skipped: that saves a write per level.
   */
  private async writeSplitting(
    items: readonly T[],
    offset: number,
    outcome: WriteOutcome<T>,
    refusedWhole = false,
  ): Promise<{ err: unknown } | undefined> {
    if (!refusedWhole || items.length === 1) {
      try {
        await this.options.write(items);
        outcome.settled = offset + items.length;
        this.onWritten(items.length);
        return undefined;
      } catch (err) {
        if (!this.isDataError(err)) return { err };
        if (items.length === 1) {
          outcome.refused.push({ index: offset, item: items[0] as T, err });
          outcome.settled = offset + 1;
          return undefined;
        }
      }
    }
    const half = Math.ceil(items.length / 2);
    const refusedBefore = outcome.refused.length;
    const failure = await this.writeSplitting(items.slice(0, half), offset, outcome);
    if (failure !== undefined) return failure;
    const firstHalfStored = outcome.refused.length === refusedBefore;
    return this.writeSplitting(items.slice(half), offset + half, outcome, firstHalfStored);
  }

  private onWritten(count: number): void {
    this.counts.written += count;
    this.counts.batches += 1;
    if (this.degradedSinceMs !== undefined) {
      this.log.warn(
        {
          downForMs: this.now() - this.degradedSinceMs,
          queued: this.queue.length,
          spillPending: this.spill?.pending ?? 0,
        },
        `database is back: writing queued ${this.options.name} in order`,
      );
      this.degradedSinceMs = undefined;
    }
    this.attempt = 0;
  }

  /** Appends refused items to the dead-letter file, and says so once for the batch they came in. */
  private refuse(refused: readonly Refused<T>[], batchSize: number): void {
    const time = new Date(this.now()).toISOString();
    const records = refused.map((r) => ({ row: this.toJson(r.item), ...describeRefusal(r.err), time }));
    this.counts.rejected += refused.length;
    this.counts.deadLettered += recordRefused(
      records,
      batchSize,
      this.options.name,
      this.options.deadLetterPath,
      this.log,
    );
  }

  private onFailure(err: unknown): void {
    this.counts.failures += 1;
    this.attempt += 1;
    const now = this.now();
    const base = this.options.retry?.baseMs ?? 200;
    const max = this.options.retry?.maxMs ?? 10_000;
    const delay = backoffMs(this.attempt, base, max, 0.2, this.random);
    if (this.degradedSinceMs === undefined) {
      this.degradedSinceMs = now;
      this.lastOutageLogMs = now;
      this.log.error(
        { err: String(err instanceof Error ? err.message : err), queued: this.queue.length },
        `cannot write ${this.options.name}: queueing in memory (up to ${this.maxQueued}${this.options.spillPath ? `, then spilling to ${this.options.spillPath}` : ''}) and retrying`,
      );
    } else if (now - this.lastOutageLogMs >= 10_000) {
      this.lastOutageLogMs = now;
      this.log.error(
        {
          err: String(err instanceof Error ? err.message : err),
          downForMs: now - this.degradedSinceMs,
          queued: this.queue.length,
          spillPending: this.spill?.pending ?? 0,
          attempts: this.attempt,
        },
        `still cannot write ${this.options.name}`,
      );
    }
    this.schedule(delay, true);
  }

  private toSpill(item: T): void {
    if (this.spill === undefined) {
      this.counts.rejected += 1;
      if (this.counts.rejected === 1 || this.counts.rejected % 1000 === 0) {
        this.log.error(
          { refused: this.counts.rejected, maxQueued: this.maxQueued },
          `${this.options.name} queue is full and no spill file is configured: refusing new items`,
        );
      }
      return;
    }
    if (this.spill.append(this.toJson(item))) {
      this.log.error(
        { spillPath: this.spill.path, maxQueued: this.maxQueued },
        `${this.options.name} queue is full: spilling to ${this.spill.path} until the database catches up`,
      );
    }
    this.counts.spilled += 1;
  }

  private wakeIdle(): void {
    for (const w of this.idleWaiters.splice(0)) w();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
