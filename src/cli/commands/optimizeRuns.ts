import type { FinishedBacktestRun } from '../../storage/backtestRuns.js';

/** Where the runs of a search are stored: `backtest_runs`, one row per combination (see runOptimizeCommand). */
export interface BacktestRunSink {
  save(runs: readonly FinishedBacktestRun[]): Promise<void>;
}

/**
 * The sink of a search on stored candles: the database they were read from (`--database-url`,
 * `--pglite` or the environment, as `loadCandleData` chose it), opened again once the runs are done.
 * The database code is loaded only then: a search on a CSV file never loads it.
 */
export function databaseRunSink(
  flags: { readonly databaseUrl?: string; readonly pglite?: string },
  env: NodeJS.ProcessEnv,
): BacktestRunSink {
  return {
    async save(runs) {
      const [{ chooseDatabase, openChosen }, { BacktestRunStore }, { readEnv }] = await Promise.all([
        import('../runtime.js'),
        import('../../storage/backtestRuns.js'),
        import('../../config/env.js'),
      ]);
      const db = await openChosen(chooseDatabase(flags, readEnv(env)));
      try {
        await new BacktestRunStore(db).saveFinished(runs);
      } finally {
        await db.close();
      }
    },
  };
}
