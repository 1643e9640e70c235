import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Candle } from '../../src/domain/candle.js';
import { RecordingLogger } from '../../src/infra/logger.js';
import { BatchWriter } from '../../src/sinks/batchWriter.js';
import { candleSink } from '../../src/sinks/storeSinks.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import { migrate } from '../../src/storage/migrate.js';
import { ADMIN_URL, freshPglite, freshPostgres, type TestDatabase } from '../storage/support/databases.js';

/**
 * One bad row never drops a batch (issue 9, point 3), against real databases: candles the database
 * refuses (a trade count beyond int4, a close time Postgres cannot parse, one no JS date holds) sit in a
 * batch of good ones; the sink stores every good candle and moves the refused ones to the dead-letter file
 * with the reason. An outage in the middle of the splitting loses nothing.
 */

const T0 = Date.UTC(2024, 4, 1, 0, 1);

function candle(i: number, over: Partial<Candle> = {}): Candle {
  return {
    symbol: 'PEPE-USDT',
    timeframe: '1m',
    closeTimeMs: T0 + i * 60_000,
    open: 0.000012345678 + i * 1e-12,
    high: 0.000012345679 + i * 1e-12,
    low: 0.000012345677,
    close: 0.000012345678,
    volume: 123456789012.5 + i,
    tradesCount: 100 + i,
    closed: true,
    revision: 0,
    ...over,
  };
}

/** What each bad row is and what the database (or our encoder) says about it. */
const BAD: Record<number, { over: Partial<Candle>; sqlstate: RegExp; message: RegExp }> = {
  3: {
    over: { tradesCount: 2 ** 31 },
    sqlstate: /^22003$/,
    message: /"2147483648" is out of range for type integer/,
  },
  500: {
    over: { closeTimeMs: Date.UTC(12_000, 0, 1) },
    sqlstate: /^22/,
    message: /\+012000-01-01T00:00:00\.000Z/,
  },
  999: {
    over: { closeTimeMs: 9e15 },
    sqlstate: /^invalid_data$/,
    message: /time 9000000000000000 ms is not a date/,
  },
};

function batch(n: number, bad: readonly number[]): { all: Candle[]; good: Candle[] } {
  const all = Array.from({ length: n }, (_, i) =>
    bad.includes(i) ? candle(i, BAD[i]?.over ?? { tradesCount: 2 ** 31 }) : candle(i),
  );
  return { all, good: all.filter((_, i) => !bad.includes(i)) };
}

function deadLetters(path: string): { row: Candle; sqlstate: string; message: string; time: string }[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { row: Candle; sqlstate: string; message: string; time: string });
}

async function admin(sql: string, params: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/**
 * Takes the database away and brings it back. Postgres: for real (connections refused, pooled ones
 * killed). PGlite lives in this process and cannot go away: its writes fail as a lost connection would.
 */
interface Outage {
  begin(): Promise<void>;
  end(): Promise<void>;
  /** Throws while a PGlite "outage" lasts; nothing for Postgres. */
  check(): void;
}

function outageFor(handle: TestDatabase): Outage {
  const name = handle.name;
  if (name === undefined) {
    let down = false;
    return {
      begin: () => Promise.resolve(void (down = true)),
      end: () => Promise.resolve(void (down = false)),
      check: () => {
        if (down) throw new Error('Connection terminated unexpectedly');
      },
    };
  }
  return {
    begin: async () => {
      await admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
    },
    end: () => admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`),
    check: () => undefined,
  };
}

describe.each([
  ['pglite', freshPglite],
  ['postgres', freshPostgres],
] as const)('the candle sink on %s with rows the database refuses', (_kind, open) => {
  let handle: TestDatabase;
  let dir: string;

  beforeEach(async () => {
    handle = await open();
    await migrate(handle.db);
    dir = mkdtempSync(join(tmpdir(), 'rxtrade-refusals-'));
  }, 60_000);
  afterEach(async () => {
    if (handle?.name !== undefined) await outageFor(handle).end();
    await handle?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const stored = () => new CandleStore(handle.db).range('PEPE-USDT', '1m', 0, Number.MAX_SAFE_INTEGER);

  it('stores the 997 good candles of a batch of 1000, dead-letters the 3 bad ones with the reason, and logs the file', async () => {
    const { all, good } = batch(1000, [3, 500, 999]);
    const logger = new RecordingLogger();
    const deadLetterPath = join(dir, 'dead-letter', 'candles-okx-PEPE-USDT.jsonl');
    const sink = candleSink(handle.db, { logger, deadLetterPath });
    for (const c of all) sink.add(c);
    await sink.close();

    expect(await stored()).toEqual(good);
    const dead = deadLetters(deadLetterPath);
    expect(dead.map((d) => d.row)).toEqual([all[3], all[500], all[999]]);
    for (const [i, d] of dead.entries()) {
      const bad = BAD[[3, 500, 999][i] as number];
      expect(d.sqlstate).toMatch(bad?.sqlstate ?? /never/);
      expect(d.message).toMatch(bad?.message ?? /never/);
      expect(Number.isNaN(Date.parse(d.time))).toBe(false);
    }
    expect(sink.stats()).toMatchObject({ received: 1000, written: 997, rejected: 3, deadLettered: 3 });
    expect(logger.records.filter((r) => r.level === 'error')).toEqual([
      expect.objectContaining({
        msg: `candles: the database refused 3 of 1000; stored the others, moved the refused ones to ${deadLetterPath}`,
        deadLetterPath,
        refused: 3,
      }),
    ]);
  }, 60_000);

  it('loses nothing when the database goes away in the middle of the splitting', async () => {
    const { all, good } = batch(1000, [10, 600]);
    const logger = new RecordingLogger();
    const deadLetterPath = join(dir, 'candles.jsonl');
    const store = new CandleStore(handle.db);
    const outage = outageFor(handle);
    let writes = 0;
    let restored: Promise<void> | undefined;
    // The candle sink's own write, with the outage starting at the 5th write (the split's 4th).
    const sink = new BatchWriter<Candle>({
      name: 'candles',
      logger,
      deadLetterPath,
      retry: { baseMs: 20, maxMs: 100 },
      write: async (candles) => {
        writes += 1;
        if (writes === 5) {
          await outage.begin();
          restored = new Promise((r) => setTimeout(r, 400)).then(() => outage.end());
        }
        outage.check();
        return store.upsert(candles);
      },
    });
    for (const c of all) sink.add(c);
    await sink.drain();
    await restored;

    expect(await stored()).toEqual(good);
    expect(deadLetters(deadLetterPath).map((d) => d.row)).toEqual([all[10], all[600]]);
    const s = sink.stats();
    expect(s).toMatchObject({ written: 998, rejected: 2, deadLettered: 2, queued: 0 });
    expect(s.failures).toBeGreaterThan(0);
    expect(logger.records.some((r) => r.level === 'error' && /cannot write candles/.test(r.msg))).toBe(true);
    expect(logger.records.some((r) => /database is back/.test(r.msg))).toBe(true);
    await sink.close();
    expect(existsSync(deadLetterPath)).toBe(true);
  }, 60_000);
});
