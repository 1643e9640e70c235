import type { Migration } from './migration.js';

/**
 * One row per exchange trade in `raw_trades`, so the raw-trade sink can replay a batch (after an outage,
 * or from its spill file) without duplicating trades. The partition key (`timestamp`) must be part of a
 * unique index on a partitioned table; a trade id never changes its time, so this is the same constraint.
 */
export const rawTradesUnique: Migration = {
  id: 2,
  name: 'raw_trades_unique',
  sql: `
CREATE UNIQUE INDEX raw_trades_trade_uidx ON raw_trades (exchange, symbol, trade_id, "timestamp");
`,
};
