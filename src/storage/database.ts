import type { Logger } from '../infra/logger.js';
import { dataPaths } from '../config/dataDir.js';

/**
 * What a query can run on: the database itself or an open transaction. Repositories take a `Queryable`
 * so the same code runs inside or outside a transaction.
 */
export interface Queryable {
  /** One statement with `$1`-style parameters; rows come back parsed (see `openDatabase` for types). */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /**
   * A script of several statements without parameters (migrations). Separate from `query` because
   * PGlite's `query` runs exactly one statement.
   */
  exec(sql: string): Promise<void>;
  /**
   * Bulk load rows with COPY into `table` (columns in order) and return how many were loaded.
   * Postgres: pg-copy-streams COPY FROM STDIN (CSV); PGlite: COPY ... FROM '/dev/blob' with the CSV as a Blob.
   */
  copyRows(table: string, columns: readonly string[], rows: Iterable<readonly unknown[]>): Promise<number>;
}

/** Postgres (system of record) or PGlite (embedded default): same SQL, same migrations, same results. */
export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in BEGIN/COMMIT; any error rolls back and is rethrown. Transactions do not nest. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A Postgres connection string (DATABASE_URL). When set, PGlite is not used. */
  readonly url?: string;
  /** PGlite data directory (default ./data/pglite); 'memory://' keeps it in memory (tests). */
  readonly pglitePath?: string;
  readonly logger?: Logger;
}

export const DEFAULT_PGLITE_PATH = dataPaths().pglite;

/**
 * Opens the configured database and checks that it answers, so a wrong URL fails here with a clear
 * `db_unavailable` error rather than at the first write. Both adapters return the same JS types:
 * bigint → number (BigInt beyond 2^53), numeric → string (exact), timestamptz → Date, json/jsonb → parsed.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  // Imported lazily so that using one backend never loads (or starts) the other.
  if (options.url !== undefined && options.url !== '') {
    const { openPostgres } = await import('./postgresDatabase.js');
    return openPostgres(options.url, options.logger);
  }
  const { openPglite } = await import('./pgliteDatabase.js');
  return openPglite(options.pglitePath ?? DEFAULT_PGLITE_PATH, options.logger);
}
