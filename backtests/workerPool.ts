import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../src/cli/packageRoot.js';
import {
  ERROR_CODES,
  InvalidDataError,
  RxtradeError,
  UsageError,
  type ErrorCode,
} from '../src/domain/errors.js';
import type { OptimizeJob, OptimizeRun, OptimizeSetup } from './optimize.js';

/**
 * The worker script: bin/optimize-worker.cjs, which loads the bundled worker (dist/bundle/optimizeWorker.cjs:
 * one file, its functions' bytecode from the code cache, so a worker is ready sooner), else the compiled
 * module beside this one, else dist/'s (this module runs from sources).
 */
function workerScript(): string {
  const root = packageRoot();
  if (existsSync(join(root, 'dist', 'bundle', 'optimizeWorker.cjs')))
    return join(root, 'bin', 'optimize-worker.cjs');
  const here = fileURLToPath(new URL('./optimizeWorker.js', import.meta.url));
  if (existsSync(here)) return here;
  return join(packageRoot(), 'dist', 'backtests', 'optimizeWorker.js');
}

/** Messages between the pool and its workers. */
export type ToWorker =
  | { readonly type: 'setup'; readonly setup: OptimizeSetup }
  | { readonly type: 'job'; readonly job: OptimizeJob };
export type FromWorker =
  | { readonly type: 'result'; readonly run: OptimizeRun }
  | {
      readonly type: 'error';
      readonly id: number;
      readonly code: string | undefined;
      readonly message: string;
      readonly stack: string;
    };

/**
 * Backtests on worker threads. Start it early (`WorkerPool.start`): the workers load their code while the
 * main thread reads the candles; `run` then sends the setup once and keeps IN_FLIGHT jobs sent to each
 * worker, from its share. A run's result depends on its job only, never on the worker or the order.
 */
export class WorkerPool {
  private constructor(private readonly workers: Worker[]) {}

  static start(size: number): WorkerPool {
    const script = workerScript();
    const adopted = adoptPrestarted(size);
    return new WorkerPool([
      ...adopted,
      ...Array.from({ length: size - adopted.length }, () => new Worker(script)),
    ]);
  }

  get size(): number {
    return this.workers.length;
  }

  /** The workers' thread ids. */
  get threadIds(): number[] {
    return this.workers.map((w) => w.threadId);
  }

