import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../infra/logger.js';
import { errorCode } from '../storage/dataErrors.js';

/** One line of a dead-letter file: a row the database refused, and why. */
export interface DeadLetter {
  readonly row: unknown;
  readonly sqlstate?: string;
  readonly message: string;
  readonly detail?: string;
  /** When it was refused (ISO-8601, UTC). */
  readonly time: string;
}

/** What a dead-letter line says about why its row was refused. */
export function describeRefusal(err: unknown): { sqlstate?: string; message: string; detail?: string } {
  const code = errorCode(err);
  const detail = (err as { detail?: unknown } | undefined)?.detail;
  return {
    ...(code !== undefined ? { sqlstate: code } : {}),
    message: err instanceof Error ? err.message : String(err),
    ...(typeof detail === 'string' && detail !== '' ? { detail } : {}),
  };
}

/**
 * Records rows the database refused: appended to the dead-letter file (JSON lines) when there is one, and
 * said once per batch in the log; when the file is missing or cannot be written, the log line carries the
 * rows themselves, so they are never lost silently. Returns how many reached the file.
 */
export function recordRefused(
  records: readonly DeadLetter[],
  batchSize: number,
  name: string,
  path: string | undefined,
  log: Logger,
): number {
  const first = records[0];
  const summary = {
    refused: records.length,
    batch: batchSize,
    sqlstate: first?.sqlstate,
    reason: first?.message,
  };
  const n = records.length;
  if (path === undefined) {
    log.error(
      { ...summary, rows: records },
      `${name}: the database refused ${n} of ${batchSize}; stored the others, the refused ones are in this log line only (no dead-letter file)`,
    );
    return 0;
  }
  try {
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  } catch (err) {
    log.error(
      { ...summary, err, deadLetterPath: path, rows: records },
      `${name}: the database refused ${n} of ${batchSize} and the dead-letter file ${path} cannot be written: the refused rows are in this log line only`,
    );
    return 0;
  }
  log.error(
    { ...summary, deadLetterPath: path },
    `${name}: the database refused ${n} of ${batchSize}; stored the others, moved the refused ones to ${path}`,
  );
  return n;
}
