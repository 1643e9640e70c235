/**
 * Telling a database that refuses the data from one that is away: what BatchWriter splits on (and
 * dead-letters) and what `import` reports as a bad row rather than an internal error.
 */

/** SQLSTATE classes 22 (data exception: overflow, bad value, out of range) and 23 (constraint violation). */
const DATA_SQLSTATE_CLASSES = new Set(['22', '23']);

/**
 * True when the database refused the data itself (SQLSTATE class 22 or 23), or our own code refused to
 * encode it (`invalid_data`, e.g. a NaN for COPY): a smaller batch without the culprit would be taken.
 * Anything else is worth retrying: connection failures (no SQLSTATE), the server shutting down (57P01),
 * and class 42 (a missing table, a missing privilege), which no row causes and an operator can fix
 * while the items wait in the queue and the spill file.
 */
export function isDataDbError(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'invalid_data' || (code !== undefined && DATA_SQLSTATE_CLASSES.has(code.slice(0, 2)));
}

/** The SQLSTATE (or our own error code) of `err` or of the first error in its `cause` chain that has one. */
export function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (/^[0-9A-Z]{5}$/.test(code) || code === 'invalid_data')) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
