import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import type { OptimizeJob, OptimizeRun, OptimizeSetup } from '../../../backtests/index.js';
import { redactUrl } from '../../bus/redisBus.js';
import { InterruptedError, RxtradeError } from '../../domain/errors.js';
import { bullConnection, checkRedisReachable } from './connect.js';
import {
  type CandleSelection,
  decode,
  encode,
  errorOfFailure,
  fingerprint,
  jobIdOf,
  KEEP_COMPLETED_S,
  KEEP_FAILED_S,
  QUEUE_NAME,
  type QueueJobData,
  type QueueJobPayload,
  type QueueJobResult,
} from './protocol.js';

export interface QueuedSearch {
  readonly redisUrl: string;
  /** Where the URL came from (REDIS_URL or --redis-url), for the errors. */
  readonly redisFrom: string;
  /** The setup of a local run; its columns are the candles the workers must read (count and fingerprint). */
  readonly setup: OptimizeSetup;
  readonly jobs: readonly OptimizeJob[];
  /** Which stored candles those are. */
  readonly candles: Omit<CandleSelection, 'count' | 'fingerprint'>;
  /** Give up when no result arrives for this long (undefined: wait as long as it takes). */
  readonly timeoutMs: number | undefined;
  readonly interrupted: Promise<void>;
  readonly note: (text: string) => void;
  readonly onDone?: (done: number) => void;
}

export interface QueuedOutcome {
  /** Results in job order, as runJobs gives them. */
  readonly runs: OptimizeRun[];
  /** The most workers seen connected to the queue during the run. */
  readonly workers: number;
}

/** How often the search looks at the queue (workers connected, results missed, the timeout). */
const TICK_MS = 1_000;
/** After this long without a result event, the search reads the pending jobs' state itself. */
const RECONCILE_AFTER_MS = 5_000;
/** The time Ctrl-C leaves for removing the run's pending jobs (the process ends 2 s after the signal). */
const CANCEL_BUDGET_MS = 1_200;
/** Jobs added (or removed) per Redis round trip. */
const CHUNK = 500;

/**
 * `rxtrade optimize --queue redis`: puts one job per combination on the shared BullMQ queue, collects
 * the results as `rxtrade worker` processes (anywhere that reaches the same Redis and database) send
 * them, and returns them in job order. A worker that dies mid-job has its job taken back by the others
 * (BullMQ's stalled-job check); Ctrl-C, a failure or the timeout removes the run's jobs still waiting.
 */
