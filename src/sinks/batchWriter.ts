import { once } from 'node:events';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { backoffMs } from '../infra/rateLimiter.js';
import { silentLogger, type Logger } from '../infra/logger.js';

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
   * minute) becomes one batch. The issue's bound is 250 ms; anything above is refused.
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
  readonly toJson?: (item: T) => unknown;
  readonly fromJson?: (json: unknown) => T;
  /** Retry backoff after a failed write: base·2^(n−1) capped at max. Defaults 200 ms and 10 s. */
  readonly retry?: { readonly baseMs?: number; readonly maxMs?: number };
  /**
   * Errors worth retrying (the database is away) versus errors that retrying cannot fix (the data is
   * wrong). Default: only SQLSTATE classes 22 (data), 23 (constraints) and 42 (syntax, missing table) are
   * permanent; anything else, including connection failures without a code, is retried.
   */
  readonly isPermanent?: (err: unknown) => boolean;
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
  /** Items in batches refused for good (logged with the error); see `isPermanent`. */
  readonly rejected: number;
  /** True while writes are failing. */
  readonly degraded: boolean;
  /** add → commit latency of written items, ms (since start). */
  readonly latency: {
    readonly p50: number;
    readonly p99: number;
    readonly max: number;
    readonly count: number;
  };
}

interface Queued<T> {
  readonly item: T;
  readonly addedMs: number;
}

const PERMANENT_SQLSTATE_CLASSES = new Set(['22', '23', '42']);

export function isPermanentDbError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
      return PERMANENT_SQLSTATE_CLASSES.has(code.slice(0, 2));
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

const LATENCY_SAMPLES = 8192;

