import type { Candle } from '../src/domain/candle.js';
import { InvalidDataError } from '../src/domain/errors.js';
import { timeframeMs, type Timeframe } from '../src/domain/timeframe.js';
import { candlesOfColumns, readCandleColumns } from '../src/storage/candleColumns.js';
import type { Queryable } from '../src/storage/database.js';
import { candlesOfColumns as candlesOfCsvColumns, type CandleColumns } from '../src/streams/candleColumns.js';
import { readCandleCsvColumns } from '../src/streams/candleCsv.js';
import type { CandleLabel } from '../src/streams/candleCsvParser.js';
import { CandleSpacing } from '../src/streams/candleSpacing.js';

/**
 * Where backtest candles come from: a candle CSV or the `market_data` table (Postgres or PGlite). Both give
 * closed candles of one symbol and timeframe in time order, as stored: gaps are left as they are (the
 * runner reports them).
 */

/** Candles whose whole interval lies in [fromMs, toMs): open time ≥ fromMs, close time ≤ toMs. */
export interface TimeRange {
  readonly fromMs?: number;
  readonly toMs?: number;
}

export interface CsvCandlesOptions extends TimeRange {
  readonly label?: CandleLabel;
  /**
   * Interval of the rows; refused when their spacing says otherwise (see CandleSpacing). Undefined: the
   * longest timeframe the spacing allows (1m for a single row).
   */
  readonly timeframe?: Timeframe;
  readonly symbol?: string;
  /** Read the columns onto SharedArrayBuffers (what `optimize` hands its worker threads). */
  readonly shared?: boolean;
}

export interface LoadedCandles {
  /** The candles (from a CSV: made from `columns` when first read, so a caller that needs only the columns never pays for them). */
  readonly candles: Candle[];
  /** The same candles as columns (CSV only). */
  readonly columns?: CandleColumns;
  /** Interval of the candles (CSV: as given, or read off the rows' spacing). */
  readonly timeframe?: Timeframe;
  /** True when `timeframe` was read off the spacing of the rows rather than given. */
  readonly timeframeFromSpacing?: boolean;
  /** Whether the file's time column held open or close times (CSV only). */
  readonly label?: CandleLabel;
  /** Candles read before the time range was applied. */
  readonly read: number;
}

/** Reads a candle CSV (see readCandleCsvColumns) and keeps the candles inside the range. */
export async function loadCsvCandles(path: string, options: CsvCandlesOptions = {}): Promise<LoadedCandles> {
  const read = (timeframe: Timeframe, spacing?: CandleSpacing) =>
    readCandleCsvColumns(path, {
      timeframe,
      ...(spacing !== undefined ? { spacing } : {}),
      ...(options.label !== undefined ? { label: options.label } : {}),
      ...(options.symbol !== undefined ? { symbol: options.symbol } : {}),
      ...(options.shared === true ? { shared: true } : {}),
    });
  const spacing = new CandleSpacing();
  let timeframe = options.timeframe ?? '1m';
  let file = await read(timeframe, spacing);
  if (options.timeframe !== undefined) {
    const seen = spacing.contradicts(timeframe);
    if (seen !== undefined) {
      throw new InvalidDataError(
        `${path}: the rows look like ${seen} candles, not ${timeframe}: ${spacing.describe()}; use --timeframe ${seen}`,
      );
    }
  } else {
    const seen = spacing.timeframe();
    if (seen !== undefined && seen !== timeframe) {
      // Read again: an open-time label stamps the close one interval later, and the interval changed.
      timeframe = seen;
      file = await read(timeframe);
    }
  }
  const all = file.columns;
  const tf = timeframeMs(timeframe);
  // The rows are in time order (the reader refuses any other), so the range is one run of rows: those
  // opening at or after fromMs and closing at or before toMs.
  const times = all.closeTimeMs;
  let first = 0;
  let end = all.length;
  if (options.fromMs !== undefined) {
    const from = options.fromMs;
    while (first < end && !((times[first] as number) - tf >= from)) first++;
  }
  if (options.toMs !== undefined) {
    const to = options.toMs;
    while (end > first && !((times[end - 1] as number) <= to)) end--;
  }
  const columns = first === 0 && end === all.length ? all : columnsRange(all, first, end);
  let candles: Candle[] | undefined;
  return {
    get candles(): Candle[] {
      candles ??= candlesOfCsvColumns(columns);
      return candles;
    },
    columns,
    label: file.label,
    read: all.length,
    timeframe,
    timeframeFromSpacing: options.timeframe === undefined && timeframe !== '1m',
  };
}

