'use strict';
// A worker thread of `rxtrade optimize` (backtests/workerPool.ts): the bundled worker
// (dist/bundle/optimizeWorker.cjs) loaded through the code cache (load-bundle.cjs). Its cache is written
// after the thread's first job: by then V8 has compiled what every later job runs.
const { join } = require('node:path');
const { parentPort } = require('node:worker_threads');
const { loadBundle } = require('./load-bundle.cjs');

const { saveCodeCache } = loadBundle(join(__dirname, '..', 'dist', 'bundle', 'optimizeWorker.cjs'), 'worker');
if (parentPort !== null) {
  // Listeners run in the order they were added: this one after the bundle's has run the job.
  const afterFirstJob = (m) => {
    if (m === null || typeof m !== 'object' || m.type !== 'job') return;
    parentPort.off('message', afterFirstJob);
    // At once, before the next job: the pool may end the thread as soon as its results are in.
    saveCodeCache();
  };
  parentPort.on('message', afterFirstJob);
}
