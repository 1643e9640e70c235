/**
 * The connection string handed to pg. pg 8 checks `sslmode=prefer`, `require` and `verify-ca` as
 * `verify-full`, and says so with a multi-line process warning on stderr at the first connection. We keep
 * that (secure) behaviour but spell it out, so nothing but our own one-line messages reaches the user.
 */
export function pgConnectionString(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url; // pg reports it
  }
  const mode = parsed.searchParams.get('sslmode');
  if (
    (mode === 'prefer' || mode === 'require' || mode === 'verify-ca') &&
    parsed.searchParams.get('uselibpqcompat') !== 'true'
  ) {
    parsed.searchParams.set('sslmode', 'verify-full');
    return parsed.toString();
  }
  return url;
}
