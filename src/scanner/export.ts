import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RxtradeError } from '../domain/errors.js';
import type { Queryable } from '../storage/database.js';
import { csvRow } from '../storage/csv.js';

export interface ExportRange {
  /** Rows with `fromMs ≤ time < toMs`; each bound optional. */
  readonly fromMs?: number;
  readonly toMs?: number;
  /** One run only. */
  readonly runId?: string;
}

const BOOK_LEVELS = 5;

/**
 * Writes `opportunities.csv` and `snapshots.csv` into `dir` (created if missing): one row per stored row
 * in time order, the indicators spread into one column each (the union of the keys found), the book as
 * bid1_px, bid1_sz … ask5_sz. Returns how many rows each file got.
 */
export async function exportScanCsv(
  db: Queryable,
  dir: string,
  range: ExportRange,
): Promise<{ opportunities: number; snapshots: number }> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (range.fromMs !== undefined) where.push(`time >= $${params.push(new Date(range.fromMs))}`);
  if (range.toMs !== undefined) where.push(`time < $${params.push(new Date(range.toMs))}`);
  if (range.runId !== undefined) where.push(`run_id = $${params.push(range.runId)}`);
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const opportunities = await db.query<Row>(
    `SELECT run_id, exchange, symbol, time, price, score, indicators FROM scanner_opportunities ${filter} ORDER BY time, symbol, id`,
    params,
  );
  const snapshots = await db.query<Row>(
    `SELECT run_id, exchange, symbol, time, open, high, low, close, volume, volume_24h, btc_correlation, indicators, book
     FROM scanner_snapshots ${filter} ORDER BY time, symbol, id`,
    params,
  );
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'opportunities.csv'),
      toCsv(opportunities, ['run_id', 'exchange', 'symbol', 'time', 'price', 'score'], false),
    );
    await writeFile(
      join(dir, 'snapshots.csv'),
      toCsv(
        snapshots,
        [
          'run_id',
          'exchange',
          'symbol',
          'time',
          'open',
          'high',
          'low',
          'close',
          'volume',
          'volume_24h',
          'btc_correlation',
        ],
        true,
      ),
    );
  } catch (err) {
    if (err instanceof RxtradeError) throw err;
    throw new RxtradeError('usage', `--export ${dir}: cannot write there (${(err as Error).message})`);
  }
  return { opportunities: opportunities.length, snapshots: snapshots.length };
}

type Row = Record<string, unknown> & { indicators: Record<string, number>; book?: Book | null };
interface Book {
  bids: [number, number][];
  asks: [number, number][];
}

function toCsv(rows: readonly Row[], columns: readonly string[], withBook: boolean): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.indicators)))].sort();
  const bookColumns = withBook
    ? (['bid', 'ask'] as const).flatMap((side) =>
        Array.from({ length: BOOK_LEVELS }, (_, i) => [`${side}${i + 1}_px`, `${side}${i + 1}_sz`]).flat(),
      )
    : [];
  let out = csvRow([...columns, ...keys, ...bookColumns]);
  for (const r of rows) {
    const book: unknown[] = [];
    if (withBook) {
      for (const side of ['bids', 'asks'] as const) {
        for (let i = 0; i < BOOK_LEVELS; i++) {
          const level = r.book?.[side][i];
          book.push(level?.[0], level?.[1]);
        }
      }
    }
    out += csvRow([...columns.map((c) => r[c]), ...keys.map((k) => r.indicators[k]), ...book]);
  }
  return out;
}
