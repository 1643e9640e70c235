import type { Command } from 'commander';
import { UsageError } from '../../domain/errors.js';
import { DATABASE_URL_HELP } from '../helpTexts.js';
import type { CliIo } from '../io.js';
import { CLOSE_BUDGET_MS, STOP_DEADLINE_MS } from '../interrupt.js';

export interface WorkerCommandOptions {
  readonly redisUrl?: string;
  readonly databaseUrl?: string;
  readonly stalledAfter?: string;
}

/** Default of --stalled-after (BullMQ's own lock duration). */
const DEFAULT_STALLED_AFTER_S = 30;

export function registerWorker(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  program
    .command('worker')
    .description(
      'Run `rxtrade optimize --queue redis` combinations: take them from the queue on Redis, read the candles from Postgres, send back the results (any number of workers, on any machine that reaches both).',
    )
    .option('--redis-url <url>', 'Redis holding the queue (default: REDIS_URL)')
    .option('--database-url <url>', `${DATABASE_URL_HELP}: where the stored candles are`)
    .option(
      '--stalled-after <s>',
      `a job whose worker stopped answering this long goes back to the queue for another worker (default ${DEFAULT_STALLED_AFTER_S})`,
    )
    .addHelpText(
      'after',
      `
One worker runs one combination at a time: start one per core. It runs until Ctrl-C (the combination in
hand is finished first). The database must be the optimize's (the same candles): a worker that reads other
candles refuses the run's jobs.

Example:
  REDIS_URL=redis://10.0.0.5:6379 DATABASE_URL=postgres://rx@10.0.0.5/rxtrade rxtrade worker`,
    )
    .action(async (options: WorkerCommandOptions) => {
      await runWorkerCommand(options, io, env);
    });
}

/** Runs a queue worker until `io.interrupted`; returns how many combinations it ran. */
export async function runWorkerCommand(
  options: WorkerCommandOptions,
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const log = (text: string): void => {
    io.stderr.write(`rxtrade worker: ${text}\n`);
  };
  const stalledAfterS =
    options.stalledAfter === undefined ? DEFAULT_STALLED_AFTER_S : Number(options.stalledAfter.trim());
  if (!Number.isFinite(stalledAfterS) || stalledAfterS < 1 || stalledAfterS > 3600) {
    throw new UsageError(
      `--stalled-after must be a number of seconds from 1 to 3600, got "${options.stalledAfter}"`,
    );
  }
  const [{ readEnv, checkUrl, REDIS_PROTOCOLS }, { chooseDatabase, openChosen }, { startQueueWorker }] =
    await Promise.all([
      import('../../config/env.js'),
      import('../runtime.js'),
      import('../../research/queue/worker.js'),
    ]);
  const parsedEnv = readEnv(env);
  const redisUrl =
    options.redisUrl !== undefined
      ? checkUrl('--redis-url', options.redisUrl, REDIS_PROTOCOLS)
      : parsedEnv.redisUrl;
  if (redisUrl === undefined) {
    throw new UsageError('rxtrade worker needs the Redis of the queue: set REDIS_URL or give --redis-url');
  }
  const choice = chooseDatabase(options, parsedEnv);
  if (choice.url === undefined) {
    throw new UsageError(
      "rxtrade worker reads the candles from Postgres (the optimize's database): set DATABASE_URL or give --database-url",
    );
  }
  const db = await openChosen(choice);
  try {
    const worker = await startQueueWorker({
      redisUrl,
      redisFrom: options.redisUrl !== undefined ? '--redis-url' : 'REDIS_URL',
      db,
      dbWhere: choice.where,
      stalledAfterMs: stalledAfterS * 1000,
      log,
    });
    log(
      `${worker.name} ready: taking optimize jobs from the queue on ${worker.where}, ` +
        `candles from ${choice.where} (Ctrl-C stops)`,
    );
    await io.interrupted;
    // The combination in hand finishes (they take milliseconds to seconds); the process ends 2 s after
    // the signal whatever is left, and BullMQ gives an unfinished job to another worker.
    await Promise.race([
      worker.close(),
      new Promise((r) => setTimeout(r, STOP_DEADLINE_MS - CLOSE_BUDGET_MS).unref()),
    ]);
    log(`stopped after ${worker.processed} combination${worker.processed === 1 ? '' : 's'}`);
    return worker.processed;
  } finally {
    await db.close();
  }
}
