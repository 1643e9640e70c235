import { candlesOfColumns, readCandleColumns } from './candleColumns.js';
import type { Candle, CandleSource } from '../domain/candle.js';
import type { Timeframe } from '../domain/timeframe.js';
import { isoTimestamp } from './csv.js';
import type { Database, Queryable } from './database.js';
import { DEFAULT_EXCHANGE } from '../domain/exchange.js';

export interface UpsertResult {
  readonly inserted: number;
  readonly updated: number;
  /** Candles identical to their row (a replay), or older revisions than the row: nothing written. */
  readonly unchanged: number;
}

/** The columns of `market_data` a candle fills, in the order `candleRow` gives them. */
export const CANDLE_COLUMNS = [
  'exchange',
  'symbol',
  'timeframe',
  'timestamp',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'trades_count',
  'revision',
] as const;

/** One candle as a `market_data` row (CANDLE_COLUMNS order), for COPY. */
export function candleRow(exchange: string, c: Candle): unknown[] {
  return [
    exchange,
    c.symbol,
    c.timeframe,
    isoTimestamp(c.closeTimeMs),
    c.open,
    c.high,
    c.low,
    c.close,
    c.volume,
    c.tradesCount,
    c.revision,
  ];
}

/** The columns `upsertCandles` writes: CANDLE_COLUMNS and where each candle came from. */
const UPSERT_COLUMNS = [...CANDLE_COLUMNS, 'source'] as const;

/**
 * Which of two rows for one candle wins: a candle from OKX's candles (a minute whose trades were lost)
 * over one built from trades (which for such a minute holds only the trades we saw, or none), and within a
 * source the newer revision. SQL over a row alias.
 */
const rank = (row: string): string => `(CASE ${row}.source WHEN 'okx_candles' THEN 1 ELSE 0 END)`;

/**
 * Upserts the closed ones of `candles` inside an open transaction `tx` (see CandleStore.upsert). Callable
 * several times in one transaction: the staging table is emptied before each batch.
 */
export async function upsertCandles(
  tx: Queryable,
  exchange: string,
  candles: readonly Candle[],
): Promise<UpsertResult> {
  const closed = candles.filter((c) => c.closed);
  if (closed.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  const winners = winnersByKey(closed);
  await tx.exec(
    `CREATE TEMP TABLE IF NOT EXISTS market_data_staging (
       exchange text, symbol text, timeframe text, timestamp timestamptz,
       open numeric, high numeric, low numeric, close numeric, volume numeric,
       trades_count integer, revision integer, source text
     ) ON COMMIT DELETE ROWS;
     TRUNCATE market_data_staging`,
  );
  await tx.copyRows(
    'market_data_staging',
    UPSERT_COLUMNS,
    winners.map((c) => [...candleRow(exchange, c), sourceOf(c)]),
  );
  // DISTINCT ON: one row per key (the winning one), as ON CONFLICT may touch a row only once.
  const counts = await tx.query<{ inserted: number | string; updated: number | string }>(
    `WITH up AS (
       INSERT INTO market_data (${UPSERT_COLUMNS.join(', ')})
       SELECT DISTINCT ON (exchange, symbol, timeframe, timestamp) ${UPSERT_COLUMNS.join(', ')}
         FROM market_data_staging
        ORDER BY exchange, symbol, timeframe, timestamp, ${rank('market_data_staging')} DESC, revision DESC
       ON CONFLICT (exchange, symbol, timeframe, timestamp) DO UPDATE
          SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
              volume = EXCLUDED.volume, trades_count = EXCLUDED.trades_count, revision = EXCLUDED.revision,
              source = EXCLUDED.source
        WHERE (${rank('EXCLUDED')}, EXCLUDED.revision) >= (${rank('market_data')}, market_data.revision)
          AND (market_data.open, market_data.high, market_data.low, market_data.close, market_data.volume,
               market_data.trades_count, market_data.revision, market_data.source)
              IS DISTINCT FROM
              (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume,
               EXCLUDED.trades_count, EXCLUDED.revision, EXCLUDED.source)
       RETURNING (xmax = 0) AS inserted
     )
     SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM up`,
  );
  const inserted = Number(counts[0]?.inserted ?? 0);
  const updated = Number(counts[0]?.updated ?? 0);
  return { inserted, updated, unchanged: closed.length - inserted - updated };
}

/**
 * Candles in `market_data`, stamped by CLOSE time. Writes go through COPY into a staging table and one
 * upsert, so a batch costs two round trips whatever its size, and replays are idempotent: a row changes
 * only when the candle differs and does not lose to the row (a candle from OKX's candles wins over one built
 * from trades; within a source, the newer revision wins).
 */
export class CandleStore {
  constructor(
    private readonly db: Database,
    private readonly exchange = DEFAULT_EXCHANGE,
  ) {}

  async upsert(candles: readonly Candle[]): Promise<UpsertResult> {
    if (!candles.some((c) => c.closed)) return { inserted: 0, updated: 0, unchanged: 0 };
    return this.db.transaction((tx) => upsertCandles(tx, this.exchange, candles));
  }

  /**
   * Closed candles with `fromMs ≤ closeTimeMs < toMs`, oldest first, as objects: the columnar read
   * (readCandleColumns, the one reader of market_data ranges) with each candle's revision and source.
   */
  async range(symbol: string, timeframe: Timeframe, fromMs: number, toMs: number): Promise<Candle[]> {
    const cols = await readCandleColumns(this.db, {
      exchange: this.exchange,
      symbol,
      timeframe,
      fromMs,
      toMs,
      provenance: true,
    });
    return candlesOfColumns(cols, symbol, timeframe);
  }

  /**
   * Close time of the newest `timeframe` candle of `symbol` (of any symbol and timeframe of this exchange
   * when none is given), or undefined when none is stored.
   */
  async newestCloseTimeMs(symbol?: string, timeframe?: Timeframe): Promise<number | undefined> {
    const [row] =
      symbol === undefined
        ? await this.db.query<{ ts: number | string | null }>(
            `SELECT (extract(epoch from max(timestamp)) * 1000)::bigint AS ts FROM market_data WHERE exchange = $1`,
            [this.exchange],
          )
        : await this.db.query<{ ts: number | string | null }>(
            `SELECT (extract(epoch from max(timestamp)) * 1000)::bigint AS ts
               FROM market_data WHERE exchange = $1 AND symbol = $2 AND timeframe = $3`,
            [this.exchange, symbol, timeframe ?? '1m'],
          );
    return row?.ts === null || row?.ts === undefined ? undefined : Number(row.ts);
  }
}

/**
 * One candle per key, the one the upsert would keep (the rank of its source, then its revision; the later
 * on a tie): a burst of revisions of the same candles (late trades after a reconnect revise the 1m candle
 * and every timeframe above it, once per trade) costs one row each instead of one per revision.
 */
export function winnersByKey(candles: readonly Candle[]): Candle[] {
  const byKey = new Map<string, Candle>();
  const rankOf = (c: Candle): number => (sourceOf(c) === 'okx_candles' ? 1 : 0);
  for (const c of candles) {
    const key = `${c.symbol}\u0000${c.timeframe}\u0000${c.closeTimeMs}`;
    const held = byKey.get(key);
    if (
      held === undefined ||
      rankOf(c) > rankOf(held) ||
      (rankOf(c) === rankOf(held) && c.revision >= held.revision)
    )
      byKey.set(key, c);
  }
  return [...byKey.values()];
}

function sourceOf(c: Candle): CandleSource {
  return c.source ?? 'trades';
}
