import { Subject } from 'rxjs';
import type { Candle } from '../domain/candle.js';
import { InvalidDataError, RxtradeError } from '../domain/errors.js';
import { sortTimeframes, timeframeMs, type Timeframe } from '../domain/timeframe.js';
import { resampleCandles } from '../operators/resampleCandles.js';
import { readCandleColumns } from './candleColumns.js';
import { CANDLE_COLUMNS, candleRow, upsertCandles, type UpsertResult } from './candleStore.js';
import { isoTimestamp } from './csv.js';
import { errorCode, isDataDbError } from './dataErrors.js';
import type { Database, Queryable } from './database.js';
import { DEFAULT_EXCHANGE } from '../domain/exchange.js';

export interface ImportCandlesOptions {
  readonly symbol: string;
  /** Timeframe of every imported candle. */
  readonly timeframe: Timeframe;
  /** Default `okx`. */
  readonly exchange?: string;
  /**
   * Higher timeframes to build from the imported candles with `resampleCandles` and upsert as well (only
   * complete ones: see importCandles). Empty or absent: none.
   */
  readonly derive?: readonly Timeframe[];
  /** Called after each batch is written, with the candles written so far (base timeframe). */
  readonly onBatch?: (rowsWritten: number) => void;
  /** Checked between batches: when it returns true the import stops with an error and nothing is kept. */
  readonly shouldStop?: () => boolean;
  /**
   * Where a candle came from, for the error when the database refuses one ("FILE line 12"); it is also
   * asked about derived candles. Default: the candle's symbol, timeframe and close time.
   */
  readonly describe?: (candle: Candle) => string;
}

export interface ImportCandlesResult extends UpsertResult {
  /** Candles of the base timeframe received. */
  readonly rows: number;
  /** Derived candles written (all timeframes together), with how each was applied. */
  readonly derived: UpsertResult & { readonly rows: number };
  /** Batches that took the fast path (COPY straight into market_data) / the staging upsert. */
  readonly copiedBatches: number;
  readonly upsertedBatches: number;
}

const ZERO: UpsertResult = { inserted: 0, updated: 0, unchanged: 0 };
const SAVEPOINT = 'rxtrade_import_copy';
const BATCH_SAVEPOINT = 'rxtrade_import_batch';
const PROBE_SAVEPOINT = 'rxtrade_import_probe';
const UNIQUE_VIOLATION = '23505';

/**
 * Writes batches of candles of one symbol and timeframe (in strictly increasing close-time order across
 * batches, as CandleCsvParser guarantees) into `market_data`, in ONE transaction: if the source throws (a bad
 * row), the database refuses a candle (an InvalidDataError naming it through `describe`, with the
 * database's reason) or `shouldStop` fires, everything is rolled back and the table is as before.
 *
 * Each batch takes one of two paths:
 * - fast: when `market_data` holds no row of this exchange/symbol/timeframe between the batch's first and
 *   last close time, the batch is COPYed straight into `market_data` (every row is an insert). A concurrent
 *   writer that sneaks a row in makes the COPY fail on the unique key; the batch is then rolled back to a
 *   savepoint and takes the other path.
 * - upsert: COPY into a staging table and one `INSERT … ON CONFLICT DO UPDATE … WHERE IS DISTINCT FROM`
 *   (CandleStore's semantics), so a re-import changes nothing and reports every row unchanged.
 *
 * Derived candles (`derive`) come from `resampleCandles` fed with the imported candles, primed with the
 * stored base candles of the day before the first imported one (so importing a history in several files
 * gives the same higher candles as one file). Only complete candles are written: the operator never
 * emits the still-forming last bucket, and a bucket that starts before the first base candle known (stored
 * or imported) is dropped, as its start is missing. Across a gap in the data a bucket holds the candles
 * there are, as the operator does live.
 */
