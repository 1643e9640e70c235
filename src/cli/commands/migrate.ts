import type { Command } from 'commander';
import { migrate } from '../../storage/migrate.js';
import { readEnv } from '../../config/env.js';
import { openUnlessInterrupted, watchInterrupt } from '../interrupt.js';
import type { CliIo } from '../io.js';
import { chooseDatabase, DATABASE_URL_HELP, openChosen, PGLITE_HELP } from '../runtime.js';

interface MigrateOptions {
  readonly databaseUrl?: string;
  readonly pglite?: string;
}

export function registerMigrate(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  program
    .command('migrate')
    .description('Create or update the database schema. Safe to run again: applied migrations are skipped.')
    .option('--database-url <url>', DATABASE_URL_HELP)
    .option('--pglite <path>', PGLITE_HELP)
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
  const choice = chooseDatabase(options, readEnv(env));
  const { where } = choice;
  // Ctrl-C while a Postgres connect hangs ends the wait at once (src/cli/interrupt.ts).
  const db = await openUnlessInterrupted(
    openChosen(choice),
    watchInterrupt(io.interrupted),
    `opening ${where}`,
    choice.url !== undefined,
  );
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
