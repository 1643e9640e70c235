import type { Candle } from '../src/domain/candle.js';
import { timeframeMs, type Timeframe } from '../src/domain/timeframe.js';
import { readCandleColumns } from '../src/storage/candleColumns.js';
import type { Queryable } from '../src/storage/database.js';
import { readCandleCsv, type CandleLabel } from '../src/streams/candleCsv.js';

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
  readonly timeframe?: Timeframe;
  readonly symbol?: string;
}

export interface LoadedCandles {
  readonly candles: Candle[];
  /** Whether the file's time column held open or close times (CSV only). */
  readonly label?: CandleLabel;
  /** Candles read before the time range was applied. */
  readonly read: number;
}

/** Reads a candle CSV (see readCandleCsv) and keeps the candles inside the range. */
export async function loadCsvCandles(path: string, options: CsvCandlesOptions = {}): Promise<LoadedCandles> {
  const timeframe = options.timeframe ?? '1m';
  const file = await readCandleCsv(path, {
    timeframe,
    ...(options.label !== undefined ? { label: options.label } : {}),
    ...(options.symbol !== undefined ? { symbol: options.symbol } : {}),
  });
  const all = file.candles;
  const tf = timeframeMs(timeframe);
  const from = options.fromMs ?? Number.NEGATIVE_INFINITY;
  const to = options.toMs ?? Number.POSITIVE_INFINITY;
  const candles =
    options.fromMs === undefined && options.toMs === undefined
      ? all
      : all.filter((c) => c.closeTimeMs - tf >= from && c.closeTimeMs <= to);
  return { candles, label: file.label, read: all.length };
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
  const candles = new Array<Candle>(cols.length);
  for (let i = 0; i < cols.length; i++) {
    candles[i] = {
      symbol: q.symbol,
      timeframe: q.timeframe,
      closeTimeMs: cols.closeTimeMs[i] as number,
      open: cols.open[i] as number,
      high: cols.high[i] as number,
      low: cols.low[i] as number,
      close: cols.close[i] as number,
      volume: cols.volume[i] as number,
      tradesCount: cols.tradesCount[i] as number,
      closed: true,
      revision: 0,
    };
  }
  return { candles, read: cols.length };
}