export async function importCandles(
  db: Database,
  batches: AsyncIterable<readonly Candle[]>,
  options: ImportCandlesOptions,
): Promise<ImportCandlesResult> {
  const exchange = options.exchange ?? DEFAULT_EXCHANGE;
  const derive = sortTimeframes(options.derive ?? []).filter((tf) => tf !== options.timeframe);
  return db.transaction(async (tx) => {
    let rows = 0;
    let base = ZERO;
    let copiedBatches = 0;
    let upsertedBatches = 0;
    const deriver = derive.length > 0 ? new Deriver(tx, exchange, options, derive) : undefined;
    const write = async (batch: readonly Candle[]): Promise<void> => {
      const written = await refusalNamed(tx, exchange, batch, options, () => writeBatch(tx, exchange, batch));
      if (written.copied) copiedBatches += 1;
      else upsertedBatches += 1;
      base = add(base, written);
      rows += batch.length;
      if (deriver !== undefined) await deriver.feed(batch);
      options.onBatch?.(rows);
    };
    // One batch is written while the next is read and parsed: the server inserts while we parse.
    let inFlight: Promise<void> | undefined;
    const iterator = batches[Symbol.asyncIterator]();
    let finished = false;
    try {
      for (;;) {
        const next = await iterator.next();
        if (inFlight !== undefined) await inFlight;
        inFlight = undefined;
        if (next.done === true) break;
        stopIfAsked(options);
        const batch = next.value;
        if (batch.length === 0) continue;
        checkBatch(batch, options);
        inFlight = write(batch);
        inFlight.catch(() => undefined); // awaited above; this only keeps it from counting as unhandled
      }
      finished = true;
    } finally {
      // On failure, let the statement in flight end before the transaction is rolled back.
      if (inFlight !== undefined) await inFlight.catch(() => undefined);
      if (!finished) await iterator.return?.();
    }
    stopIfAsked(options);
    const derived = deriver !== undefined ? await deriver.finish() : { ...ZERO, rows: 0 };
    return { ...base, rows, derived, copiedBatches, upsertedBatches };
  });
}

function stopIfAsked(options: ImportCandlesOptions): void {
  if (options.shouldStop?.())
    throw new RxtradeError('interrupted', 'import interrupted: nothing was written');
}

function checkBatch(batch: readonly Candle[], options: ImportCandlesOptions): void {
  for (const c of batch) {
    if (c.symbol !== options.symbol || c.timeframe !== options.timeframe || !c.closed) {
      throw new RxtradeError(
        'internal',
        `importCandles: got a ${c.closed ? '' : 'forming '}${c.symbol} ${c.timeframe} candle in an import of closed ${options.symbol} ${options.timeframe} candles`,
      );
    }
  }
}

