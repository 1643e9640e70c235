import { join } from 'node:path';

/** Where rxtrade keeps its files unless told otherwise (RXTRADE_DATA_DIR). */
export const DEFAULT_DATA_DIR = './data';

/** The folders inside a data directory, one per job. */
export interface DataPaths {
  /** The PGlite database (when no DATABASE_URL is set). */
  readonly pglite: string;
  /** Items the sinks could not write during a long database outage, replayed later. */
  readonly spill: string;
  /** Rows the database refused, with the reason. */
  readonly deadLetter: string;
}

export function dataPaths(dataDir: string = DEFAULT_DATA_DIR): DataPaths {
  return {
    pglite: join(dataDir, 'pglite'),
    spill: join(dataDir, 'spill'),
    deadLetter: join(dataDir, 'dead-letter'),
  };
}
