import { availableParallelism } from 'node:os';
import { prestartedCount, prestartWorkers } from './workerPool.js';

/**
 * bin/rxtrade.js's first step for `rxtrade optimize ARGS`: the worker threads the search will want are
 * started before the command's code loads (see prestartWorkers).
 */
export function prestartOptimize(args: readonly string[]): void {
  prestartWorkers(workersToPrestart(args, availableParallelism()));
}

/**
 * How many worker threads `rxtrade optimize ARGS` will want, as far as its flags say before the command
 * reads them: --workers N or --workers=N threads (default: every core) less this one, none with --queue,
 * and never more than the cores leave (the pool starts any more itself). A --workers the command will
 * refuse starts none: the command reports it.
 */
export function workersToPrestart(args: readonly string[], cores: number): number {
  let threads = cores;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') break;
    if (a === '--queue' || a.startsWith('--queue=')) return 0;
    if (a === '--workers' || a.startsWith('--workers=')) {
      const value = a === '--workers' ? args[++i] : a.slice('--workers='.length);
      const n = Number(value?.trim());
      threads = Number.isSafeInteger(n) && n >= 1 && n <= 256 ? n : 0;
    }
  }
  return Math.max(0, Math.min(threads, cores) - 1);
}

export { prestartedCount, prestartWorkers };
