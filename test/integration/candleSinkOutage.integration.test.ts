import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Candle } from '../../src/domain/candle.js';
import { RecordingLogger } from '../../src/infra/logger.js';
import { candleSink } from '../../src/sinks/storeSinks.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import { migrate } from '../../src/storage/migrate.js';
import { ADMIN_URL, freshPostgres, type TestDatabase } from '../storage/support/databases.js';

/**
 * The candle sink against a real Postgres that goes away under it: its connections killed mid-run
 * (pg_terminate_backend), then the database refusing connections for a while (ALLOW_CONNECTIONS false).
 * Every candle must end up stored exactly once, committed in the order it was produced.
 */

const T0 = Date.UTC(2024, 7, 8, 0, 0);

function candle(i: number, symbol = 'BTC-USDT'): Candle {
  const p = 60_000 + Math.sin(i / 7) * 100 + i / 100;
  return {
    symbol,
    timeframe: '1m',
    closeTimeMs: T0 + (i + 1) * 60_000,
    open: Math.round(p * 100) / 100,
    high: Math.round((p + 5) * 100) / 100,
    low: Math.round((p - 5) * 100) / 100,
    close: Math.round((p + 1) * 100) / 100,
    volume: Math.round(i * 1.2345678 * 1e8) / 1e8,
    tradesCount: i % 50,
    closed: true,
    revision: 0,
  };
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

const killConnections = (name: string) =>
  admin(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [name],
  );

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('candle sink through Postgres outages', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await freshPostgres();
    await migrate(t.db);
  });
  afterEach(async () => {
    if (t.name !== undefined)
      await admin(`ALTER DATABASE ${t.name} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await t.dispose();
  });

  it('stores every candle once, in order, through killed connections and a database that refuses connections', async () => {
    const name = t.name as string;
    const logger = new RecordingLogger();
    const spillPath = join(mkdtempSync(join(tmpdir(), 'rxtrade-outage-')), 'candles.jsonl');
    const sink = candleSink(t.db, {
      logger,
      spillPath,
      // Small bounds so the outage also exercises the spill file.
      maxQueued: 300,
      maxBatch: 100,
      retry: { baseMs: 20, maxMs: 200 },
    });
    const total = 3000;
    const symbols = ['BTC-USDT', 'ETH-USDT'];
    let produced = 0;
    const produce = async (n: number) => {
      for (let k = 0; k < n; k++, produced++) {
        for (const s of symbols) sink.add(candle(produced, s));
        if (k % 20 === 19) await sleep(2);
      }
    };

    await produce(500);
    await killConnections(name); // mid-run: every pooled connection dies
    await produce(500);
    await admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await killConnections(name);
    await produce(1000); // about 1.5 s of refused connections, producing all along
    await sleep(500);
    expect(sink.stats().degraded).toBe(true);
    await admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    await produce(total - produced);
    await sink.drain();

    const s = sink.stats();
    expect(s.received).toBe(total * symbols.length);
    expect(s.written).toBe(total * symbols.length);
    expect(s.rejected).toBe(0);
    expect(s.failures).toBeGreaterThan(0);
    expect(s.spilled).toBeGreaterThan(0);
    expect(existsSync(spillPath)).toBe(false);
    expect(logger.records.some((r) => r.level === 'error' && /cannot write candles/.test(r.msg))).toBe(true);
    expect(logger.records.some((r) => /database is back/.test(r.msg))).toBe(true);

    // Once each, with the values produced.
    const store = new CandleStore(t.db);
    for (const symbol of symbols) {
      const rows = await store.range(symbol, '1m', 0, Number.MAX_SAFE_INTEGER);
      expect(rows).toHaveLength(total);
      expect(rows).toEqual(Array.from({ length: total }, (_, i) => candle(i, symbol)));
    }
    // In order: the rows' insertion order (id) follows the candles' time order.
    const order = await t.db.query<{ symbol: string; ts: number }>(
      `SELECT symbol, (extract(epoch from timestamp) * 1000)::bigint AS ts FROM market_data ORDER BY id`,
    );
    for (const symbol of symbols) {
      const times = order.filter((r) => r.symbol === symbol).map((r) => Number(r.ts));
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
    await sink.close();
  });
});
