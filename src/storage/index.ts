export {
  DEFAULT_PGLITE_PATH,
  openDatabase,
  type Database,
  type OpenDatabaseOptions,
  type Queryable,
} from './database.js';
export { migrate, type AppliedMigration } from './migrate.js';
export { MIGRATIONS, type Migration } from './migrations/index.js';
export { ensureRawTradesPartition, monthStartMs, rawTradesPartitionName } from './rawTradesPartitions.js';
export { readPgliteLock, setPgliteLockApi, type PgliteLockInfo } from './pgliteLock.js';
