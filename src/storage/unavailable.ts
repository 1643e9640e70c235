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

/** Node's TLS codes for a server certificate that was not trusted. */
const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Turns a connection failure into `db_unavailable` naming where we tried, so the user sees one line
 * instead of a driver stack; anything else (a bad query) is returned unchanged. `connecting`: the error
 * came from the first query of a new connection, where a closed connection means the other end is not a
 * Postgres server that accepts us (later, it is an outage).
 */
export function asUnavailable(err: unknown, url: string, connecting = false): unknown {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : '';
  const reason =
    code === undefined
      ? (sslReason(message) ??
        (connecting && /Connection terminated/i.test(message)
          ? 'something answers there but closed the connection: is it a Postgres server?'
          : undefined))
      : UNREACHABLE.has(code)
        ? `nothing answers (${code})`
        : UNTRUSTED_CERTIFICATE.has(code)
          ? `its SSL certificate is not trusted (${code}); sslmode=prefer, require and verify-ca are checked ` +
            'as verify-full here: add the CA with sslrootcert=FILE, or use sslmode=no-verify'
          : REJECTED[code];
  if (reason === undefined && !isTimeout(err)) return err;
  return new RxtradeError(
    'db_unavailable',
    `cannot use Postgres at ${describeUrl(url)}: ${reason ?? 'the connection timed out'}`,
    { cause: err },
  );
}

function sslReason(message: string): string | undefined {
  return /does not support SSL/i.test(message)
    ? 'the server does not accept SSL connections, and the URL asks for them (sslmode or ssl): ' +
        'use sslmode=disable, or drop the setting'
    : undefined;
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
