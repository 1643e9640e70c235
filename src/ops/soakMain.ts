/**
 * `npm run soak -- --hours 48 --speed 240`: runs src/ops/soak.ts and prints its table. Exit 0 when the soak
 * passes, 1 when it fails (or for bad flags), 2 for an internal error. Run with --expose-gc (npm run soak
 * does) so that memory is read after a full collection without setting V8 flags at run time.
 */
import { Command, CommanderError } from 'commander';
import { checkUrl, POSTGRES_PROTOCOLS } from '../config/env.js';
import { RxtradeError, UsageError } from '../domain/errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../infra/logger.js';
import { MAX_SPEED } from '../cli/speed.js';
import { runSoak } from './soak.js';
import { formatSoakReport } from './soakReport.js';

interface Flags {
  readonly hours: string;
  readonly speed: string;
  readonly sampleEvery: string;
  readonly databaseUrl?: string;
}

function positive(flag: string, text: string): number {
  const x = Number(text);
  if (!(x > 0) || !Number.isFinite(x)) throw new UsageError(`${flag} must be a number > 0, got "${text}"`);
  return x;
}

export async function soakMain(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const program = new Command('soak')
    .description(
      'Run the whole system (collector, demo bots, API and dashboard) on the embedded simulator with its ' +
        'faults on, sample it every simulated hour, and fail on a leak, a missing or duplicated 1m candle, ' +
        'a bot in error or an unhandled rejection.',
    )
    .option('--hours <h>', 'simulated hours to run', '48')
    .option(
      '--speed <x>',
      `the simulated clock runs this many times faster than real time (≤ ${MAX_SPEED})`,
      '240',
    )
    .option('--sample-every <minutes>', 'simulated minutes between samples', '60')
    .option(
      '--database-url <url>',
      'an empty Postgres database (default: DATABASE_URL, else PGlite in a temporary folder)',
    )
    .exitOverride()
    .allowExcessArguments(false);
  try {
    program.parse([...argv], { from: 'user' });
    const flags = program.opts<Flags>();
    const url = flags.databaseUrl ?? env.DATABASE_URL;
    const databaseUrl =
      url === undefined || url === ''
        ? undefined
        : checkUrl(
            flags.databaseUrl !== undefined ? '--database-url' : 'DATABASE_URL',
            url,
            POSTGRES_PROTOCOLS,
          );
    const level = (env.LOG_LEVEL ?? 'silent') as LogLevel;
    if (!LOG_LEVELS.includes(level))
      throw new UsageError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
    const report = await runSoak({
      hours: positive('--hours', flags.hours),
      speed: positive('--speed', flags.speed),
      sampleEveryMin: positive('--sample-every', flags.sampleEvery),
      ...(databaseUrl !== undefined ? { databaseUrl } : {}),
      logger: createLogger(level, 'rxtrade-soak'),
      onSample: (s) =>
        process.stderr.write(
          `soak: hour ${s.hour}: heap ${s.memory.heapUsedMb} MB, loop p99 ${s.loop.p99Ms} ms, ` +
            `${s.rows.market_data ?? 0} candles; feed ${s.feed.trades} trades (${s.feed.lateTrades} late), ` +
            `${s.feed.candles} candles emitted, ${s.feed.stored} stored, ${s.feed.queued} queued, ` +
            `${s.feed.spillPending} in the spill file, ${s.feed.reconnects} reconnects; bots ${s.bots.map((b) => `${b.botKey} ${b.totalValue.toFixed(2)} (${b.status})`).join(', ')}\n`,
        ),
    });
    process.stdout.write(formatSoakReport(report));
    return report.failures.length === 0 ? 0 : 1;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof RxtradeError && err.kind === 'input') {
      process.stderr.write(`soak: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(
      `soak: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 2;
  }
}

process.exitCode = await soakMain(process.argv.slice(2), process.env);