/** One batch of one symbol/timeframe, keys distinct: COPY when its time range is empty, else upsert. */
async function writeBatch(
  tx: Queryable,
  exchange: string,
  batch: readonly Candle[],
): Promise<UpsertResult & { copied: boolean }> {
  const first = batch[0] as Candle;
  const last = batch[batch.length - 1] as Candle;
  const taken = await tx.query(
    `SELECT 1 FROM market_data
      WHERE exchange = $1 AND symbol = $2 AND timeframe = $3
        AND "timestamp" >= to_timestamp($4::float8 / 1000) AND "timestamp" <= to_timestamp($5::float8 / 1000)
      LIMIT 1`,
    [exchange, first.symbol, first.timeframe, first.closeTimeMs, last.closeTimeMs],
  );
  if (taken.length === 0) {
    await tx.exec(`SAVEPOINT ${SAVEPOINT}`);
    try {
      const n = await tx.copyRows('market_data', ...copyOf(exchange, batch));
      await tx.exec(`RELEASE SAVEPOINT ${SAVEPOINT}`);
      return { inserted: n, updated: 0, unchanged: batch.length - n, copied: true };
    } catch (err) {
      if (errorCode(err) !== UNIQUE_VIOLATION) throw err;
      await tx.exec(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
    }
  }
  return { ...(await upsertCandles(tx, exchange, batch)), copied: false };
}

/**
 * COPY columns and rows for a batch. Candle files carry no trade counts or revisions: when every candle has
 * 0 for both, those columns are left to their defaults (0), which makes the rows a fifth cheaper to encode.
 */
function copyOf(
  exchange: string,
  batch: readonly Candle[],
): [columns: readonly string[], rows: Iterable<readonly unknown[]>] {
  if (!batch.every((c) => c.tradesCount === 0 && c.revision === 0)) {
    return [CANDLE_COLUMNS, batch.map((c) => candleRow(exchange, c))];
  }
  return [CANDLE_COLUMNS.slice(0, -2), rowsWithoutCounts(exchange, batch)];
}

function* rowsWithoutCounts(exchange: string, batch: readonly Candle[]): Generator<unknown[]> {
  for (const c of batch) {
    yield [
      exchange,
      c.symbol,
      c.timeframe,
      isoTimestamp(c.closeTimeMs),
      c.open,
      c.high,
      c.low,
      c.close,
      c.volume,
    ];
  }
}

/**
 * Runs `write` (which stores `candles`) under a savepoint. When the database refuses the data, finds the
 * first candle it refuses (bisection under savepoints: about log2(n) trial upserts, each rolled back) and
 * throws an InvalidDataError naming where that candle came from and why, instead of the database's error.
 */
async function refusalNamed<R>(
  tx: Queryable,
  exchange: string,
  candles: readonly Candle[],
  options: ImportCandlesOptions,
  write: () => Promise<R>,
): Promise<R> {
  await tx.exec(`SAVEPOINT ${BATCH_SAVEPOINT}`);
  try {
    const result = await write();
    await tx.exec(`RELEASE SAVEPOINT ${BATCH_SAVEPOINT}`);
    return result;
  } catch (err) {
    if (!isDataDbError(err)) throw err;
    await tx.exec(`ROLLBACK TO SAVEPOINT ${BATCH_SAVEPOINT}`);
    const describe = options.describe ?? describeCandle;
    const culprit = await firstRefused(tx, exchange, candles);
    const where =
      culprit !== undefined
        ? describe(culprit.candle)
        : `${describe(candles[0] as Candle)} … ${describe(candles[candles.length - 1] as Candle)}`;
    const refusal = culprit?.err ?? err;
    const code = errorCode(refusal);
    const reason = refusal instanceof Error ? refusal.message : String(refusal);
    throw new InvalidDataError(
      `${where}: the database refused ${culprit !== undefined ? 'this candle' : 'a candle among these'}: ${reason}${code !== undefined && code !== 'invalid_data' ? ` (SQLSTATE ${code})` : ''}`,
      { cause: refusal },
    );
  }
}

/**
 * The first of `candles` the database refuses on its own, found by bisection: each trial upserts a prefix
 * under a savepoint and rolls it back. Undefined when no single candle is refused (the refusal needs
 * several rows together).
 */
async function firstRefused(
  tx: Queryable,
  exchange: string,
  candles: readonly Candle[],
): Promise<{ candle: Candle; err: unknown } | undefined> {
  const trial = async (part: readonly Candle[]): Promise<{ err: unknown } | undefined> => {
    await tx.exec(`SAVEPOINT ${PROBE_SAVEPOINT}`);
    try {
      await upsertCandles(tx, exchange, part);
      return undefined;
    } catch (err) {
      if (!isDataDbError(err)) throw err;
      return { err };
    } finally {
      await tx.exec(`ROLLBACK TO SAVEPOINT ${PROBE_SAVEPOINT}`);
      await tx.exec(`RELEASE SAVEPOINT ${PROBE_SAVEPOINT}`);
    }
  };
  // The first refused candle is in [lo, hi) if any is.
  let lo = 0;
  let hi = candles.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if ((await trial(candles.slice(lo, mid))) !== undefined) hi = mid;
    else lo = mid;
  }
  const candle = candles[lo];
  const refused = candle !== undefined ? await trial([candle]) : undefined;
  return candle !== undefined && refused !== undefined ? { candle, err: refused.err } : undefined;
}

