import { join } from 'node:path';
import type { Command } from 'commander';
import type { Bus } from '../bus/bus.js';
import { createBus } from '../bus/createBus.js';
import type { Env } from '../config/env.js';
import { UsageError } from '../domain/errors.js';
import type { Logger } from '../infra/logger.js';
import { openDatabase, type Database } from '../storage/database.js';
import { migrate } from '../storage/migrate.js';
import { describeUrl } from '../storage/unavailable.js';
import { redactUrl } from '../bus/redisBus.js';

/** Where data goes, from flags first, then the environment, then the embedded defaults. */
export interface RuntimeFlags {
  readonly databaseUrl?: string;
  readonly pglite?: string;
  readonly redisUrl?: string;
}

export function addRuntimeOptions(command: Command): Command {
  return command
    .option('--database-url <url>', 'Postgres connection string (default: DATABASE_URL)')
    .option('--pglite <path>', 'embedded PGlite data directory (default without DATABASE_URL: ./data/pglite)')
    .option('--redis-url <url>', 'Redis for the bus (default: REDIS_URL; without it, an in-process bus)');
}

export interface Runtime {
  readonly db: Database;
  readonly bus: Bus;
  /** One line for the user: where candles are stored and published. */
  readonly description: string;
  close(): Promise<void>;
}

/** Opens the database (migrated) and the bus the flags and environment name. */
export async function openRuntime(flags: RuntimeFlags, env: Env, logger: Logger): Promise<Runtime> {
  if (flags.databaseUrl !== undefined && flags.pglite !== undefined) {
    throw new UsageError('give --database-url or --pglite, not both');
  }
  const url = flags.pglite !== undefined ? undefined : (flags.databaseUrl ?? env.databaseUrl);
  const pglitePath = flags.pglite ?? join(env.dataDir, 'pglite');
  const db = await openDatabase(url !== undefined ? { url, logger } : { pglitePath, logger });
  try {
    await migrate(db, undefined, logger);
  } catch (err) {
    await db.close();
    throw err;
  }
  const redisUrl = flags.redisUrl ?? env.redisUrl;
  const bus = createBus({ ...(redisUrl !== undefined ? { redisUrl } : {}), logger });
  const description =
    `${url !== undefined ? `Postgres at ${describeUrl(url)}` : `PGlite at ${pglitePath}`}, ` +
    `${redisUrl !== undefined ? `Redis at ${redactUrl(redisUrl)}` : 'the in-process bus'}`;
  return {
    db,
    bus,
    description,
    close: async () => {
      await bus.close();
      await db.close();
    },
  };
}
