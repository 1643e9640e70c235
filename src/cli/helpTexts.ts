/**
 * Flag descriptions shared by several commands, in a module of their own: a command can show them in its
 * --help without loading the database and bus code of ./runtime.ts (which re-exports them).
 */
export const DATABASE_URL_HELP = 'Postgres connection string (default: DATABASE_URL)';
export const PGLITE_HELP =
  'embedded PGlite data directory (default without DATABASE_URL: <RXTRADE_DATA_DIR>/pglite, i.e. ./data/pglite)';
