/** An item the database refused, at `index` in its batch. */
export interface Refused<T> {
  readonly index: number;
  readonly item: T;
  readonly err: unknown;
}

export interface WriteOutcome<T> {
  /** Leading items of the batch that are done: stored or refused. */
  settled: number;
  readonly refused: Refused<T>[];
  /** A failure that is not about the data (an outage): the items after `settled` are to be retried. */
  failure?: { readonly err: unknown };
}

export interface BisectingWriter<T> {
  write(items: readonly T[]): Promise<unknown>;
  /** True when the database refused the batch for its data (not an outage). */
  isDataError(err: unknown): boolean;
  /** A write of `count` items committed. */
  onWritten(count: number): void;
}

/**
 * Writes `items` in order. A batch the database refuses for its data is split in halves, and halves of
 * halves, down to single items: every item it takes is stored, each one it refuses is listed in `refused`.
 * Any other failure stops the writing; `settled` then counts the leading items that are done.
 */
export async function writeBisecting<T>(
  w: BisectingWriter<T>,
  items: readonly T[],
): Promise<WriteOutcome<T>> {
  const outcome: WriteOutcome<T> = { settled: 0, refused: [] };
  const failure = await writeSplitting(w, items, 0, outcome);
  if (failure !== undefined) outcome.failure = failure;
  return outcome;
}

/**
 * Writes `items` (starting at `offset` in the batch), splitting on data errors; returns a failure that is
 * not one. `refusedWhole`: these items are known to be refused together (their batch was, and the half
 * before them was stored whole), so writing them whole again is skipped: that saves a write per level.
 */
async function writeSplitting<T>(
  w: BisectingWriter<T>,
  items: readonly T[],
  offset: number,
  outcome: WriteOutcome<T>,
  refusedWhole = false,
): Promise<{ err: unknown } | undefined> {
  if (!refusedWhole || items.length === 1) {
    try {
      await w.write(items);
      outcome.settled = offset + items.length;
      w.onWritten(items.length);
      return undefined;
    } catch (err) {
      if (!w.isDataError(err)) return { err };
      if (items.length === 1) {
        outcome.refused.push({ index: offset, item: items[0] as T, err });
        outcome.settled = offset + 1;
        return undefined;
      }
    }
  }
  const half = Math.ceil(items.length / 2);
  const refusedBefore = outcome.refused.length;
  const failure = await writeSplitting(w, items.slice(0, half), offset, outcome);
  if (failure !== undefined) return failure;
  const firstHalfStored = outcome.refused.length === refusedBefore;
  return writeSplitting(w, items.slice(half), offset + half, outcome, firstHalfStored);
}
