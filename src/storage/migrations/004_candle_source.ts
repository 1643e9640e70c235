import type { Migration } from './migration.js';

/**
 * `market_data.source`: where a candle came from — `trades` (built by us from trades; the default) or
 * `okx_candles` (OKX's own 1m candles for minutes whose trades REST could no longer serve, and the higher
 * timeframes derived from them). Until now such candles were marked by `revision = 1000`, which late-trade
 * revisions could reach too; they are converted here (they are the only 1m rows with revision 1000 and no
 * trades counted) and get revision 0 back.
 */
export const candleSource: Migration = {
  id: 4,
  name: 'candle_source',
  sql: `
ALTER TABLE market_data ADD COLUMN source text NOT NULL DEFAULT 'trades';

UPDATE market_data SET source = 'okx_candles', revision = 0
 WHERE timeframe = '1m' AND revision = 1000 AND trades_count = 0;
`,
};
