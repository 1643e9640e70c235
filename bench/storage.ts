import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { admin, withDatabase } from './pgAdmin.js';
import { runImport } from '../src/cli/commands/import.js';
import type { CliIo } from '../src/cli/io.js';
import { readCandleColumns } from '../src/storage/candleColumns.js';
import { openDatabase } from '../src/storage/database.js';
import { migrate } from '../src/storage/migrate.js';
import { stats } from './machine.js';

const MIN = 60_000;

/**
 * `rxtrade import` into a REAL Postgres: ~500k synthetic 1m candles (one CSV file) into an empty table, each
 * run after a TRUNCATE, so every row is an insert (the COPY fast path); then the same file again (every row
 * unchanged: the staging upsert path), and `readCandleColumns` over the whole range. The server is
 * DATABASE_URL's, else 127.0.0.1:5432; the benchmark works in a scratch database it creates and drops.
 */
export async function benchImport(candles = 500_000, runs = 3): Promise<string[]> {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `rxtrade_bench_${randomBytes(5).toString('hex')}`;
  const adminUrl = withDatabase(server, 'postgres');
  const url = withDatabase(server, name);
  const dir = mkdtempSync(join(tmpdir(), 'rxtrade-bench-import-'));
  const file = join(dir, 'BENCH-USDT-1m.csv');
  const t0 = Date.UTC(2020, 0, 1);
  writeFileSync(file, syntheticCsv(t0, candles));

  await admin(adminUrl, `CREATE DATABASE ${name}`);
  const lines: string[] = [];
  try {
    const db = await openDatabase({ url });
    try {
      await migrate(db);
      const options = { file, symbol: 'BENCH-USDT', timeframe: '1m', databaseUrl: url };
      const fresh: number[] = [];
      for (let i = 0; i < runs; i++) {
        await db.exec('TRUNCATE market_data');
        const s = await runImport(options, quietIo());
        if (s.inserted !== candles) throw new Error(`bench: inserted ${s.inserted} of ${candles}`);
        fresh.push(s.seconds);
      }
      const again: number[] = [];
      for (let i = 0; i < runs; i++) {
        const s = await runImport(options, quietIo());
        if (s.unchanged !== candles) throw new Error(`bench: ${s.unchanged} of ${candles} unchanged`);
        again.push(s.seconds);
      }
      const reads: number[] = [];
      for (let i = 0; i < runs; i++) {
        const start = process.hrtime.bigint();
        const cols = await readCandleColumns(db, {
          symbol: 'BENCH-USDT',
          timeframe: '1m',
          fromMs: t0,
          toMs: t0 + (candles + 1) * MIN,
        });
        reads.push(Number(process.hrtime.bigint() - start) / 1e9);
        if (cols.length !== candles) throw new Error(`bench: read ${cols.length} of ${candles}`);
      }
      const line = (what: string, unit: string, seconds: number[], note: string): string => {
        const s = stats(seconds.map((sec) => candles / sec));
        return `storage ${what.padEnd(34)} median ${(s.median / 1e3).toFixed(0)} k ${unit}/s  (min ${(s.min / 1e3).toFixed(0)}, max ${(s.max / 1e3).toFixed(0)}, ${s.runs} runs of ${candles})${note}`;
      };
      lines.push(line('import, empty table (COPY)', 'candles', fresh, ' (target ≥ 150 k/s)'));
      lines.push(line('import again (upsert, unchanged)', 'candles', again, ''));
      lines.push(line('readCandleColumns', 'rows', reads, ''));
    } finally {
      await db.close();
    }
  } finally {
    await admin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}

/** A plausible random walk: prices with 2 decimals, volumes with 6, close-time stamps in epoch ms. */
function syntheticCsv(t0: number, n: number): string {
  const out = ['close_time_ms,open,high,low,close,volume'];
  let price = 30_000;
  let seed = 1;
  const rnd = (): number => {
    seed = (seed * 48271) % 2147483647;
    return seed / 2147483647;
  };
  const r2 = (x: number): number => Math.round(x * 100) / 100;
  for (let i = 0; i < n; i++) {
    const open = price;
    const close = r2(Math.max(100, open + (rnd() - 0.5) * 40));
    const high = r2(Math.max(open, close) + rnd() * 10);
    const low = r2(Math.min(open, close) - rnd() * 10);
    price = close;
    out.push(
      `${t0 + (i + 1) * MIN},${open.toFixed(2)},${high.toFixed(2)},${low.toFixed(2)},${close.toFixed(2)},${(rnd() * 50).toFixed(6)}`,
    );
  }
  return out.join('\n') + '\n';
}

function quietIo(): CliIo {
  const sink = new PassThrough();
  sink.resume();
  return { stdout: sink, stderr: sink, interactive: false, interrupted: new Promise(() => {}) };
}
