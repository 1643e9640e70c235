import { PGlite, type Transaction } from '@electric-sql/pglite';
import { DatabaseFolderError } from '../domain/errors.js';
import type { Logger } from '../infra/logger.js';
import { copyStatement, csvRow } from './csv.js';
import type { Database, Queryable } from './database.js';
import { checkPgliteContents, preparePgliteFolder } from './pgliteFolder.js';
import { acquirePgliteLock, type AcquireOptions, type PgliteLock } from './pgliteLock.js';

/** Rows per Blob: bounds the memory a huge COPY needs (the CSV text lives in memory until PGlite reads it). */
const COPY_BATCH_ROWS = 50_000;

/** Postgres's last words before PGlite gave up on a folder, kept to say why (PGlite itself only says "Aborted()"). */
const KEPT_STDERR_LINES = 20;

/**
 * PGlite (Postgres in WASM). It is a single session: its own mutex serialises transactions and queries.
 * A folder is checked first (see pgliteFolder.ts) and locked for this process until close() (see
 * pgliteLock.ts): a second process is refused rather than allowed to destroy the folder.
 */
export async function openPglite(
  path: string,
  logger?: Logger,
  lockOptions: AcquireOptions = {},
): Promise<Database> {
  if (path.includes('://')) {
    // In memory (tests): nothing on disk to check or share.
    const db = new PGlite(path);
    await db.waitReady;
    logger?.info({ pglite: path }, 'opened PGlite');
    return new PgliteDatabase(db);
  }
  const folder = preparePgliteFolder(path);
  const lock = await acquirePgliteLock(folder.path, folder.shown, lockOptions);
  try {
    checkPgliteContents(folder);
    const db = await startPglite(folder.path, folder.shown);
    logger?.info({ pglite: path }, 'opened PGlite');
    return new PgliteDatabase(db, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

/** Starts PGlite on a checked, locked folder; a folder it cannot start on is named with Postgres's reason. */
async function startPglite(folder: string, shown: string): Promise<PGlite> {
  const stderr: string[] = [];
  const keep = (text: string): boolean => {
    stderr.push(text);
    if (stderr.length > KEPT_STDERR_LINES) stderr.shift();
    return true;
  };
  try {
    const db = new PGlite(folder, { onStderr: keep });
    await db.waitReady;
    return db;
  } catch (err) {
    throw new DatabaseFolderError(
      `${shown} is not a usable PGlite database: ${startFailure(stderr, err)}; ` +
        `move it away or point --pglite elsewhere`,
      { cause: err },
    );
  }
}

/**
 * The reason Postgres printed (`PANIC:  could not locate a valid checkpoint record`, `postgres: could not
 * access the server configuration file …`), else the error PGlite threw. PGlite's internal data path
 * (/pglite/data) means the user's folder, so it is left out.
 */
function startFailure(stderr: readonly string[], err: unknown): string {
  const lines = stderr.map((l) => l.trim()).filter((l) => l !== '' && l !== 'Aborted()');
  const severe = [...lines]
    .reverse()
    .find((l) => /\b(PANIC|FATAL|ERROR):/.test(l) || l.startsWith('postgres:'));
  const text = severe ?? (err instanceof Error ? err.message : String(err));
  return text
    .replace(/^.*?\b(PANIC|FATAL|ERROR):\s+/, '')
    .replace(/^postgres:\s+/, '')
    .replace(/"\/pglite\/data\/?/g, '"')
    .replace(/\s+/g, ' ');
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

/** Exported for tests, which wrap a PGlite started from a template data directory (test/storage/support). */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite';
  private readonly runner: Queryable;

  constructor(
    private readonly db: PGlite,
    private readonly lock?: PgliteLock,
  ) {
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
    try {
      await this.db.close();
    } finally {
      this.lock?.release();
    }
  }
}
