import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriter, isPermanentDbError, type BatchWriterOptions } from '../../src/sinks/batchWriter.js';
import { RecordingLogger } from '../../src/infra/logger.js';

/** A database stand-in that can be switched off, and records every acknowledged batch. */
class FakeTable {
  readonly batches: number[][] = [];
  up = true;
  attempts = 0;
  failWith: () => Error = () =>
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  readonly write = async (items: readonly number[]): Promise<void> => {
    this.attempts += 1;
    await Promise.resolve();
    if (!this.up) throw this.failWith();
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
    const { w } = writer(table, { lingerMs: 60 });
    w.add(1);
    await sleep(10);
    w.add(2);
    await w.drain();
    expect(table.batches).toEqual([[1, 2]]);
    expect(() => writer(table, { lingerMs: 251 })).toThrow(/lingerMs must be within 0\.\.250/);
  });

  it('keeps items through an outage and writes them once, in order, when the database is back', async () => {
    const table = new FakeTable();
    const { w, logger } = writer(table, { maxBatch: 4 });
    table.up = false;
    for (const i of range(6)) w.add(i);
    await sleep(30);
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

  it('refuses a batch the database rejects for its data (SQLSTATE 22/23/42) and goes on with the next', async () => {
    const table = new FakeTable();
    const logger = new RecordingLogger();
    let calls = 0;
    const inner = table.write;
    const w2 = new BatchWriter<number>({
      name: 'numbers',
      logger,
      maxBatch: 2,
      write: async (items) => {
        calls += 1;
        if (items.includes(3)) throw Object.assign(new Error('numeric field overflow'), { code: '22003' });
        await inner(items);
      },
    });
    for (const i of range(6)) w2.add(i);
    await w2.drain();
    expect(table.batches).toEqual([
      [0, 1],
      [4, 5],
    ]);
    expect(calls).toBe(3);
    expect(w2.stats()).toMatchObject({ written: 4, rejected: 2 });
    expect(logger.records.some((r) => r.level === 'error' && /refused by the database/.test(r.msg))).toBe(
      true,
    );
    await w2.close();
  });

  it('classifies database errors: data errors are permanent, connection errors are not', () => {
    expect(isPermanentDbError(Object.assign(new Error('x'), { code: '23505' }))).toBe(true);
    expect(isPermanentDbError(Object.assign(new Error('x'), { code: '42P01' }))).toBe(true);
    expect(isPermanentDbError(Object.assign(new Error('x'), { code: '57P01' }))).toBe(false);
    expect(isPermanentDbError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isPermanentDbError(new Error('Connection terminated unexpectedly'))).toBe(false);
    const wrapped = new Error('outer', { cause: Object.assign(new Error('inner'), { code: '22P02' }) });
    expect(isPermanentDbError(wrapped)).toBe(true);
  });

  it('past maxQueued, spills to an append-only file and replays it in order after the queue', async () => {
    const table = new FakeTable();
    const dir = tmp();
    const spillPath = join(dir, 'spill', 'numbers.jsonl');
    const { w, logger } = writer(table, { maxQueued: 5, maxBatch: 4, spillPath });
    table.up = false;
    for (const i of range(20)) w.add(i);
    await sleep(20);
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

  it('measures add → commit latency', async () => {
    const table = new FakeTable();
    const { w } = writer(table);
    for (const i of range(100)) w.add(i);
    await w.drain();
    const { latency } = w.stats();
    expect(latency.count).toBe(100);
    expect(latency.p50).toBeGreaterThanOrEqual(0);
    expect(latency.p99).toBeGreaterThanOrEqual(latency.p50);
  });

  it('refuses adds after close', async () => {
    const { w } = writer(new FakeTable());
    await w.close();
    expect(() => w.add(1)).toThrow(/closed/);
  });
});