/** Rows `from` … `to` − 1 of `c` (views on the same memory). */
function columnsRange(c: CandleColumns, from: number, to: number): CandleColumns {
  return {
    symbol: c.symbol,
    timeframe: c.timeframe,
    length: to - from,
    closeTimeMs: c.closeTimeMs.subarray(from, to),
    open: c.open.subarray(from, to),
    high: c.high.subarray(from, to),
    low: c.low.subarray(from, to),
    close: c.close.subarray(from, to),
    volume: c.volume.subarray(from, to),
  };
}

export interface DatabaseCandlesQuery {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly fromMs: number;
  readonly toMs: number;
  readonly exchange?: string;
}

/** Reads the stored closed candles of the range (columnar, paged: see readCandleColumns). */
export async function loadDatabaseCandles(db: Queryable, q: DatabaseCandlesQuery): Promise<LoadedCandles> {
  const tf = timeframeMs(q.timeframe);
  const cols = await readCandleColumns(db, {
    symbol: q.symbol,
    timeframe: q.timeframe,
    fromMs: q.fromMs + tf,
    toMs: q.toMs + 1,
    ...(q.exchange !== undefined ? { exchange: q.exchange } : {}),
  });
  const candles = candlesOfColumns(cols, q.symbol, q.timeframe);
  return { candles, read: cols.length };
}

/** What `market_data` holds for one exchange, symbol and timeframe. */
export interface StoredCandleSet {
  readonly exchange: string;
  readonly symbol: string;
  readonly timeframe: string;
  readonly firstCloseTimeMs: number;
  readonly lastCloseTimeMs: number;
  readonly count: number;
}

/** Every exchange, symbol and timeframe stored, with its range: one grouped scan (for "no candles" errors). */
export async function storedCandleSets(db: Queryable): Promise<StoredCandleSet[]> {
  const rows = await db.query<{
    exchange: string;
    symbol: string;
    timeframe: string;
    first_ms: number;
    last_ms: number;
    n: number;
  }>(
    `SELECT exchange, symbol, timeframe,
            (extract(epoch from min("timestamp")) * 1000)::bigint AS first_ms,
            (extract(epoch from max("timestamp")) * 1000)::bigint AS last_ms,
            count(*)::bigint AS n
       FROM market_data
      GROUP BY exchange, symbol, timeframe
      ORDER BY exchange, symbol, timeframe`,
  );
  return rows.map((r) => ({
    exchange: r.exchange,
    symbol: r.symbol,
    timeframe: r.timeframe,
    firstCloseTimeMs: Number(r.first_ms),
    lastCloseTimeMs: Number(r.last_ms),
    count: Number(r.n),
  }));
}

/**
 * The exchanges that have candles of `symbol`. Walks the few distinct exchanges through the leading column
 * of the (exchange, symbol, timeframe, timestamp) key, then asks the key once per exchange: no scan of the
 * symbol's rows, however many there are.
 */
export async function exchangesWithSymbol(db: Queryable, symbol: string): Promise<string[]> {
  const rows = await db.query<{ exchange: string }>(
    `WITH RECURSIVE ex(e) AS (
       SELECT min(exchange) FROM market_data
       UNION ALL
       SELECT (SELECT min(exchange) FROM market_data WHERE exchange > ex.e) FROM ex WHERE ex.e IS NOT NULL
     )
     SELECT e AS exchange FROM ex
      WHERE e IS NOT NULL
        AND EXISTS (SELECT 1 FROM market_data m WHERE m.exchange = ex.e AND m.symbol = $1)
      ORDER BY e`,
    [symbol],
  );
  return rows.map((r) => r.exchange);
}