/**
 * Writes items to the database in batches, in order, one batch at a time, and loses nothing when the
 * database goes away: failed batches stay at the head of the queue and are retried with exponential
 * backoff while new items queue behind them; past `maxQueued` items they go to an append-only spill file
 * that is replayed, in order, once the database is back (and on the next start if the process stopped
 * first). The producer never waits: `add` is synchronous, so the live pipeline keeps running.
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
  private readonly isPermanent: (err: unknown) => boolean;
  private timer: Subscription | undefined;
  private inFlight: Promise<void> | undefined;
  private attempt = 0;
  private degradedSinceMs: number | undefined;
  private lastOutageLogMs = 0;
  private closed = false;
  /** Spill file state: items beyond the memory bound, appended in order and replayed from byte `readOffset`. */
  private spill: { pending: number; readOffset: number } | undefined;
  private spillOut: ReturnType<typeof createWriteStream> | undefined;
  private readonly latencies = new Float64Array(LATENCY_SAMPLES);
  private latencyCount = 0;
  private latencyMax = 0;
  private counts = { received: 0, written: 0, batches: 0, spilled: 0, failures: 0, rejected: 0 };
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: BatchWriterOptions<T>) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.lingerMs = options.lingerMs ?? 0;
    if (!(this.lingerMs >= 0 && this.lingerMs <= 250)) {
      throw new RangeError(`${options.name} sink: lingerMs must be within 0..250, got ${this.lingerMs}`);
    }
    if (!(this.maxBatch >= 1)) throw new RangeError(`${options.name} sink: maxBatch must be ≥ 1`);
    this.maxQueued = options.maxQueued ?? 100_000;
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.log = (options.logger ?? silentLogger).child({ sink: options.name });
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.isPermanent = options.isPermanent ?? isPermanentDbError;
    const path = options.spillPath;
    if (path !== undefined && existsSync(path) && statSync(path).size > 0) {
      // Left over from a run that stopped during an outage: replay it before anything newer.
      const lines = countLines(path);
      this.spill = { pending: lines, readOffset: 0 };
      this.log.warn(
        { spillPath: path, items: lines },
        `replaying ${lines} spilled ${options.name} from a previous run`,
      );
      this.schedule(0);
    }
  }

  /** Queues one item; never blocks and never throws for an outage. */
  add(item: T): void {
    if (this.closed) throw new Error(`${this.options.name} sink is closed`);
    this.counts.received += 1;
    if (this.spill !== undefined || this.queue.length >= this.maxQueued) {
      this.toSpill(item);
      return;
    }
    this.queue.push({ item, addedMs: this.now() });
    if (this.inFlight !== undefined || this.degradedSinceMs !== undefined) return;
    if (this.queue.length >= this.maxBatch) this.schedule(0, true);
    else this.schedule(this.lingerMs);
  }

  stats(): BatchWriterStats {
    const n = Math.min(this.latencyCount, LATENCY_SAMPLES);
    const sorted = Array.from(this.latencies.subarray(0, n)).sort((a, b) => a - b);
    const pick = (q: number): number => (n === 0 ? 0 : (sorted[Math.min(n - 1, Math.floor(q * n))] ?? 0));
    return {
      ...this.counts,
      queued: this.queue.length,
      spillPending: this.spill?.pending ?? 0,
      degraded: this.degradedSinceMs !== undefined,
      latency: { p50: pick(0.5), p99: pick(0.99), max: this.latencyMax, count: this.latencyCount },
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
   * appended to the spill file (when one is configured) so the next start replays it.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
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
    if (this.inFlight !== undefined) await Promise.race([this.inFlight, sleep(1000)]);
    if (timedOut && this.queue.length > 0) {
      if (this.options.spillPath !== undefined) {
        // The queue is older than anything already in the spill file, so it goes first: rewrite the file.
        await this.prependToSpill(this.queue.splice(0).map((q) => q.item));
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
    await this.closeSpillOut();
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
      this.queue.length > 0 ? this.writeHead() : this.spill !== undefined ? this.replaySpill() : undefined;
    if (run === undefined) {
      this.wakeIdle();
      return;
    }
    this.inFlight = run.finally(() => {
      this.inFlight = undefined;
      if (this.closed) return this.wakeIdle();
      if (this.degradedSinceMs !== undefined) return; // a retry is scheduled
      if (this.queue.length > 0 || this.spill !== undefined) this.schedule(0, true);
      else this.wakeIdle();
    });
  }

  private async writeHead(): Promise<void> {
    const batch = this.queue.slice(0, this.maxBatch);
    const ok = await this.attemptWrite(batch.map((q) => q.item));
    if (ok === 'retry') return;
    this.queue.splice(0, batch.length);
    if (ok === 'written') {
      const now = this.now();
      for (const q of batch) this.recordLatency(now - q.addedMs);
    }
  }

  /** Writes the next chunk of the spill file; the file is removed once everything in it is stored. */
  private async replaySpill(): Promise<void> {
    const spill = this.spill;
    const path = this.options.spillPath;
    if (spill === undefined || path === undefined) return;
    await this.flushSpillOut();
    const chunk = await readLinesAt(path, spill.readOffset, this.maxBatch);
    if (chunk.lines.length === 0) {
      if (chunk.bytes === 0 && this.spill === spill) {
        // Everything appended has been stored; anything added from now on goes straight to the queue.
        await this.closeSpillOut();
        unlinkSync(path);
        this.spill = undefined;
        this.log.warn(
          { spillPath: path },
          `spill file replayed; ${this.options.name} are queued in memory again`,
        );
      }
      spill.readOffset += chunk.bytes;
      return;
    }
    const fromJson = this.options.fromJson ?? ((j: unknown) => j as T);
    const items: T[] = [];
    for (const line of chunk.lines) {
      try {
        items.push(fromJson(JSON.parse(line)));
      } catch (err) {
        // A torn last line (the process died mid-append) or a damaged file: say what, go on with the rest.
        this.counts.rejected += 1;
        this.log.error(
          { err, spillPath: path, line: line.slice(0, 200) },
          'unreadable line in the spill file, skipped',
        );
      }
    }
    const ok = items.length === 0 ? 'written' : await this.attemptWrite(items);
    if (ok === 'retry') return;
    spill.readOffset += chunk.bytes;
    spill.pending = Math.max(0, spill.pending - chunk.lines.length);
  }

  private async attemptWrite(items: readonly T[]): Promise<'written' | 'rejected' | 'retry'> {
    try {
      await this.options.write(items);
    } catch (err) {
      if (this.isPermanent(err)) {
        this.counts.rejected += items.length;
        this.log.error(
          { err, items: items.length, sample: items.slice(0, 3).map(this.options.toJson ?? ((x: T) => x)) },
          `${this.options.name}: batch refused by the database, not retried`,
        );
        return 'rejected';
      }
      this.onFailure(err);
      return 'retry';
    }
    this.counts.written += items.length;
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
    return 'written';
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
    const path = this.options.spillPath;
    if (path === undefined) {
      this.counts.rejected += 1;
      if (this.counts.rejected === 1 || this.counts.rejected % 1000 === 0) {
        this.log.error(
          { refused: this.counts.rejected, maxQueued: this.maxQueued },
          `${this.options.name} queue is full and no spill file is configured: refusing new items`,
        );
      }
      return;
    }
    if (this.spillOut === undefined) {
      mkdirSync(dirname(path), { recursive: true });
      this.spillOut = createWriteStream(path, { flags: 'a' });
      this.spillOut.on('error', (err) =>
        this.log.error({ err, spillPath: path }, 'cannot append to the spill file'),
      );
    }
    if (this.spill === undefined) {
      this.spill = { pending: 0, readOffset: existsSync(path) ? statSync(path).size : 0 };
      this.log.error(
        { spillPath: path, maxQueued: this.maxQueued },
        `${this.options.name} queue is full: spilling to ${path} until the database catches up`,
      );
    }
    const json = (this.options.toJson ?? ((x: T) => x))(item);
    this.spillOut.write(`${JSON.stringify(json)}\n`);
    this.spill.pending += 1;
    this.counts.spilled += 1;
  }

  private async prependToSpill(items: readonly T[]): Promise<void> {
    const path = this.options.spillPath;
    if (path === undefined) return;
    await this.closeSpillOut();
    const toJson = this.options.toJson ?? ((x: T) => x);
    const head = items.map((i) => `${JSON.stringify(toJson(i))}\n`).join('');
    const rest = existsSync(path)
      ? readFileSync(path).subarray(this.spill?.readOffset ?? 0)
      : Buffer.alloc(0);
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, Buffer.concat([Buffer.from(head, 'utf8'), rest]));
    renameSync(tmp, path);
    this.spill = { pending: items.length + (this.spill?.pending ?? 0), readOffset: 0 };
  }

  private async flushSpillOut(): Promise<void> {
    const out = this.spillOut;
    if (out === undefined || out.writableLength === 0) return;
    await new Promise<void>((resolve) => out.write('', () => resolve()));
  }

  private async closeSpillOut(): Promise<void> {
    const out = this.spillOut;
    this.spillOut = undefined;
    if (out === undefined) return;
    out.end();
    await once(out, 'close');
  }

  private recordLatency(ms: number): void {
    this.latencies[this.latencyCount % LATENCY_SAMPLES] = ms;
    this.latencyCount += 1;
    if (ms > this.latencyMax) this.latencyMax = ms;
  }

  private wakeIdle(): void {
    for (const w of this.idleWaiters.splice(0)) w();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function countLines(path: string): number {
  const text = readFileSync(path);
  let n = 0;
  for (const byte of text) if (byte === 10) n++;
  // A torn last line without its newline still counts: it is reported when replayed.
  return text.length > 0 && text[text.length - 1] !== 10 ? n + 1 : n;
}

/**
 * Up to `maxLines` complete lines starting at byte `offset`, and how many bytes they span. A last line
 * without its newline is taken only when nothing follows it (the file is not being appended to: callers
 * flush their appends first).
 */
async function readLinesAt(
  path: string,
  offset: number,
  maxLines: number,
): Promise<{ lines: string[]; bytes: number }> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const lines: string[] = [];
    let consumed = 0;
    let carry = Buffer.alloc(0);
    let position = offset;
    while (lines.length < maxLines && position < size) {
      const buffer = Buffer.alloc(Math.min(1 << 20, size - position));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      let data = Buffer.concat([carry, buffer.subarray(0, bytesRead)]);
      let nl: number;
      while (lines.length < maxLines && (nl = data.indexOf(10)) >= 0) {
        lines.push(data.subarray(0, nl).toString('utf8'));
        consumed += nl + 1;
        data = data.subarray(nl + 1);
      }
      carry = data;
    }
    if (lines.length < maxLines && position >= size && carry.length > 0) {
      lines.push(carry.toString('utf8'));
      consumed += carry.length;
    }
    return { lines, bytes: consumed };
  } finally {
    await handle.close();
  }
}
