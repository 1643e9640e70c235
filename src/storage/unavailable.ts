import { RxtradeError } from '../domain/errors.js';

/** Error codes (Node and Postgres SQLSTATE) that mean "the database is not there", not "the query is wrong". */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ECONNRESET',
]);
const REJECTED: Readonly<Record<string, string>> = {
  '3D000': 'the database does not exist',
  '28P01': 'the password was rejected',
  '28000': 'the login was rejected',
  '57P03': 'the server is starting up or shutting down',
};

/** host:port/database of a connection string, without the user or password (safe to print and log). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'an unparseable DATABASE_URL';
  }
}

/**
 * Turns a connection failure into `db_unavailable` naming where we tried, so the user sees one line
 * instead of a driver stack; anything else (a bad query) is returned unchanged.
 */
export function asUnavailable(err: unknown, url: string): unknown {
  const code = errorCode(err);
  const reason =
    code === undefined ? undefined : UNREACHABLE.has(code) ? `nothing answers (${code})` : REJECTED[code];
  if (reason === undefined && !isTimeout(err)) return err;
  return new RxtradeError(
    'db_unavailable',
    `cannot use Postgres at ${describeUrl(url)}: ${reason ?? 'the connection timed out'}`,
    { cause: err },
  );
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const own = (err as { code?: unknown }).code;
  if (typeof own === 'string') return own;
  // Node reports a refused dual-stack connect (localhost → ::1 and 127.0.0.1) as an AggregateError.
  const inner = (err as { errors?: unknown }).errors;
  return Array.isArray(inner) ? errorCode(inner[0]) : undefined;
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && /timeout/i.test(err.message) && /connect/i.test(err.message);
}
