import type { Command } from 'commander';
import { UsageError } from '../../domain/errors.js';
import { DEFAULT_PGLITE_PATH, openDatabase } from '../../storage/database.js';
import { describeUrl } from '../../storage/unavailable.js';
import { migrate } from '../../storage/migrate.js';
import type { CliIo } from '../io.js';

interface MigrateOptions {
  readonly databaseUrl?: string;
  readonly pglite?: string;
}

export function registerMigrate(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  program
    .command('migrate')
    .description('Create or update the database schema. Safe to run again: applied migrations are skipped.')
    .option('--database-url <url>', 'Postgres connection string (default: DATABASE_URL)')
    .option(
      '--pglite <path>',
      `embedded PGlite data directory (default without DATABASE_URL: ${DEFAULT_PGLITE_PATH})`,
    )
    .addHelpText(
      'after',
      `
Example:
  rxtrade migrate --database-url postgres://postgres@127.0.0.1:5432/rxtrade
  rxtrade migrate --pglite ./data/pglite`,
    )
    .action(async (options: MigrateOptions) => {
      await runMigrate(options, io, env);
    });
}

export async function runMigrate(options: MigrateOptions, io: CliIo, env: NodeJS.ProcessEnv): Promise<void> {
  if (options.databaseUrl !== undefined && options.pglite !== undefined) {
    throw new UsageError('give --database-url or --pglite, not both');
  }
  // An explicit --pglite wins over DATABASE_URL from the environment.
  const url =
    options.pglite !== undefined ? undefined : (options.databaseUrl ?? emptyToUndefined(env.DATABASE_URL));
  const pglitePath = options.pglite ?? DEFAULT_PGLITE_PATH;
  const where = url !== undefined ? `Postgres at ${describeUrl(url)}` : `PGlite at ${pglitePath}`;
  const db = await openDatabase(url !== undefined ? { url } : { pglitePath });
  try {
    const applied = await migrate(db);
    for (const m of applied) io.stdout.write(`applied ${String(m.id).padStart(3, '0')}_${m.name}\n`);
    io.stdout.write(
      applied.length === 0
        ? `${where} is up to date\n`
        : `${where}: applied ${applied.length} migration${applied.length === 1 ? '' : 's'}\n`,
    );
  } finally {
    await db.close();
  }
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
