import type { Trade } from '../domain/trade.js';
import { isoTimestamp } from './csv.js';
import type { Database } from './database.js';
import { ensureRawTradesPartition, monthStartMs } from './rawTradesPartitions.js';
import { DEFAULT_EXCHANGE } from '../domain/exchange.js';

const COLUMNS = ['exchange', 'symbol', 'trade_id', 'timestamp', 'type', 'data'] as const;

/**
 * Exchange trades as received, in `raw_trades` (partitioned by month; partitions created on demand).
 * Inserts go through COPY into a staging table and `ON CONFLICT DO NOTHING`, so writing a batch twice
 * stores each trade once. `data` keeps the trade as JSON: `{ px, sz, side, count? }`.
 */
export class RawTradeStore {
  private readonly partitions = new Set<number>();

  constructor(
    private readonly db: Database,
    private readonly exchange = DEFAULT_EXCHANGE,
  ) {}

  /** Stores the trades and returns how many were new. */
  async insert(trades: readonly Trade[]): Promise<number> {
    if (trades.length === 0) return 0;
    for (const t of trades) {
      const month = monthStartMs(t.tsMs);
      if (!this.partitions.has(month)) {
        await ensureRawTradesPartition(this.db, month);
        this.partitions.add(month);
      }
    }
    const rows = await this.db.transaction(async (tx) => {
      await tx.exec(
        `CREATE TEMP TABLE IF NOT EXISTS raw_trades_staging (
           exchange text, symbol text, trade_id text, timestamp timestamptz, type text, data jsonb
         ) ON COMMIT DELETE ROWS`,
      );
      await tx.copyRows(
        'raw_trades_staging',
        COLUMNS,
        trades.map((t) => [
          this.exchange,
          t.symbol,
          t.tradeId,
          isoTimestamp(t.tsMs),
          'trade',
          { px: t.price, sz: t.size, side: t.side, ...(t.count !== undefined ? { count: t.count } : {}) },
        ]),
      );
      return tx.query<{ n: number | string }>(
        `WITH ins AS (
           INSERT INTO raw_trades (${COLUMNS.join(', ')})
           SELECT DISTINCT ON (exchange, symbol, trade_id, timestamp) ${COLUMNS.join(', ')} FROM raw_trades_staging
           ON CONFLICT (exchange, symbol, trade_id, "timestamp") DO NOTHING
           RETURNING 1
         ) SELECT count(*) AS n FROM ins`,
      );
    });
    return Number(rows[0]?.n ?? 0);
  }

  /** Trades of `symbol` with `fromMs ≤ ts < toMs`, in time then id order (for replays and tests). */
  async range(symbol: string, fromMs: number, toMs: number): Promise<Trade[]> {
    const rows = await this.db.query<{
      trade_id: string;
      ts: number | string;
      data: Record<string, unknown>;
    }>(
      `SELECT trade_id, (extract(epoch from timestamp) * 1000)::bigint AS ts, data FROM raw_trades
        WHERE exchange = $1 AND symbol = $2
          AND timestamp >= to_timestamp($3::double precision / 1000) AND timestamp < to_timestamp($4::double precision / 1000)
        ORDER BY timestamp, length(trade_id), trade_id`,
      [this.exchange, symbol, fromMs, toMs],
    );
    return rows.map((r) => {
      const d = r.data as { px: number; sz: number; side: Trade['side']; count?: number };
      return {
        symbol,
        tradeId: r.trade_id,
        tsMs: Number(r.ts),
        price: d.px,
        size: d.sz,
        side: d.side,
        ...(d.count !== undefined ? { count: d.count } : {}),
      };
    });
  }
}
