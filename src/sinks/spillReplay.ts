import type { Logger } from '../infra/logger.js';
import type { SpillFile } from './spillFile.js';

export interface SpillReplay<T> {
  readonly spill: SpillFile;
  /** Items per chunk. */
  readonly maxItems: number;
  /** What the sink stores, for the log line, e.g. "candles". */
  readonly name: string;
  readonly log: Logger;
  fromJson(json: unknown): T;
  /** Writes the items in order: how many leading ones are done (stored or refused). */
  store(items: readonly T[]): Promise<{ readonly settled: number }>;
  /** A line that does not parse (a torn last line, a damaged file): skipped. */
  unreadable(): void;
}

/**
 * Stores the next chunk of the spill file; the file is removed once everything in it is stored. Lines up
 * to the first item not settled are consumed; after an outage the rest is read again.
 */
export async function replaySpillChunk<T>(r: SpillReplay<T>): Promise<void> {
  const { spill, log } = r;
  const chunk = await spill.read(r.maxItems);
  if (chunk.lines.length === 0) {
    // Everything appended has been stored; anything added from now on goes straight to the queue.
    if (await spill.consume(chunk, 0)) {
      log.warn({ spillPath: spill.path }, `spill file replayed; ${r.name} are queued in memory again`);
    }
    return;
  }
  const items: T[] = [];
  /** Index in `chunk.lines` of each item. */
  const lineOf: number[] = [];
  for (const [i, line] of chunk.lines.entries()) {
    try {
      items.push(r.fromJson(JSON.parse(line)));
      lineOf.push(i);
    } catch (err) {
      // A torn last line (the process died mid-append) or a damaged file: say what, go on with the rest.
      r.unreadable();
      log.error(
        { err, spillPath: spill.path, line: line.slice(0, 200) },
        'unreadable line in the spill file, skipped',
      );
    }
  }
  const settled = items.length === 0 ? 0 : (await r.store(items)).settled;
  await spill.consume(chunk, settled < items.length ? (lineOf[settled] as number) : chunk.lines.length);
}
