import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualTimeScheduler } from 'rxjs';
import { InvalidDataError } from '../../src/domain/errors.js';
import { BatchWriter, type BatchWriterOptions } from '../../src/sinks/batchWriter.js';
import { isDataDbError } from '../../src/storage/dataErrors.js';
import { RecordingLogger } from '../../src/infra/logger.js';

/**
 * A database stand-in that can be switched off, refuses the items `refuse` picks (as a CHECK constraint
 * would: the whole batch fails), and records every acknowledged batch.
 */
class FakeTable {
  readonly batches: number[][] = [];
  up = true;
  attempts = 0;
  refuse: (x: number) => boolean = () => false;
  failWith: () => Error = () =>
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  write = async (items: readonly number[]): Promise<void> => {
    this.attempts += 1;
    await Promise.resolve();
    if (!this.up) throw this.failWith();
    const bad = items.find((x) => this.refuse(x));
    if (bad !== undefined) {
      throw Object.assign(new Error(`new row for relation "numbers" violates check constraint "no_${bad}"`), {
        code: '23514',
        detail: `Failing row contains (${bad}).`,
      });
    }
    this.batches.push([...items]);
  };
  get rows(): number[] {
    return this.batches.flat();
  }
}

function writer(table: FakeTable, extra: Partial<BatchWriterOptions<number>> = {}) {
  const logger = new RecordingLogger();
  const w = new BatchWriter<number>({
    name: 'numbers',
    write: table.write,
    retry: { baseMs: 2, maxMs: 20 },
    logger,
    ...extra,
  });
  return { w, logger };
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmp = () => mkdtempSync(join(tmpdir(), 'rxtrade-spill-'));
const deadLetters = (path: string): Record<string, unknown>[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('BatchWriter', () => {
  it('writes a burst added in one turn as one batch, in order', async () => {
    const table = new FakeTable();
    const { w } = writer(table);
    for (const i of range(10)) w.add(i);
    await w.drain();
    expect(table.batches).toEqual([range(10)]);
    expect(w.stats()).toMatchObject({ received: 10, written: 10, batches: 1, queued: 0, degraded: false });
  });

  it('flushes by size: at most maxBatch items per write', async () => {
    const table = new FakeTable();
    const { w } = writer(table, { maxBatch: 3 });
    for (const i of range(7)) w.add(i);
    await w.drain();
    expect(table.batches).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it('with lingerMs, items added within the linger go in one batch', async () => {
    const table = new FakeTable();
    // Virtual time: the linger is measured on the scheduler, not on a loaded machine's wall clock.
    const scheduler = new VirtualTimeScheduler();
    const { w } = writer(table, { lingerMs: 60, scheduler });
    w.add(1);
    scheduler.maxFrames = 59;
    scheduler.flush(); // 59 ms later: still lingering
    expect(table.attempts).toBe(0);
    w.add(2);
    scheduler.maxFrames = Infinity;
    scheduler.flush();
    await w.drain();
    expect(table.batches).toEqual([[1, 2]]);
    expect(() => writer(table, { lingerMs: 251 })).toThrow(/lingerMs must be within 0\.\.250/);
  });

  it('keeps items through an outage and writes them once, in order, when the database is back', async () => {
    const table = new FakeTable();
    const { w, logger } = writer(table, { maxBatch: 4 });
    table.up = false;
    for (const i of range(6)) w.add(i);
    // Wait for events (a first attempt and two retries), not for a time a loaded machine may not meet.
    while (table.attempts < 3) await sleep(2);
    expect(w.stats().degraded).toBe(true);
    for (const i of range(6, 6)) w.add(i);
    expect(table.rows).toEqual([]);
    table.up = true;
    await w.drain();
    expect(table.rows).toEqual(range(12));
    const s = w.stats();
    expect(s.written).toBe(12);
    expect(s.failures).toBeGreaterThan(1);
    expect(s.degraded).toBe(false);
    expect(
      logger.records.filter((r) => r.level === 'error' && /cannot write numbers/.test(r.msg)),
    ).toHaveLength(1);
    expect(logger.records.some((r) => r.level === 'warn' && /database is back/.test(r.msg))).toBe(true);
  });

  it('splits a batch the database refuses for its data: stores every other item in order, dead-letters the refused ones', async () => {
    const table = new FakeTable();
    const bad = new Set([3, 500, 999]);
    table.refuse = (x) => bad.has(x);
    const deadLetterPath = join(tmp(), 'dead-letter', 'numbers.jsonl');
    const { w, logger } = writer(table, { deadLetterPath, now: () => Date.UTC(2024, 4, 1) });
    for (const i of range(1000)) w.add(i);
    await w.drain();
    expect(table.rows).toEqual(range(1000).filter((i) => !bad.has(i)));
    expect(deadLetters(deadLetterPath)).toEqual(
      [3, 500, 999].map((row) => ({
        row,
        sqlstate: '23514',
        message: `new row for relation "numbers" violates check constraint "no_${row}"`,
        detail: `Failing row contains (${row}).`,
        time: '2024-05-01T00:00:00.000Z',
      })),
    );
    expect(w.stats()).toMatchObject({
      received: 1000,
      written: 997,
      rejected: 3,
      deadLettered: 3,
      queued: 0,
    });
    const logged = logger.records.filter((r) => r.level === 'error');
    expect(logged).toEqual([
      expect.objectContaining({
        msg: `numbers: the database refused 3 of 1000; stored the others, moved the refused ones to ${deadLetterPath}`,
        refused: 3,
        batch: 1000,
        sqlstate: '23514',
        deadLetterPath,
      }),
    ]);
    // Bisection, not one write per item: about 2·log2(1000) writes per bad item.
    expect(table.attempts).toBeLessThan(80);
    // The next batch is written whole again.
    const before = table.attempts;
    w.add(1000);
    await w.drain();
    expect(table.attempts).toBe(before + 1);
    await w.close();
  });

  it('stops splitting at an outage, and loses nothing: the items not yet settled are retried when the database is back', async () => {
    const table = new FakeTable();
    const bad = new Set([10, 700]);
    table.refuse = (x) => bad.has(x);
    const deadLetterPath = join(tmp(), 'numbers.jsonl');
    let calls = 0;
    const inner = table.write;
    // The database goes away in the middle of the split (the 6th write), for a few retries.
    table.write = async (items) => {
      calls += 1;
      if (calls === 6) table.up = false;
      if (calls === 9) table.up = true;
      await inner(items);
    };
    const { w: w2, logger } = writer(table, { deadLetterPath, retry: { baseMs: 2, maxMs: 5 } });
    for (const i of range(1000)) w2.add(i);
    await w2.drain();
    expect(table.rows).toEqual(range(1000).filter((i) => !bad.has(i)));
    expect(deadLetters(deadLetterPath).map((d) => d.row)).toEqual([10, 700]);
    expect(w2.stats()).toMatchObject({ written: 998, rejected: 2, deadLettered: 2, queued: 0 });
    expect(w2.stats().failures).toBeGreaterThan(0);
    expect(logger.records.some((r) => /cannot write numbers/.test(r.msg))).toBe(true);
    expect(logger.records.some((r) => /database is back/.test(r.msg))).toBe(true);
    await w2.close();
  });

  it('does not split on a failure that is not about the data (a missing table): it retries, keeping the batch', async () => {
    const table = new FakeTable();
    table.failWith = () => Object.assign(new Error('relation "numbers" does not exist'), { code: '42P01' });
    const { w } = writer(table, { deadLetterPath: join(tmp(), 'numbers.jsonl') });
    table.up = false;
    for (const i of range(100)) w.add(i);
    while (table.attempts < 3) await sleep(2);
    expect(w.stats()).toMatchObject({ degraded: true, queued: 100, rejected: 0 });
    const attempts = table.attempts;
    expect(attempts).toBeLessThan(20); // retries of the whole batch, not a bisection
    table.up = true;
    await w.drain();
    expect(table.rows).toEqual(range(100));
    await w.close();
  });

  it('dead-letters refused items replayed from the spill file, and stores the rest of it', async () => {
    const table = new FakeTable();
    const dir = tmp();
    const spillPath = join(dir, 'spill.jsonl');
    const deadLetterPath = join(dir, 'dead.jsonl');
    writeFileSync(
      spillPath,
      range(50)
        .map((i) => `${i}\n`)
        .join(''),
    );
    table.refuse = (x) => x === 7 || x === 42;
    const { w, logger } = writer(table, { spillPath, deadLetterPath, maxBatch: 20 });
    await w.drain();
    expect(table.rows).toEqual(range(50).filter((i) => i !== 7 && i !== 42));
    expect(deadLetters(deadLetterPath).map((d) => d.row)).toEqual([7, 42]);
    expect(existsSync(spillPath)).toBe(false);
    expect(logger.records.filter((r) => r.level === 'error').map((r) => r.msg)).toEqual([
      expect.stringMatching(/refused 1 of 20;/), // lines 1-20
      expect.stringMatching(/refused 1 of 10;/), // lines 41-50
    ]);
    await w.close();
  });

  it('without a dead-letter file, puts the refused items in the log line', async () => {
    const table = new FakeTable();
    table.refuse = (x) => x === 2;
    const { w, logger } = writer(table);
    for (const i of range(4)) w.add(i);
    await w.drain();
    expect(table.rows).toEqual([0, 1, 3]);
    expect(logger.records.filter((r) => r.level === 'error')).toEqual([
      expect.objectContaining({
        msg: 'numbers: the database refused 1 of 4; stored the others, the refused ones are in this log line only (no dead-letter file)',
        rows: [expect.objectContaining({ row: 2, sqlstate: '23514' })],
      }),
    ]);
    expect(w.stats()).toMatchObject({ rejected: 1, deadLettered: 0 });
    await w.close();
  });

  it('classifies errors: data errors (SQLSTATE classes 22 and 23, our invalid_data) split, all else is retried', () => {
    const coded = (code: string) => Object.assign(new Error('x'), { code });
    expect(isDataDbError(coded('23505'))).toBe(true);
    expect(isDataDbError(coded('22003'))).toBe(true);
    expect(isDataDbError(new InvalidDataError('cannot COPY the number NaN'))).toBe(true);
    expect(isDataDbError(coded('42P01'))).toBe(false);
    expect(isDataDbError(coded('57P01'))).toBe(false);
    expect(isDataDbError(coded('ECONNREFUSED'))).toBe(false);
    expect(isDataDbError(new Error('Connection terminated unexpectedly'))).toBe(false);
    const wrapped = new Error('outer', { cause: coded('22P02') });
    expect(isDataDbError(wrapped)).toBe(true);
  });

  it('past maxQueued, spills to an append-only file and replays it in order after the queue', async () => {
    const table = new FakeTable();
    const dir = tmp();
    const spillPath = join(dir, 'spill', 'numbers.jsonl');
    const { w, logger } = writer(table, { maxQueued: 5, maxBatch: 4, spillPath });
    table.up = false;
    for (const i of range(20)) w.add(i);
    while (table.attempts < 2) await sleep(2);
    expect(w.stats()).toMatchObject({ queued: 5, spilled: 15, spillPending: 15 });
    expect(logger.records.some((r) => /spilling to/.test(r.msg))).toBe(true);
    table.up = true;
    await sleep(5);
    // Items keep arriving while the spill file is replayed: they go behind it.
    for (const i of range(5, 20)) w.add(i);
    await w.drain();
    expect(table.rows).toEqual(range(25));
    expect(existsSync(spillPath)).toBe(false);
    expect(w.stats()).toMatchObject({ written: 25, spillPending: 0, queued: 0 });
    // Back to memory: a new item is written directly.
    w.add(25);
    await w.drain();
    expect(table.rows.at(-1)).toBe(25);
    await w.close();
  });

  it('on close during an outage keeps the queue in the spill file, and the next start replays it first', async () => {
    const table = new FakeTable();
    const spillPath = join(tmp(), 'numbers.jsonl');
    const first = writer(table, { maxQueued: 3, spillPath }).w;
    table.up = false;
    for (const i of range(8)) first.add(i);
    await first.close(50);
    expect(readFileSync(spillPath, 'utf8').trim().split('\n').map(Number)).toEqual(range(8));

    table.up = true;
    const { w: second, logger } = writer(table, { spillPath });
    second.add(100);
    await second.drain();
    expect(table.rows).toEqual([...range(8), 100]);
    expect(logger.records.some((r) => /replaying 8 spilled numbers/.test(r.msg))).toBe(true);
    expect(existsSync(spillPath)).toBe(false);
    await second.close();
  });

  it('skips an unreadable line in a spill file (torn write), says so, and stores the rest', async () => {
    const table = new FakeTable();
    const spillPath = join(tmp(), 'numbers.jsonl');
    writeFileSync(spillPath, '1\n2\n{"tor\n3\n4');
    const { w, logger } = writer(table, { spillPath });
    await w.drain();
    expect(table.rows).toEqual([1, 2, 3, 4]);
    expect(w.stats().rejected).toBe(1);
    expect(logger.records.some((r) => r.level === 'error' && /unreadable line/.test(r.msg))).toBe(true);
    await w.close();
  });

  it('without a spill file, refuses items past the bound loudly instead of growing without limit', async () => {
    const table = new FakeTable();
    table.up = false;
    const { w, logger } = writer(table, { maxQueued: 2 });
    for (const i of range(5)) w.add(i);
    expect(w.stats()).toMatchObject({ queued: 2, rejected: 3 });
    expect(logger.records.some((r) => r.level === 'error' && /queue is full/.test(r.msg))).toBe(true);
    table.up = true;
    await w.drain();
    expect(table.rows).toEqual([0, 1]);
    await w.close();
  });

  it('measures add → commit latency on the injected clock, per item, in exact milliseconds', async () => {
    // The clock moves only when the test says; each write waits until the test lets it commit.
    let t = 1_000;
    const commits: (() => void)[] = [];
    const batches: number[][] = [];
    const { w } = writer(new FakeTable(), {
      now: () => t,
      write: (items) =>
        new Promise<void>((resolve) => {
          batches.push([...items]);
          commits.push(resolve);
        }),
    });
    const written = async (n: number) => {
      while (batches.length < n) await sleep(1);
    };
    w.add(1); // t = 1000
    await written(1); // [1] in flight
    t = 1_005;
    w.add(2);
    t = 1_012;
    w.add(3); // 2 and 3 wait behind the write in flight
    t = 1_040;
    commits[0]!(); // 1 committed at 1040: 40 ms
    await written(2);
    expect(batches).toEqual([[1], [2, 3]]);
    t = 1_047;
    commits[1]!(); // 2 and 3 committed at 1047: 42 and 35 ms
    await w.drain();
    // Sorted 35, 40, 42: p50 is the sample at index ⌊0.5·3⌋ = 1, p99 at ⌊0.99·3⌋ = 2.
    expect(w.stats().latency).toEqual({ p50: 40, p99: 42, max: 42, count: 3 });
    await w.close();
  });

  it('counts no latency for refused items, nor for items still waiting', async () => {
    let t = 0;
    const table = new FakeTable();
    table.refuse = (x) => x === 2;
    const { w } = writer(table, { now: () => t });
    for (const i of range(4)) w.add(i);
    t = 7;
    await w.drain();
    expect(w.stats().latency).toEqual({ p50: 7, p99: 7, max: 7, count: 3 });
  });

  it('refuses adds after close', async () => {
    const { w } = writer(new FakeTable());
    await w.close();
    expect(() => w.add(1)).toThrow(/closed/);
  });
});
