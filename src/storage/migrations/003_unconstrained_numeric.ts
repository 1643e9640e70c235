import type { Migration } from './migration.js';

/**
 * Prices, sizes and money as unconstrained `numeric`: DECIMAL(18,8) and numeric(24,8) overflowed at a
 * volume of 10¹⁰ (any meme coin's minute) and rounded prices below 10⁻⁴ to a few digits (0.000012345678
 * became 0.00001235). Unconstrained numeric keeps any decimal a JS number prints exactly.
 *
 * Dropping a numeric's precision and scale is binary-compatible, so Postgres rewrites neither the table nor
 * its indexes: existing rows keep their values (and their trailing zeros: 1.50000000 = 1.5) and the
 * migration takes no longer on a large `market_data` than on an empty one. One ALTER TABLE per table takes
 * its lock once.
 */
export const unconstrainedNumeric: Migration = {
  id: 3,
  name: 'unconstrained_numeric',
  sql: `
ALTER TABLE market_data
  ALTER COLUMN open TYPE numeric,
  ALTER COLUMN high TYPE numeric,
  ALTER COLUMN low TYPE numeric,
  ALTER COLUMN close TYPE numeric,
  ALTER COLUMN volume TYPE numeric;

ALTER TABLE bots
  ALTER COLUMN virtual_balance TYPE numeric,
  ALTER COLUMN current_balance TYPE numeric;

ALTER TABLE signals
  ALTER COLUMN price TYPE numeric;

ALTER TABLE trades
  ALTER COLUMN price TYPE numeric,
  ALTER COLUMN quantity TYPE numeric,
  ALTER COLUMN fees TYPE numeric,
  ALTER COLUMN pnl TYPE numeric,
  ALTER COLUMN balance_after TYPE numeric;

ALTER TABLE bot_performance
  ALTER COLUMN total_value TYPE numeric,
  ALTER COLUMN cash_balance TYPE numeric,
  ALTER COLUMN crypto_balance TYPE numeric,
  ALTER COLUMN total_fees TYPE numeric;

ALTER TABLE positions
  ALTER COLUMN quantity TYPE numeric,
  ALTER COLUMN avg_entry TYPE numeric,
  ALTER COLUMN stop_loss TYPE numeric;
`,
};
