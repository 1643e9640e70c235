import pg from 'pg';
import type { Bus } from '../src/bus/bus.js';
import { createBus } from '../src/bus/createBus.js';
import type { Candle } from '../src/domain/candle.js';
import { TIMEFRAMES, timeframeMs } from '../src/domain/timeframe.js';
import { CandlePublisher } from '../src/sinks/busPublisher.js';
import { candleSink } from '../src/sinks/storeSinks.js';
import { openDatabase, type Database } from '../src/storage/database.js';
import { migrate } from '../src/storage/migrate.js';

/**
 * Candle close → row committed and candle close → Redis publish acknowledged, under a collector's load:
 * 10 symbols closing their 1m candle together every "minute" (compressed to every 50 ms here), and the
 * higher timeframes on their boundaries, into real Postgres and Redis. Latency is measured from the moment
 * the candle is handed to the sinks (the operator emits it at its close) to the commit / the PUBLISH reply.
 */
export async function benchCollectorLatency(minutes = 300, symbols = 10, runs = 3): Promise<string[]> {
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const name = `rxtrade_bench_${process.pid}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`DROP DATABASE IF EXISTS ${name}`);
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const lines: string[] = [];
  try {
    const pgRuns: Result[] = [];
    for (let r = 0; r < runs; r++) {
      const db = await openDatabase({ url: url.toString() });
      await migrate(db);
      await db.exec('TRUNCATE market_data');
      const bus = createBus({ redisUrl, channelPrefix: `bench-${process.pid}:` });
      pgRuns.push(await measure(db, bus, minutes, symbols));
      await bus.close();
      await db.close();
    }
    lines.push(
      `collector latency, Postgres + Redis (${symbols} symbols, ${minutes} minutes of closes, median of ${runs} runs): ` +
        `close→commit p50 ${med(pgRuns, 'commitP50')} ms, p99 ${med(pgRuns, 'commitP99')} ms (target ≤ 50); ` +
        `close→Redis publish p50 ${med(pgRuns, 'publishP50')} ms, p99 ${med(pgRuns, 'publishP99')} ms (target ≤ 5)`,
    );
    const db = await openDatabase({ pglitePath: 'memory://' });
    await migrate(db);
    const bus = createBus({});
    const lite = await measure(db, bus, Math.min(minutes, 200), symbols);
    await bus.close();
    await db.close();
    lines.push(
      `collector latency, PGlite + in-process bus (one run): close→commit p50 ${lite.commitP50.toFixed(2)} ms, ` +
        `p99 ${lite.commitP99.toFixed(2)} ms; publish p99 ${lite.publishP99.toFixed(3)} ms`,
    );
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
  return lines;
}

interface Result {
  readonly commitP50: number;
  readonly commitP99: number;
  readonly publishP50: number;
  readonly publishP99: number;
}

function med(results: readonly Result[], key: keyof Result): string {
  const v = results.map((r) => r[key]).sort((a, b) => a - b);
  return (v[Math.floor(v.length / 2)] ?? 0).toFixed(2);
}

async function measure(db: Database, bus: Bus, minutes: number, symbols: number): Promise<Result> {
  const sink = candleSink(db, { maxBatch: 1000 });
  const publisher = new CandlePublisher(bus);
  const t0 = Date.UTC(2024, 0, 1);
  for (let m = 1; m <= minutes; m++) {
    const close = t0 + m * 60_000;
    for (let s = 0; s < symbols; s++) {
      for (const tf of TIMEFRAMES) {
        if (close % timeframeMs(tf) !== 0) continue;
        const c = candle(`SYM${s}-USDT`, tf, close, m);
        sink.add(c);
        publisher.publish(c);
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await sink.drain();
  await new Promise((r) => setTimeout(r, 100));
  const { latency } = sink.stats();
  const pub = publisher.latency();
  await sink.close();
  return { commitP50: latency.p50, commitP99: latency.p99, publishP50: pub.p50, publishP99: pub.p99 };
}

function candle(symbol: string, timeframe: Candle['timeframe'], closeTimeMs: number, i: number): Candle {
  const p = 100 + (i % 17);
  return {
    symbol,
    timeframe,
    closeTimeMs,
    open: p,
    high: p + 1,
    low: p - 1,
    close: p + 0.5,
    volume: 10 + i / 1000,
    tradesCount: 100,
    closed: true,
    revision: 0,
  };
}
