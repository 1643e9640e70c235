import type { Migration } from './migration.js';

/**
 * The market scanner (issue 14): its runs and every configuration version they applied, the universe
 * evaluations (which symbols passed the filters, which entered or left), the opportunities with their
 * indicator values and score, periodic market snapshots, the simulated positions with their partial exits,
 * and the run metrics. Opportunities and snapshots are the training data set: indexed by time and by
 * symbol and time for range reads.
 */
export const scanner: Migration = {
  id: 7,
  name: 'scanner',
  sql: `
CREATE TABLE scanner_runs (
  run_id text PRIMARY KEY,
  exchange text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE TABLE scanner_config_history (
  id bigserial PRIMARY KEY,
  run_id text NOT NULL REFERENCES scanner_runs (run_id) ON DELETE CASCADE,
  version integer NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  source text NOT NULL,
  config jsonb NOT NULL,
  UNIQUE (run_id, version)
);
CREATE TABLE scanner_universe (
  id bigserial PRIMARY KEY,
  run_id text NOT NULL REFERENCES scanner_runs (run_id) ON DELETE CASCADE,
  exchange text NOT NULL,
  symbol text NOT NULL,
  evaluated_at timestamptz NOT NULL,
  included boolean NOT NULL,
  change text CHECK (change IN ('entered', 'left')),
  reason text,
  volume_24h numeric,
  spread_pct double precision,
  volatility_pct double precision,
  history_candles integer
);
CREATE INDEX scanner_universe_time_idx ON scanner_universe (evaluated_at);
CREATE INDEX scanner_universe_symbol_time_idx ON scanner_universe (symbol, evaluated_at);
CREATE TABLE scanner_opportunities (
  id bigserial PRIMARY KEY,
  run_id text NOT NULL REFERENCES scanner_runs (run_id) ON DELETE CASCADE,
  exchange text NOT NULL,
  symbol text NOT NULL,
  time timestamptz NOT NULL,
  price double precision NOT NULL,
  score double precision NOT NULL,
  indicators jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scanner_opportunities_time_idx ON scanner_opportunities (time);
CREATE INDEX scanner_opportunities_symbol_time_idx ON scanner_opportunities (symbol, time);
CREATE TABLE scanner_snapshots (
  id bigserial PRIMARY KEY,
  run_id text NOT NULL REFERENCES scanner_runs (run_id) ON DELETE CASCADE,
  exchange text NOT NULL,
  symbol text NOT NULL,
  time timestamptz NOT NULL,
  open double precision NOT NULL,
  high double precision NOT NULL,
  low double precision NOT NULL,
  close double precision NOT NULL,
  volume double precision NOT NULL,
  volume_24h double precision,
  btc_correlation double precision,
  indicators jsonb NOT NULL,
  book jsonb
);
CREATE INDEX scanner_snapshots_time_idx ON scanner_snapshots (time);
CREATE INDEX scanner_snapshots_symbol_time_idx ON scanner_snapshots (symbol, time);
CREATE TABLE scanner_positions (
  run_id text NOT NULL REFERENCES scanner_runs (run_id) ON DELETE CASCADE,
  position_id integer NOT NULL,
  symbol text NOT NULL,
  opportunity_time timestamptz NOT NULL,
  opened_at timestamptz,
  entry_price double precision,
  qty double precision,
  closed_at timestamptz,
  pnl double precision NOT NULL DEFAULT 0,
  status text NOT NULL CHECK (status IN ('pending', 'open', 'closed')),
  PRIMARY KEY (run_id, position_id)
);
CREATE INDEX scanner_positions_opened_idx ON scanner_positions (opened_at);
CREATE TABLE scanner_partial_exits (
  id bigserial PRIMARY KEY,
  run_id text NOT NULL,
  position_id integer NOT NULL,
  symbol text NOT NULL,
  time timestamptz NOT NULL,
  price double precision NOT NULL,
  qty double precision NOT NULL,
  percentage double precision NOT NULL,
  pnl double precision NOT NULL,
  purpose text NOT NULL,
  trailing_active boolean NOT NULL,
  FOREIGN KEY (run_id, position_id) REFERENCES scanner_positions (run_id, position_id) ON DELETE CASCADE
);
CREATE INDEX scanner_partial_exits_time_idx ON scanner_partial_exits (time);
CREATE TABLE scanner_run_metrics (
  run_id text PRIMARY KEY REFERENCES scanner_runs (run_id) ON DELETE CASCADE,
  updated_at timestamptz NOT NULL DEFAULT now(),
  trades integer NOT NULL,
  win_rate double precision,
  avg_profit double precision,
  avg_loss double precision,
  profit_factor double precision,
  max_drawdown double precision,
  sharpe double precision,
  total_pnl double precision NOT NULL,
  metrics jsonb NOT NULL
);
`,
};
