import type { Migration } from './migration.js';

/** The schema from the product requirements, plus what backtests (backtest_runs) and restarts (positions) need. */
export const initial: Migration = {
  id: 1,
  name: 'initial',
  sql: `
CREATE TABLE market_data (
  id bigserial PRIMARY KEY,
  exchange text NOT NULL DEFAULT 'okx',
  symbol text NOT NULL,
  timeframe text NOT NULL,
  "timestamp" timestamptz NOT NULL, -- the candle's CLOSE time
  open DECIMAL(18,8) NOT NULL,
  high DECIMAL(18,8) NOT NULL,
  low DECIMAL(18,8) NOT NULL,
  close DECIMAL(18,8) NOT NULL,
  volume DECIMAL(18,8) NOT NULL,
  trades_count integer NOT NULL DEFAULT 0,
  revision integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT market_data_candle_key UNIQUE (exchange, symbol, timeframe, "timestamp")
);
CREATE INDEX market_data_symbol_timeframe_ts_idx ON market_data (symbol, timeframe, "timestamp");

-- One partition per UTC month, created on demand by ensureRawTradesPartition().
CREATE TABLE raw_trades (
  exchange text NOT NULL DEFAULT 'okx',
  symbol text NOT NULL,
  "timestamp" timestamptz NOT NULL,
  type text NOT NULL,
  data jsonb,
  trade_id text
) PARTITION BY RANGE ("timestamp");
CREATE INDEX raw_trades_symbol_ts_idx ON raw_trades (exchange, symbol, "timestamp");

CREATE TABLE bots (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  strategy_name text NOT NULL,
  symbol text NOT NULL,
  timeframe text NOT NULL,
  status text NOT NULL DEFAULT 'inactive' CHECK (status IN ('active', 'inactive', 'paused', 'error')),
  config_file text,
  config jsonb,
  virtual_balance numeric(24,8) NOT NULL,
  current_balance numeric(24,8) NOT NULL,
  last_heartbeat timestamptz,
  restarts jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE signals (
  id bigserial PRIMARY KEY,
  bot_id integer NOT NULL REFERENCES bots (id),
  "timestamp" timestamptz NOT NULL,
  signal_type text NOT NULL CHECK (signal_type IN ('buy', 'sell', 'hold')),
  price numeric(24,8),
  confidence double precision,
  reason text,
  indicators jsonb
);
CREATE INDEX signals_bot_ts_idx ON signals (bot_id, "timestamp");

CREATE TABLE trades (
  id bigserial PRIMARY KEY,
  bot_id integer NOT NULL REFERENCES bots (id),
  signal_id bigint REFERENCES signals (id),
  "timestamp" timestamptz NOT NULL,
  side text NOT NULL CHECK (side IN ('buy', 'sell')),
  price numeric(24,8) NOT NULL,
  quantity numeric(24,8) NOT NULL,
  fees numeric(24,8) NOT NULL DEFAULT 0,
  pnl numeric(24,8),
  balance_after numeric(24,8),
  order_type text,
  reason text
);
CREATE INDEX trades_bot_ts_idx ON trades (bot_id, "timestamp");

CREATE TABLE bot_performance (
  id bigserial PRIMARY KEY,
  bot_id integer NOT NULL REFERENCES bots (id),
  "timestamp" timestamptz NOT NULL,
  total_value numeric(24,8) NOT NULL,
  cash_balance numeric(24,8) NOT NULL,
  crypto_balance numeric(24,8) NOT NULL,
  total_trades integer NOT NULL DEFAULT 0,
  winning_trades integer NOT NULL DEFAULT 0,
  total_fees numeric(24,8) NOT NULL DEFAULT 0
);
CREATE INDEX bot_performance_bot_ts_idx ON bot_performance (bot_id, "timestamp");

-- Open positions, so a restarted bot resumes them instead of forgetting them.
CREATE TABLE positions (
  bot_id integer NOT NULL REFERENCES bots (id),
  symbol text NOT NULL,
  quantity numeric(24,8) NOT NULL,
  avg_entry numeric(24,8) NOT NULL,
  stop_loss numeric(24,8),
  take_profit jsonb,
  trailing_stop jsonb, -- "trailing" is a reserved word in Postgres
  opened_at timestamptz NOT NULL,
  PRIMARY KEY (bot_id, symbol)
);

CREATE TABLE backtest_runs (
  id bigserial PRIMARY KEY,
  strategy_name text NOT NULL,
  params jsonb,
  symbol text NOT NULL,
  timeframe text NOT NULL,
  from_ms bigint NOT NULL,
  to_ms bigint NOT NULL,
  metrics jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
`,
};
