import type { Command } from 'commander';
import type { Bus } from '../bus/bus.js';
import { createBus } from '../bus/createBus.js';
import { checkUrl, POSTGRES_PROTOCOLS, REDIS_PROTOCOLS, type Env } from '../config/env.js';
import { RxtradeError, UsageError } from '../domain/errors.js';
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
  /** The `exchange` column of what is stored (see parseExchange); the command picks the default. */
  readonly exchange?: string;
}

import { DATABASE_URL_HELP, PGLITE_HELP } from './helpTexts.js';
import { dataPaths } from '../config/dataDir.js';
export { DATABASE_URL_HELP, PGLITE_HELP };

export function addRuntimeOptions(command: Command): Command {
  return command
    .option('--database-url <url>', DATABASE_URL_HELP)
    .option('--pglite <path>', PGLITE_HELP)
    .option('--redis-url <url>', 'Redis for the bus (default: REDIS_URL; without it, an in-process bus)')
    .option('--exchange <name>', EXCHANGE_HELP);
}

export const EXCHANGE_HELP =
  "exchange the candles are stored under (default: okx, or okx-sim for the embedded simulator); a-z, 0-9 and '-'. " +
  'kraken also reads the market from Kraken through ccxt (stored as kraken, or kraken-sim with --sim)';

const EXCHANGE = /^[a-z0-9-]{1,32}$/;

/**
 * Checks an exchange name (`okx`, `okx-sim`, `kraken`): lowercase letters, digits and '-', at most 32, so
 * that what is stored under one name is always found under it again.
 */
export function parseExchange(text: string, flag = '--exchange'): string {
  if (!EXCHANGE.test(text)) {
    throw new UsageError(
      `${flag} "${text}": use lowercase letters, digits and '-' (at most 32), such as okx, okx-sim or kraken`,
    );
  }
  return text;
}

/** 127.0.0.0/8, ::1 and localhost: a URL there is a local server (a simulator), not the exchange itself. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127\.\d+\.\d+\.\d+$/.test(host)
  );
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
  /** Where the URL came from, for connection errors: `--database-url` or `DATABASE_URL`. */
  readonly urlFrom?: string;
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
  // The flag is held to the rules of the variable it overrides, and errors name the flag.
  const flagUrl =
    flags.databaseUrl === undefined
      ? undefined
      : checkUrl('--database-url', flags.databaseUrl, POSTGRES_PROTOCOLS);
  const url = flags.pglite !== undefined ? undefined : (flagUrl ?? env.databaseUrl);
  const pglitePath = flags.pglite ?? dataPaths(env.dataDir).pglite;
  return {
    url,
    pglitePath,
    where: url !== undefined ? `Postgres at ${describeUrl(url)}` : `PGlite at ${pglitePath}`,
    ...(url !== undefined ? { urlFrom: flagUrl !== undefined ? '--database-url' : 'DATABASE_URL' } : {}),
  };
}

/** Opens the chosen database (without migrating it). */
export async function openChosen(choice: DatabaseChoice, logger?: Logger): Promise<Database> {
  const log = logger !== undefined ? { logger } : {};
  try {
    return await openDatabase(
      choice.url !== undefined ? { url: choice.url, ...log } : { pglitePath: choice.pglitePath, ...log },
    );
  } catch (err) {
    // Say which setting to fix: the flag or the variable.
    if (err instanceof RxtradeError && err.code === 'db_unavailable' && choice.urlFrom !== undefined) {
      throw new RxtradeError(err.code, `${err.message} (URL from ${choice.urlFrom})`, { cause: err.cause });
    }
    throw err;
  }
}

/** Opens the database (migrated) and the bus the flags and environment name. */
export async function openRuntime(flags: RuntimeFlags, env: Env, logger: Logger): Promise<Runtime> {
  const choice = chooseDatabase(flags, env);
  const redisUrl =
    flags.redisUrl !== undefined ? checkUrl('--redis-url', flags.redisUrl, REDIS_PROTOCOLS) : env.redisUrl;
  const db = await openChosen(choice, logger);
  try {
    await migrate(db, undefined, logger);
  } catch (err) {
    await db.close();
    throw err;
  }
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
