/**
 * One schema step. SQL lives in TypeScript string constants so it ships inside dist/ with no asset copying.
 * The SQL must run unchanged on Postgres 15 and on PGlite. Never edit an applied migration: add a new one.
 */
export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
}