export function describeCandle(c: Candle): string {
  return `the ${c.symbol} ${c.timeframe} candle closing ${new Date(c.closeTimeMs).toISOString()}`;
}

function add(a: UpsertResult, b: UpsertResult): UpsertResult {
  return {
    inserted: a.inserted + b.inserted,
    updated: a.updated + b.updated,
    unchanged: a.unchanged + b.unchanged,
  };
}

/** Rows of derived candles buffered before an upsert. */
const DERIVED_BATCH = 20_000;

/** Runs the imported candles through resampleCandles and upserts the complete higher candles. */
class Deriver {
  private readonly input = new Subject<Candle>();
  private readonly pending: Candle[] = [];
  private failure: { error: unknown } | undefined;
  private result = ZERO;
  private rows = 0;
  private primed = false;
  /** Open time of the first base candle known (stored or imported): buckets starting earlier are partial. */
  private earliestOpenMs = Number.POSITIVE_INFINITY;
  /** Close time of the first imported candle: derived candles closing earlier are not this import's. */
  private firstImportedCloseMs = Number.POSITIVE_INFINITY;
  private readonly baseMs: number;

  constructor(
    private readonly tx: Queryable,
    private readonly exchange: string,
    private readonly options: ImportCandlesOptions,
    targets: readonly Timeframe[],
  ) {
    this.baseMs = timeframeMs(options.timeframe);
    this.input.pipe(resampleCandles(targets)).subscribe({
      next: (c) => {
        const openMs = c.closeTimeMs - timeframeMs(c.timeframe);
        if (openMs >= this.earliestOpenMs && c.closeTimeMs >= this.firstImportedCloseMs) this.pending.push(c);
      },
      error: (error: unknown) => (this.failure = { error }),
    });
  }

  async feed(batch: readonly Candle[]): Promise<void> {
    if (!this.primed) await this.prime(batch[0] as Candle);
    for (const c of batch) this.input.next(c);
    this.check();
    if (this.pending.length >= DERIVED_BATCH) await this.flush();
  }

  async finish(): Promise<UpsertResult & { rows: number }> {
    this.input.complete();
    this.check();
    await this.flush();
    return { ...this.result, rows: this.rows };
  }

  /** Feeds the stored base candles of the largest bucket holding the first imported candle. */
  private async prime(first: Candle): Promise<void> {
    this.primed = true;
    this.firstImportedCloseMs = first.closeTimeMs;
    const dayMs = timeframeMs('1d');
    const bucketOpenMs = Math.ceil(first.closeTimeMs / dayMs) * dayMs - dayMs;
    const stored = await readCandleColumns(this.tx, {
      symbol: this.options.symbol,
      timeframe: this.options.timeframe,
      exchange: this.exchange,
      fromMs: bucketOpenMs + this.baseMs,
      toMs: first.closeTimeMs,
    });
    this.earliestOpenMs =
      (stored.length > 0 ? (stored.closeTimeMs[0] as number) : first.closeTimeMs) - this.baseMs;
    for (let i = 0; i < stored.length; i++) {
      this.input.next({
        symbol: this.options.symbol,
        timeframe: this.options.timeframe,
        closeTimeMs: stored.closeTimeMs[i] as number,
        open: stored.open[i] as number,
        high: stored.high[i] as number,
        low: stored.low[i] as number,
        close: stored.close[i] as number,
        volume: stored.volume[i] as number,
        tradesCount: stored.tradesCount[i] as number,
        closed: true,
        revision: 0, // the stored state is the truth here: never treat it as a late revision
      });
    }
  }

  private check(): void {
    if (this.failure === undefined) return;
    const { error } = this.failure;
    throw error instanceof RxtradeError
      ? error
      : new InvalidDataError(`deriving higher timeframes failed: ${String(error)}`, { cause: error });
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const pending = this.pending;
    const written = await refusalNamed(this.tx, this.exchange, pending, this.options, () =>
      upsertCandles(this.tx, this.exchange, pending),
    );
    this.result = add(this.result, written);
    this.rows += this.pending.length;
    this.pending.length = 0;
  }
}
