import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { InternalError, UsageError } from '../domain/errors.js';
import { backoffWith } from '../infra/rateLimiter.js';
import { silentLogger, type Logger } from '../infra/logger.js';
import { isDataDbError } from '../storage/dataErrors.js';
import { writeBisecting, type BisectingWriter, type Refused, type WriteOutcome } from './bisectingWrite.js';
import { describeRefusal, recordRefused } from './deadLetterFile.js';
import type { BatchWriterOptions, BatchWriterStats } from './batchWriterOptions.js';
import { LatencyWindow } from './latencyWindow.js';
import { Outage, type Backlog } from './outage.js';
import { SpillFile } from './spillFile.js';
import { replaySpillChunk } from './spillReplay.js';

export type { BatchWriterOptions, BatchWriterStats, WriteBatch } from './batchWriterOptions.js';

const RETRY_BACKOFF = { baseMs: 200, maxMs: 10_000, jitter: 0.2 };

interface Queued<T> {
  readonly item: T;
  readonly addedMs: number;
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
  private readonly bisecting: BisectingWriter<T>;
  private timer: Subscription | undefined;
  private inFlight: Promise<void> | undefined;
  private attempt = 0;
  private readonly outage: Outage;
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
    const spillNote = options.spillPath ? `, then spilling to ${options.spillPath}` : '';
    this.outage = new Outage(
      options.name,
      this.log,
      this.now,
      `queueing in memory (up to ${this.maxQueued}${spillNote}) and retrying`,
    );
    this.random = options.random ?? Math.random;
    this.bisecting = {
      write: (items) => options.write(items),
      isDataError: options.isDataError ?? isDataDbError,
      onWritten: (count) => this.onWritten(count),
    };
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
    if (this.inFlight !== undefined || this.outage.active) return;
    if (this.queue.length >= this.maxBatch) this.schedule(0, true);
    else this.schedule(this.lingerMs);
  }

  stats(): BatchWriterStats {
    return {
      ...this.counts,
      queued: this.queue.length,
      spillPending: this.spill?.pending ?? 0,
      degraded: this.outage.active,
      latency: this.latencies.summary(),
    };
  }

  /** Resolves when everything added so far is committed (waits through an outage). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight !== undefined || (this.spill?.pending ?? 0) > 0) {
      if (this.inFlight === undefined && !this.outage.active) this.schedule(0, true);
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
      if (this.outage.active) return; // a retry is scheduled
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
    if (this.spill === undefined) return;
    await replaySpillChunk({
      spill: this.spill,
      maxItems: this.maxBatch,
      name: this.options.name,
      log: this.log,
      fromJson: this.options.fromJson ?? ((j: unknown) => j as T),
      store: (items) => this.store(items),
      unreadable: () => (this.counts.rejected += 1),
    });
  }

  /** Writes `items` in order (bisecting on refusals): refused items are dead-lettered, an outage backs off. */
  private async store(items: readonly T[]): Promise<WriteOutcome<T>> {
    const outcome = await writeBisecting(this.bisecting, items);
    if (outcome.refused.length > 0) this.refuse(outcome.refused, items.length);
    if (outcome.failure !== undefined) this.onFailure(outcome.failure.err);
    return outcome;
  }

  private onWritten(count: number): void {
    this.counts.written += count;
    this.counts.batches += 1;
    this.outage.recovered(this.backlog());
    this.attempt = 0;
  }

  private backlog(): Backlog {
    return { queued: this.queue.length, spillPending: this.spill?.pending ?? 0 };
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
    const delay = backoffWith(this.attempt, this.options.retry, RETRY_BACKOFF, this.random);
    this.outage.failed(err, this.backlog(), this.attempt);
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
