import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Logger } from '../infra/logger.js';
import { copyStatement, csvRow } from './csv.js';
import type { Database, Queryable } from './database.js';

/** Rows per Blob: bounds the memory a huge COPY needs (the CSV text lives in memory until PGlite reads it). */
const COPY_BATCH_ROWS = 50_000;

/** PGlite (Postgres in WASM). It is a single session: its own mutex serialises transactions and queries. */
export async function openPglite(path: string, logger?: Logger): Promise<Database> {
  if (!path.includes('://')) mkdirSync(path, { recursive: true });
  const db = new PGlite(path);
  await db.waitReady;
  logger?.info({ pglite: path }, 'opened PGlite');
  return new PgliteDatabase(db);
}

type PgliteRunner = PGlite | Transaction;

function runnerOf(db: PgliteRunner): Queryable {
  return {
    async query<R>(sql: string, params?: unknown[]): Promise<R[]> {
      const result = await db.query<R>(sql, params);
      return result.rows;
    },
    async exec(sql: string): Promise<void> {
      await db.exec(sql);
    },
    async copyRows(table, columns, rows): Promise<number> {
      const sql = copyStatement(table, columns, `'/dev/blob'`);
      let total = 0;
      let batch: string[] = [];
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        const result = await db.query(sql, [], { blob: new Blob(batch) });
        total += result.affectedRows ?? batch.length;
        batch = [];
      };
      for (const row of rows) {
        batch.push(csvRow(row));
        if (batch.length >= COPY_BATCH_ROWS) await flush();
      }
      await flush();
      return total;
    },
  };
}

class PgliteDatabase implements Database {
  readonly kind = 'pglite';
  private readonly runner: Queryable;

  constructor(private readonly db: PGlite) {
    this.runner = runnerOf(db);
  }

  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]> {
    return this.runner.query<R>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.runner.exec(sql);
  }

  /** In a transaction, so a load split into several Blobs is all-or-nothing like one Postgres COPY. */
  copyRows(table: string, columns: readonly string[], rows: Iterable<readonly unknown[]>): Promise<number> {
    return this.transaction((tx) => tx.copyRows(table, columns, rows));
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(runnerOf(tx)));
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