export async function runQueued(search: QueuedSearch): Promise<QueuedOutcome> {
  const { redisUrl, note } = search;
  const where = `Redis at ${redactUrl(redisUrl)}`;
  let stopped = false;
  void search.interrupted.then(() => (stopped = true));
  await checkRedisReachable(redisUrl, search.redisFrom);
  if (stopped) throw new InterruptedError('interrupted before the combinations were queued');

  let lostRedis = false;
  const connection = bullConnection(redisUrl, (err) => {
    if (lostRedis) return;
    lostRedis = true;
    note(`lost ${where} (${err.message}): retrying (Ctrl-C stops)`);
  });
  connection.on('ready', () => {
    if (lostRedis) note(`${where} is back`);
    lostRedis = false;
  });
  const queue = new Queue<QueueJobData>(QUEUE_NAME, { connection });
  let events: QueueEvents | undefined;
  const runId = randomUUID();
  const pending = new Map<string, number>();
  const runs = new Array<OptimizeRun>(search.jobs.length);
  let workers = 0;
  try {
    // Events are read from the last one before our jobs exist, so none of ours can be missed.
    const last = await connection.xrevrange(queue.keys.events as string, '+', '-', 'COUNT', 1);
    events = new QueueEvents(QUEUE_NAME, { connection, lastEventId: last[0]?.[0] ?? '0-0' });
    events.on('error', () => undefined); // the connection's own 'error' says it, once
    await events.waitUntilReady();

    const columns = search.setup.columns;
    const { columns: _sent, ...setup } = search.setup;
    const candles: CandleSelection = {
      ...search.candles,
      count: columns.length,
      fingerprint: fingerprint(columns),
    };
    const bulk = search.jobs.map((job, index) => {
      const jobId = jobIdOf(runId, index);
      pending.set(jobId, index);
      const payload: QueueJobPayload = { runId, setup, candles, job };
      return {
        name: 'combination',
        data: { runId, payload: encode(payload) },
        opts: {
          jobId,
          // A worker's error that is not the input's (a database hiccup) is tried again.
          attempts: 3,
          backoff: { type: 'fixed', delay: 1_000 },
          removeOnComplete: { age: KEEP_COMPLETED_S },
          removeOnFail: { age: KEEP_FAILED_S },
        },
      };
    });
    for (let i = 0; i < bulk.length && !stopped; i += CHUNK) await queue.addBulk(bulk.slice(i, i + CHUNK));
    workers = await queue.getWorkersCount();
    note(
      `run ${runId}: ${bulk.length} combinations queued on ${where} (queue ${QUEUE_NAME}), ` +
        `${workers} worker${workers === 1 ? '' : 's'} connected`,
    );

    const q = queue;
    const ev = events;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let done = 0;
      let lastResultMs = Date.now();
      let waitingSaid = false;
      let busy = false;
      const finish = (err?: unknown): void => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        if (err === undefined) resolve();
        else reject(err);
      };
      const complete = (jobId: string, value: unknown): void => {
        const index = pending.get(jobId);
        if (index === undefined || settled) return;
        pending.delete(jobId);
        runs[index] = decode<QueueJobResult>(String(value));
        done++;
        lastResultMs = Date.now();
        search.onDone?.(done);
        if (pending.size === 0) finish();
      };
      const failed = async (jobId: string, reason: string): Promise<void> => {
        if (!pending.has(jobId) || settled) return;
        // A failure with attempts left goes back to the queue: only the last one ends the search.
        if ((await q.getJobState(jobId)) !== 'failed') return;
        finish(errorOfFailure(reason, jobId));
      };
      ev.on('completed', ({ jobId, returnvalue }) => complete(jobId, returnvalue));
      ev.on('failed', ({ jobId, failedReason }) => {
        failed(jobId, failedReason).catch(() => undefined);
      });
      ev.on('stalled', ({ jobId }) => {
        if (pending.has(jobId)) {
          note(`job ${jobId}: its worker stopped answering (crashed?); it is back on the queue`);
        }
      });
      void search.interrupted.then(() =>
        finish(new InterruptedError(`interrupted: removing the ${pending.size} combinations not run yet`)),
      );

      // Reads the pending jobs' state when the events went quiet (an event lost to a reconnect).
      const reconcile = async (): Promise<void> => {
        const ids = [...pending.keys()];
        for (let i = 0; i < ids.length && !settled; i += CHUNK) {
          const found = await Promise.all(ids.slice(i, i + CHUNK).map((id) => q.getJob(id)));
          for (const [k, job] of found.entries()) {
            const id = ids[i + k] as string;
            if (job === undefined) {
              if (pending.has(id)) {
                finish(
                  new RxtradeError(
                    'conflict',
                    `job ${id} is gone from the queue on ${where} before it ran (removed or obliterated by someone else?)`,
                  ),
                );
              }
            } else if (job.finishedOn !== undefined && job.failedReason === undefined) {
              complete(id, job.returnvalue);
            } else if (job.finishedOn !== undefined && job.failedReason !== undefined) {
              await failed(id, job.failedReason);
            }
          }
        }
      };
      const tick = async (): Promise<void> => {
        const now = Date.now();
        const quiet = now - lastResultMs;
        const connected = await q.getWorkersCount();
        workers = Math.max(workers, connected);
        if (connected === 0 && quiet >= TICK_MS && !waitingSaid) {
          waitingSaid = true;
          note(
            `waiting for workers: none is connected to queue ${QUEUE_NAME} on ${where} ` +
              `(start some where Redis and the database are reachable: rxtrade worker)` +
              (search.timeoutMs === undefined ? '' : `; giving up after ${search.timeoutMs / 1000} s`),
          );
        } else if (connected > 0 && waitingSaid) {
          waitingSaid = false;
          note(`${connected} worker${connected === 1 ? '' : 's'} connected`);
        }
        if (quiet >= RECONCILE_AFTER_MS) await reconcile();
        if (search.timeoutMs !== undefined && Date.now() - lastResultMs >= search.timeoutMs) {
          finish(
            new RxtradeError(
              'timeout',
              `no result from the queue for ${Math.round(search.timeoutMs / 1000)} s ` +
                `(${connected} worker${connected === 1 ? '' : 's'} connected, ${pending.size} of ` +
                `${search.jobs.length} combinations not done): start workers (rxtrade worker) or raise --timeout`,
            ),
          );
        }
      };
      const timer = setInterval(() => {
        if (busy || settled) return;
        busy = true;
        tick()
          .catch(() => undefined) // Redis away: the connection says so; the timeout still counts
          .finally(() => {
            busy = false;
          });
      }, TICK_MS);
    });
    return { runs, workers };
  } finally {
    await cancelPending(queue, [...pending.keys()]);
    await closeQuietly(events, queue, connection);
  }
}

/** Removes the run's jobs that no worker took (a job being run cannot be removed: its result expires). */
async function cancelPending(queue: Queue<QueueJobData>, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const removing = (async () => {
    for (let i = 0; i < ids.length; i += CHUNK) {
      await Promise.all(ids.slice(i, i + CHUNK).map((id) => queue.remove(id).catch(() => 0)));
    }
  })();
  await Promise.race([removing, new Promise((r) => setTimeout(r, CANCEL_BUDGET_MS).unref())]);
}

async function closeQuietly(
  events: QueueEvents | undefined,
  queue: Queue<QueueJobData>,
  connection: { quit(): Promise<unknown>; disconnect(): void },
): Promise<void> {
  const closing = Promise.allSettled([events?.close(), queue.close()]).then(() =>
    connection.quit().catch(() => undefined),
  );
  await Promise.race([closing, new Promise((r) => setTimeout(r, 500).unref())]);
  connection.disconnect();
}
