import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { JobRunner, loadDatabaseCandles } from '../../../backtests/index.js';
import { redactUrl } from '../../bus/redisBus.js';
import { InvalidDataError, RxtradeError } from '../../domain/errors.js';
import { parseTimeframe } from '../../domain/timeframe.js';
import type { Queryable } from '../../storage/database.js';
import type { CandleColumns } from '../../streams/candleColumns.js';
import { bullConnection, checkRedisReachable } from './connect.js';
import {
  type CandleSelection,
  columnsOf,
  decode,
  encode,
  failureText,
  fingerprint,
  QUEUE_NAME,
  type QueueJobData,
  type QueueJobPayload,
} from './protocol.js';

export interface QueueWorkerOptions {
  readonly redisUrl: string;
  readonly redisFrom: string;
  /** The database the candles are read from (the same one the optimize read them from). */
  readonly db: Queryable;
  readonly dbWhere: string;
  /**
   * How long a job may go without its worker's heartbeat before the other workers take it back (BullMQ's
   * lock duration; the stalled check runs as often).
   */
  readonly stalledAfterMs: number;
  readonly log: (text: string) => void;
}

export interface QueueWorker {
  /** The BullMQ worker name (host:pid), as the queue shows it. */
  readonly name: string;
  /** `Redis at host:port` (no password). */
  readonly where: string;
  readonly processed: number;
  /** Lets the job in hand finish, then disconnects. */
  close(): Promise<void>;
}

/** Runs whose candles and indicator caches a worker keeps (the newest ones). */
const RUNS_KEPT = 4;

/**
 * `rxtrade worker`: takes `optimize --queue` jobs off the shared queue, one at a time, and runs each with
 * JobRunner — what a local optimize runs for a combination. A run's candles are read from the database at
 * its first job and kept (with the runner's prepared streams and indicator series) for its next ones.
 */
export async function startQueueWorker(o: QueueWorkerOptions): Promise<QueueWorker> {
  await checkRedisReachable(o.redisUrl, o.redisFrom);
  const where = `Redis at ${redactUrl(o.redisUrl)}`;
  let lost = false;
  const connection = bullConnection(o.redisUrl, (err) => {
    if (lost) return;
    lost = true;
    o.log(`lost ${where} (${err.message}): retrying`);
  });
  connection.on('ready', () => {
    if (lost) o.log(`${where} is back`);
    lost = false;
  });
  const runners = new Map<string, Promise<JobRunner>>();
  const name = `${hostname()}:${process.pid}`;
  let processed = 0;

  const runnerFor = (p: QueueJobPayload): Promise<JobRunner> => {
    let runner = runners.get(p.runId);
    if (runner === undefined) {
      runner = (async () => {
        const columns = await readCandles(o.db, p.candles, o.dbWhere);
        o.log(
          `run ${p.runId}: ${p.setup.strategyName} on ${columns.length} ${p.candles.symbol} ` +
            `${p.candles.timeframe} candles (${p.candles.exchange}) from ${o.dbWhere}`,
        );
        return new JobRunner({ ...p.setup, columns });
      })();
      runners.set(p.runId, runner);
      // A failed read is tried again by the job's next attempt, not cached.
      runner.catch(() => runners.delete(p.runId));
      while (runners.size > RUNS_KEPT) runners.delete(runners.keys().next().value as string);
    }
    return runner;
  };

  const worker = new Worker<QueueJobData, string>(
    QUEUE_NAME,
    async (job: Job<QueueJobData, string>) => {
      try {
        const p = decode<QueueJobPayload>(job.data.payload);
        const runner = await runnerFor(p);
        const run = runner.run(p.job);
        processed++;
        return encode(run);
      } catch (err) {
        // The input's fault (a refused parameter, other candles than the optimize read) fails at once;
        // anything else (the database away) is tried again.
        const text = failureText(err);
        if (err instanceof RxtradeError && err.kind === 'input') throw new UnrecoverableError(text);
        throw new RxtradeError('backtest_failed', text, { cause: err });
      }
    },
    {
      connection,
      name,
      concurrency: 1,
      lockDuration: o.stalledAfterMs,
      stalledInterval: o.stalledAfterMs,
      maxStalledCount: 2,
      autorun: true,
    },
  );
  worker.on('error', (err) => {
    if (!lost) o.log(`queue error: ${err.message}`);
  });
  await worker.waitUntilReady();

  return {
    name,
    where,
    get processed() {
      return processed;
    },
    async close() {
      await worker.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}

/** The run's candles from this worker's database, refused unless they are the ones the optimize read. */
async function readCandles(db: Queryable, c: CandleSelection, dbWhere: string): Promise<CandleColumns> {
  const timeframe = parseTimeframe(c.timeframe);
  const loaded = await loadDatabaseCandles(db, {
    symbol: c.symbol,
    timeframe,
    fromMs: c.fromMs,
    toMs: c.toMs,
    exchange: c.exchange,
  });
  const columns = columnsOf(loaded.candles, c.symbol, timeframe);
  if (columns.length !== c.count || fingerprint(columns) !== c.fingerprint) {
    throw new InvalidDataError(
      `the ${c.symbol} ${c.timeframe} candles (${c.exchange}) in ${dbWhere} are not the ones the optimize read ` +
        `(${columns.length} candles here, ${c.count} there${columns.length === c.count ? ', different values' : ''}): ` +
        `point the worker's DATABASE_URL at the same database`,
    );
  }
  return columns;
}
