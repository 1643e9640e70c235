import { RxtradeError } from '../domain/errors.js';
import type { Logger } from '../infra/logger.js';
import type { Database } from './database.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

/** Advisory lock key ("rxtr" in ASCII) shared by every process that migrates the same database. */
export const MIGRATION_LOCK_KEY = 0x72787472;

export interface AppliedMigration {
  readonly id: number;
  readonly name: string;
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in id order, one transaction each, and
 * returns those it applied (empty when up to date). Each transaction first takes a transaction-scoped
 * advisory lock, so two processes migrating at once queue up and the second finds the work done instead
 * of failing on "relation already exists". The lock is released by COMMIT/ROLLBACK, even on a crash.
 */
export async function migrate(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
  logger?: Logger,
): Promise<AppliedMigration[]> {
  checkOrder(migrations);
  const applied: AppliedMigration[] = [];
  for (const m of migrations) {
    const done = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      // Created under the lock: a concurrent CREATE TABLE IF NOT EXISTS can still collide in Postgres.
      await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        id integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const found = await tx.query('SELECT 1 FROM schema_migrations WHERE id = $1', [m.id]);
      if (found.length > 0) return false;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
      return true;
    });
    if (done) {
      applied.push({ id: m.id, name: m.name });
      logger?.info({ migration: m.id, name: m.name }, 'applied migration');
    }
  }
  return applied;
}

function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    const prev = migrations[i - 1];
    if (prev !== undefined && m.id <= prev.id) {
      throw new RxtradeError('internal', `migration ${m.id} (${m.name}) is listed after ${prev.id}`);
    }
  });
}