  /**
   * Runs every job; results in job order. Rejects with the first failure (RxtradeErrors keep their code).
   * `local`: this thread runs jobs too, one at a time between its other work (it takes the last share),
   * while the workers start and after: it is warm already and costs no new thread.
   */
  run(
    setup: OptimizeSetup,
    jobs: readonly OptimizeJob[],
    onDone?: (done: number) => void,
    local?: { run(job: OptimizeJob): OptimizeRun },
  ): Promise<OptimizeRun[]> {
    return new Promise((resolve, reject) => {
      const results = new Array<OptimizeRun>(jobs.length);
      const slot = new Map<number, number>(jobs.map((j, i) => [j.id, i]));
      // Each runner starts on its own contiguous share of the jobs (neighbours in a grid share parameters,
      // so a worker computes fewer distinct indicator series), then takes the back of the largest share left.
      const shares = contiguousShares(jobs.length, this.workers.length + (local === undefined ? 0 : 1));
      let done = 0;
      let failed = false;
      const cleanups: (() => void)[] = [];
      const finish = (err?: unknown): void => {
        for (const c of cleanups) c();
        if (err !== undefined) reject(err);
        else resolve(results);
      };
      const fail = (err: unknown): void => {
        if (failed) return;
        failed = true;
        finish(err);
      };
      const take = (own: Share): OptimizeJob | undefined => {
        if (own.next < own.end) return jobs[own.next++];
        let share = own;
        for (const s of shares) if (s.end - s.next > share.end - share.next) share = s;
        if (share.next === share.end) return undefined;
        return jobs[--share.end];
      };
      const record = (run: OptimizeRun): void => {
        results[slot.get(run.id) as number] = run;
        done++;
        onDone?.(done);
        if (done === jobs.length) finish();
      };
      if (jobs.length === 0) {
        finish();
        return;
      }
      for (const [k, w] of this.workers.entries()) {
        const own = shares[k] as Share;
        const give = (): void => {
          const job = take(own);
          if (job !== undefined) w.postMessage({ type: 'job', job } satisfies ToWorker);
        };
        const onMessage = (m: FromWorker): void => {
          if (failed) return;
          if (m.type === 'error') {
            fail(rebuildError(m));
            return;
          }
          record(m.run);
          if (done < jobs.length) give();
        };
        w.on('message', onMessage);
        w.on('error', fail);
        cleanups.push(() => {
          w.off('message', onMessage);
          w.off('error', fail);
        });
        w.postMessage({ type: 'setup', setup } satisfies ToWorker);
        // A job waiting in each worker's queue beside the one it runs: this thread answers a worker only
        // between its own jobs, and a worker given one job at a time sat idle through them.
        for (let i = 0; i < IN_FLIGHT; i++) give();
      }
      if (local !== undefined) {
        const own = shares[this.workers.length] as Share;
        const step = (): void => {
          if (failed) return;
          const job = take(own);
          if (job === undefined) return;
          try {
            record(local.run(job));
          } catch (err) {
            fail(err);
            return;
          }
          // Between jobs: the workers' results, the progress bar and Ctrl-C get their turn.
          if (done < jobs.length) setImmediate(step);
        };
        setImmediate(step);
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Workers started by prestartWorkers and not yet taken by a pool. */
interface Prestarted {
  readonly worker: Worker;
  /** Whether the worker failed before a pool took it (its script did not load, say). */
  failed: boolean;
  readonly onError: () => void;
}
/**
 * Kept on globalThis: bin/rxtrade.js starts the workers from a small bundle of its own (dist/bundle/
 * prestart.cjs, loaded before the command's bundle), whose copy of this module is not the command's; both
 * copies take them from here.
 */
const PRESTARTED = Symbol.for('rxtrade.prestartedWorkers');
const registry = ((globalThis as { [PRESTARTED]?: { list: Prestarted[] } })[PRESTARTED] ??= { list: [] });

/**
 * Starts `count` workers now (returns their thread ids), for the next WorkerPool.start to take:
 * bin/rxtrade.js calls it (through backtests/prestart.ts) before it loads the command's code, so the
 * workers load theirs meanwhile. A
 * worker thread takes ~0.15 s to be ready, ~0.3 s when this thread is busy reading the candles, and the
 * command starts its pool only once its own code is loaded. They do not keep the process alive until a
 * pool takes them: a command that ends before it starts one (an error, --help, a single combination) exits
 * as it would have, and start() ends any it does not need.
 */
export function prestartWorkers(count: number): number[] {
  if (registry.list.length > 0 || count <= 0) return [];
  const script = workerScript();
  registry.list = Array.from({ length: count }, () => {
    // A worker that failed before a pool took it is replaced by a new one there, which reports the
    // failure to the pool as usual.
    const p: Prestarted = {
      worker: new Worker(script),
      failed: false,
      onError: () => {
        p.failed = true;
      },
    };
    p.worker.unref();
    p.worker.on('error', p.onError);
    return p;
  });
  return registry.list.map((p) => p.worker.threadId);
}

/** Prestarted workers no pool has taken yet that have not failed. */
export function prestartedCount(): number {
  return registry.list.filter((p) => !p.failed).length;
}

/** Up to `size` prestarted workers, kept alive from now on; the others are ended. */
function adoptPrestarted(size: number): Worker[] {
  const taken = registry.list.filter((p) => !p.failed).slice(0, size);
  for (const p of registry.list) {
    if (!taken.includes(p)) void p.worker.terminate();
  }
  registry.list = [];
  for (const p of taken) {
    p.worker.off('error', p.onError);
    p.worker.ref();
  }
  return taken.map((p) => p.worker);
}

/** Jobs sent to a worker and not yet answered, at most (see run). */
const IN_FLIGHT = 2;

/** Jobs `next` … `end` − 1 waiting in one worker's share. */
interface Share {
  next: number;
  end: number;
}

/** `n` jobs cut into `k` contiguous shares as even as can be. */
function contiguousShares(n: number, k: number): Share[] {
  return Array.from({ length: k }, (_, i) => ({
    next: Math.floor((i * n) / k),
    end: Math.floor(((i + 1) * n) / k),
  }));
}

function rebuildError(m: Extract<FromWorker, { type: 'error' }>): Error {
  if (m.code === 'usage') return new UsageError(m.message);
  if (m.code === 'invalid_data') return new InvalidDataError(m.message);
  if (m.code !== undefined && Object.hasOwn(ERROR_CODES, m.code))
    return new RxtradeError(m.code as ErrorCode, m.message);
  const err = new Error(m.message);
  err.stack = m.stack;
  return err;
}
