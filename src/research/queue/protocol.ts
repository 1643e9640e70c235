import { createHash } from 'node:crypto';
import { ERROR_CODES, RxtradeError, type ErrorCode } from '../../domain/errors.js';
import type { Candle } from '../../domain/candle.js';
import type { Timeframe } from '../../domain/timeframe.js';
import type { OptimizeJob, OptimizeRun, OptimizeSetup } from '../../../backtests/index.js';
import type { CandleColumns } from '../../streams/candleColumns.js';

/**
 * What `rxtrade optimize --queue redis` and `rxtrade worker` say to each other through BullMQ: one queue
 * shared by every run, one job per combination, named by its run. Everything that crosses Redis is encoded
 * here (JSON would turn NaN, ±∞ and −0 — a Sharpe of "n/a", a profit factor of ∞ — into null and 0, and the
 * results must equal a local run's exactly).
 */

/** The BullMQ queue (keys `bull:rxtrade-optimize:*`). */
export const QUEUE_NAME = 'rxtrade-optimize';

/** A finished job's result stays in Redis this long (the optimize that asked for it has read it by then). */
export const KEEP_COMPLETED_S = 3600;
/** A failed job's reason stays a day, to look at. */
export const KEEP_FAILED_S = 24 * 3600;

/** The stored candles a run searches: the workers read the same from their database. */
export interface CandleSelection {
  readonly exchange: string;
  readonly symbol: string;
  readonly timeframe: string;
  /** As for loadDatabaseCandles: candles closing after `fromMs` and at or before `toMs`. */
  readonly fromMs: number;
  readonly toMs: number;
  /** What the optimize read: a worker that reads anything else refuses (another database, changed data). */
  readonly count: number;
  readonly fingerprint: string;
}

/** Everything one job carries (the setup without its candles, which the worker reads itself). */
export interface QueueJobPayload {
  readonly runId: string;
  readonly setup: Omit<OptimizeSetup, 'columns'>;
  readonly candles: CandleSelection;
  readonly job: OptimizeJob;
}

/** BullMQ's job data: the run in clear (for whoever looks at the queue), the payload encoded. */
export interface QueueJobData {
  readonly runId: string;
  readonly payload: string;
}

/** The BullMQ job id of a run's combination (custom ids must not contain ':'). */
export function jobIdOf(runId: string, index: number): string {
  return `${runId}-${index}`;
}

const NUMBER_TAG = '$num';

/** JSON that keeps NaN, Infinity, −Infinity and −0. */
export function encode(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'number') return v;
    if (Number.isNaN(v)) return { [NUMBER_TAG]: 'NaN' };
    if (v === Number.POSITIVE_INFINITY) return { [NUMBER_TAG]: 'Infinity' };
    if (v === Number.NEGATIVE_INFINITY) return { [NUMBER_TAG]: '-Infinity' };
    if (Object.is(v, -0)) return { [NUMBER_TAG]: '-0' };
    return v;
  });
}

export function decode<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === NUMBER_TAG) {
        const tag = (v as Record<string, unknown>)[NUMBER_TAG];
        if (tag === '-0') return -0;
        return Number(tag);
      }
    }
    return v;
  }) as T;
}

/** What a worker answers for one job. */
export type QueueJobResult = OptimizeRun;

/** The candles as plain columns (what JobRunner runs on), built the same way on both sides. */
export function columnsOf(candles: readonly Candle[], symbol: string, timeframe: Timeframe): CandleColumns {
  const n = candles.length;
  const closeTimeMs = new Float64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = candles[i] as Candle;
    closeTimeMs[i] = c.closeTimeMs;
    open[i] = c.open;
    high[i] = c.high;
    low[i] = c.low;
    close[i] = c.close;
    volume[i] = c.volume;
  }
  return { symbol, timeframe, length: n, closeTimeMs, open, high, low, close, volume };
}

/** A hash of every value of the columns: equal candles, equal fingerprint. */
export function fingerprint(columns: CandleColumns): string {
  const hash = createHash('sha256');
  for (const column of [
    columns.closeTimeMs,
    columns.open,
    columns.high,
    columns.low,
    columns.close,
    columns.volume,
  ]) {
    // A copy: the columns may be views on a SharedArrayBuffer, which a hash does not read.
    const own = Float64Array.from(column.subarray(0, columns.length));
    hash.update(new Uint8Array(own.buffer));
  }
  return hash.digest('hex').slice(0, 32);
}

/**
 * A worker's failure as BullMQ stores it (a string): `[code] message`, so the optimize can raise the same
 * project error (a refused combination stays a usage error, exit 1).
 */
export function failureText(err: unknown): string {
  if (err instanceof RxtradeError) return `[${err.code}] ${err.message}`;
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

export function errorOfFailure(text: string, jobId: string): RxtradeError {
  const m = /^\[([a-z_]+)\] ([\s\S]*)$/.exec(text);
  if (m !== null && Object.hasOwn(ERROR_CODES, m[1] as string)) {
    return new RxtradeError(m[1] as ErrorCode, m[2] as string);
  }
  return new RxtradeError('backtest_failed', `queue job ${jobId} failed on a worker: ${text}`);
}
