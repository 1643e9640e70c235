import type { Migration } from './migration.js';

/**
 * Backtests run through the HTTP API (issue 11). 001 created `backtest_runs` with a serial id and the
 * request's columns; this makes it hold whole runs: a random UUID as id (run ids are handed out by the API
 * and must not be guessable in sequence), the exchange, balance, risk and venue asked for, the status, and
 * once done the outcome as JSON (metrics, round trips, equity curve, fills, warnings; a run is read whole,
 * never queried inside). Rows written before keep their data (their id becomes its text).
 */
export const backtestRuns: Migration = {
  id: 6,
  name: 'backtest_runs',
  sql: `
ALTER TABLE backtest_runs ALTER COLUMN id DROP DEFAULT;
ALTER TABLE backtest_runs ALTER COLUMN id TYPE text USING id::text;
DROP SEQUENCE IF EXISTS backtest_runs_id_seq;
ALTER TABLE backtest_runs RENAME COLUMN strategy_name TO strategy;
UPDATE backtest_runs SET params = '{}'::jsonb WHERE params IS NULL;
ALTER TABLE backtest_runs ALTER COLUMN params SET NOT NULL;
ALTER TABLE backtest_runs
  ADD COLUMN exchange text NOT NULL DEFAULT 'okx',
  ADD COLUMN initial_balance numeric NOT NULL DEFAULT 10000,
  ADD COLUMN risk jsonb NOT NULL DEFAULT '{}'::jsonb,
  ADD COLUMN venue jsonb NOT NULL DEFAULT '{}'::jsonb,
  ADD COLUMN status text NOT NULL DEFAULT 'done' CHECK (status IN ('running', 'done', 'failed')),
  ADD COLUMN error text,
  ADD COLUMN candles integer,
  ADD COLUMN trades jsonb,
  ADD COLUMN equity jsonb,
  ADD COLUMN fills jsonb,
  ADD COLUMN warnings jsonb,
  ADD COLUMN finished_at timestamptz;
CREATE INDEX backtest_runs_created_idx ON backtest_runs (created_at);
`,
};
