import type { Migration } from './migration.js';

/**
 * What running bots need (issue 10), added to the requirements' tables without changing their columns.
 *
 * - `bots.name` holds the config's `bot_id` (it is already UNIQUE, and `bots.id` stays the serial the
 *   foreign keys use). `engine_state` is the engine's latest snapshot and `last_candle_ms` the close time of
 *   the last candle it processed (catch-up after a restart starts after it); `epoch` counts the times the
 *   bot started over (`reset: true`), so the fills of each run stay apart.
 * - `trades`: one row per fill, identified by (bot_id, epoch, fill_seq) — the engine's per-bot fill number.
 *   The order id alone cannot be the key: an order can fill in parts (take-profit levels) and the fill that
 *   closes a position at the end of a run belongs to no order (order id 0).
 * - `config_history`: every configuration applied to a bot, with where it came from and why.
 */
export const bots: Migration = {
  id: 5,
  name: 'bots',
  sql: `
ALTER TABLE bots
  ADD COLUMN status_message text,
  ADD COLUMN config_hash text,
  ADD COLUMN engine_state jsonb,
  ADD COLUMN last_candle_ms bigint,
  ADD COLUMN total_value numeric,
  ADD COLUMN epoch integer NOT NULL DEFAULT 1;

ALTER TABLE trades
  ADD COLUMN epoch integer NOT NULL DEFAULT 1,
  ADD COLUMN fill_seq bigint,
  ADD COLUMN order_id bigint,
  ADD COLUMN purpose text CHECK (purpose IN ('entry', 'exit', 'stop_loss', 'take_profit', 'trailing_stop')),
  ADD COLUMN liquidity text CHECK (liquidity IN ('maker', 'taker')),
  ADD CONSTRAINT trades_fill_key UNIQUE (bot_id, epoch, fill_seq);

ALTER TABLE positions
  ADD COLUMN side text NOT NULL DEFAULT 'long' CHECK (side IN ('long', 'short')),
  ADD COLUMN entry_fees numeric NOT NULL DEFAULT 0,
  ADD COLUMN last_price numeric,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE config_history (
  id bigserial PRIMARY KEY,
  bot_id integer NOT NULL REFERENCES bots (id),
  applied_at timestamptz NOT NULL DEFAULT now(),
  config jsonb NOT NULL,
  source_file text,
  content_hash text,
  reason text NOT NULL CHECK (reason IN ('file', 'reload', 'reset', 'api'))
);
CREATE INDEX config_history_bot_idx ON config_history (bot_id, applied_at);
`,
};
