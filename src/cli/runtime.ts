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

export const DATABASE_URL_HELP = 'Postgres connection string (default: DATABASE_URL)';
export const PGLITE_HELP =
  'embedded PGlite data directory (default without DATABASE_URL: <RXTRADE_DATA_DIR>/pglite, i.e. ./data/pglite)';

export function addRuntimeOptions(command: Command): Command {
  return command
    .option('--database-url <url>', DATABASE_URL_HELP)
    .option('--pglite <path>', PGLITE_HELP)
    .option('--redis-url <url>', 'Redis for the bus (default: REDIS_URL; without it, an in-process bus)');
}

export interface Runtime {
  readonly db: Database;
  readonly bus: Bus;
  /** One line for the user: where candles are stored and published. */
  readonly description: string;
  close(): Promise<void>;
}

/** Which database the flags and environment name: Postgres by URL, or PGlite at a path. */
export interface DatabaseChoice {
  readonly url: string | undefined;
  readonly pglitePath: string;
  /** For messages: `Postgres at host:port/db` (no password) or `PGlite at path`. */
  readonly where: string;
}

/**
 * The one rule every command follows: `--pglite` wins over everything, then `--database-url`, then
 * DATABASE_URL; without any, PGlite in `<RXTRADE_DATA_DIR>/pglite`.
 */
export function chooseDatabase(
  flags: Pick<RuntimeFlags, 'databaseUrl' | 'pglite'>,
  env: Env,
): DatabaseChoice {
  if (flags.databaseUrl !== undefined && flags.pglite !== undefined) {
    throw new UsageError('give --database-url or --pglite, not both');
  }
  const url = flags.pglite !== undefined ? undefined : (flags.databaseUrl ?? env.databaseUrl);
  const pglitePath = flags.pglite ?? join(env.dataDir, 'pglite');
  return {
    url,
    pglitePath,
    where: url !== undefined ? `Postgres at ${describeUrl(url)}` : `PGlite at ${pglitePath}`,
  };
}

/** Opens the chosen database (without migrating it). */
export function openChosen(choice: DatabaseChoice, logger?: Logger): Promise<Database> {
  const log = logger !== undefined ? { logger } : {};
  return openDatabase(
    choice.url !== undefined ? { url: choice.url, ...log } : { pglitePath: choice.pglitePath, ...log },
  );
}

/** Opens the database (migrated) and the bus the flags and environment name. */
export async function openRuntime(flags: RuntimeFlags, env: Env, logger: Logger): Promise<Runtime> {
  const choice = chooseDatabase(flags, env);
  const db = await openChosen(choice, logger);
  try {
    await migrate(db, undefined, logger);
  } catch (err) {
    await db.close();
    throw err;
  }
  const redisUrl = flags.redisUrl ?? env.redisUrl;
  const bus = createBus({ ...(redisUrl !== undefined ? { redisUrl } : {}), logger });
  const description =
    `${choice.where}, ` +
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
