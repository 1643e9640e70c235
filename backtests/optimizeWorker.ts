import { parentPort } from 'node:worker_threads';
import { RxtradeError } from '../src/domain/errors.js';
import { JobRunner } from './optimize.js';
import type { FromWorker, ToWorker } from './workerPool.js';

/**
 * A worker thread of `rxtrade optimize` (see WorkerPool): it takes the setup once (the candle columns are
 * shared memory), then runs the jobs it is given, one at a time, and answers each with its result.
 */
const port = parentPort;
if (port !== null) {
  let runner: JobRunner | undefined;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'setup') {
      runner = new JobRunner(m.setup);
      return;
    }
    let reply: FromWorker;
    try {
      if (runner === undefined) throw new RxtradeError('internal', 'optimize worker: a job before the setup');
      reply = { type: 'result', run: runner.run(m.job) };
    } catch (err) {
      reply = {
        type: 'error',
        id: m.job.id,
        code: err instanceof RxtradeError ? err.code : undefined,
        message: err instanceof Error ? err.message : String(err),
        stack: err instanceof Error ? (err.stack ?? err.message) : String(err),
      };
    }
    port.postMessage(reply);
  });
}
