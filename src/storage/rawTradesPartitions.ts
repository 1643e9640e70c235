import { RxtradeError } from '../domain/errors.js';
import type { Database } from './database.js';

/** Advisory lock key ("rxrt") serialising partition creation across processes (see ensureRawTradesPartition). */
const PARTITION_LOCK_KEY = 0x72787274;

/** The UTC month start (epoch ms) of the month holding `tsMs`: the argument ensureRawTradesPartition wants. */
export function monthStartMs(tsMs: number): number {
  const d = new Date(tsMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** `raw_trades_YYYY_MM` for the UTC month starting at `monthStart`. */
export function rawTradesPartitionName(monthStart: number): string {
  const d = new Date(monthStart);
  return `raw_trades_${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/**
 * Creates the monthly partition of `raw_trades` starting at `monthStart` (a UTC month start in epoch ms)
 * unless it exists, and returns its name. Call it before inserting trades of a new month: an insert with no
 * matching partition fails. Runs under an advisory lock because two concurrent `CREATE TABLE IF NOT EXISTS`
 * can still collide in Postgres.
 */
export async function ensureRawTradesPartition(db: Database, monthStart: number): Promise<string> {
  if (!Number.isSafeInteger(monthStart) || monthStartMs(monthStart) !== monthStart) {
    throw new RxtradeError(
      'invalid_argument',
      `ensureRawTradesPartition: ${monthStart} is not the start of a UTC month (use monthStartMs(tsMs))`,
    );
  }
  const name = rawTradesPartitionName(monthStart);
  const d = new Date(monthStart);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  // Bounds are literals, not parameters: DDL cannot take bind parameters. Both come from Date, so they are safe.
  const from = new Date(monthStart).toISOString();
  const to = new Date(next).toISOString();
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK_KEY]);
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF raw_trades FOR VALUES FROM ('${from}') TO ('${to}')`,
    );
  });
  return name;
}
