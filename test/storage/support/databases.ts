import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../../src/storage/database.js';

/** The maintenance database used to create and drop per-file test databases (never touched otherwise). */
export const ADMIN_URL = process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly db: Database;
  /** Postgres only: the database's name and connection string. */
  readonly name?: string;
  readonly url?: string;
  /** Closes the connection and, for Postgres, drops the database this file created. */
  dispose(): Promise<void>;
}

/**
 * A fresh, empty Postgres database `rxtrade_test_<random>` for one test file, dropped in dispose().
 * If Postgres is down this rejects (the suite fails loudly; it is never skipped).
 */
export async function freshPostgres(): Promise<TestDatabase> {
  const name = `rxtrade_test_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const db = await openDatabase({ url: url.toString() });
  return {
    db,
    name,
    url: url.toString(),
    dispose: async () => {
      await db.close();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

export async function freshPglite(): Promise<TestDatabase> {
  const db = await openDatabase({ pglitePath: 'memory://' });
  return { db, dispose: () => db.close() };
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `Postgres tests need a server at ${ADMIN_URL} (set TEST_POSTGRES_ADMIN_URL): ${String(err)}`,
      {
        cause: err,
      },
    );
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
