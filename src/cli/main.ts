import { Command, CommanderError } from 'commander';
import { InterruptedError, RxtradeError } from '../domain/errors.js';
import type { CliIo } from './io.js';
import { packageVersion } from './packageRoot.js';

/** For bin/rxtrade.js: how long after Ctrl-C it lets the process run. */
export { STOP_DEADLINE_MS } from './interrupt.js';

type Register = (program: Command, io: CliIo) => void;

/**
 * Every command, in --help order, with the module that registers it. A command's module (and what it
 * imports: database drivers, Redis, the HTTP server) is loaded only when that command runs, or when the
 * whole listing is wanted: `rxtrade backtest --data f.csv` loads the backtest code and nothing else.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Register>>> = {
  start: async () => (await import('./commands/start.js')).registerStart,
  candles: async () => (await import('./commands/candles.js')).registerCandles,
  collect: async () => (await import('./commands/collect.js')).registerCollect,
  indicators: async () => (await import('./commands/indicators.js')).registerIndicators,
  'okx-sim': async () => (await import('./commands/okxSim.js')).registerOkxSim,
  migrate: async () => (await import('./commands/migrate.js')).registerMigrate,
  import: async () => (await import('./commands/import.js')).registerImport,
  backtest: async () => (await import('./commands/backtest.js')).registerBacktest,
  bots: async () => (await import('./commands/bots.js')).registerBots,
  optimize: async () => (await import('./commands/optimize.js')).registerOptimize,
  compare: async () => (await import('./commands/compare.js')).registerCompare,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctor,
  scan: async () => (await import('./commands/scan.js')).registerScan,
  worker: async () => (await import('./commands/worker.js')).registerWorker,
};

/**
 * The `rxtrade` program. Each command registers itself from its own file under ./commands; with `argv`
 * naming a command, only that one is loaded; for --version alone, none (help and unknown commands load them
 * all).
 */
export async function buildProgram(io: CliIo, argv?: readonly string[]): Promise<Command> {
  const program = new Command('rxtrade')
    .description('Paper trading for crypto strategies on OKX market data, built as one RxJS dataflow.')
    .version(packageVersion(), '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError()
    .allowExcessArguments(false);
  const named = argv?.[0];
  // `rxtrade --version` alone needs no command (loading them all took ~0.4 s).
  const versionOnly = argv?.length === 1 && (named === '--version' || named === '-v');
  const wanted = versionOnly
    ? []
    : named !== undefined && Object.hasOwn(COMMANDS, named)
      ? [named]
      : Object.keys(COMMANDS);
  const registers = await Promise.all(wanted.map((name) => (COMMANDS[name] as () => Promise<Register>)()));
  for (const register of registers) register(program, io);
  return program;
}

/**
 * Commands that only read and print: on Ctrl-C they are dropped at once (exit 130), nothing to save. Every
 * other command stops itself through `io.interrupted` within the bound of src/cli/interrupt.ts.
 */
const STOP_AT_ONCE = new Set(['backtest', 'candles', 'compare', 'indicators', 'optimize']);

/** Exit code of a command stopped by Ctrl-C/SIGTERM before it finished (128 + SIGINT, as shells report it). */
export const EXIT_INTERRUPTED = 130;

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code: 0 success, 1 a usage or
 * data error (explained on stderr), 2 an internal error (with its stack, to report as a bug), 130 stopped
 * by Ctrl-C before it finished (a command that runs until Ctrl-C, like collect, exits 0 then).
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const program = await buildProgram(io, argv);
  let stopAtOnce = false;
  program.hook('preAction', (_program, command) => {
    // optimize --queue stops itself: it removes its queued combinations first.
    stopAtOnce = STOP_AT_ONCE.has(command.name()) && command.getOptionValue('queue') === undefined;
  });
  const dropped = io.interrupted.then(() =>
    stopAtOnce ? Promise.reject(new InterruptedError('interrupted')) : new Promise<never>(() => {}),
  );
  try {
    await Promise.race([program.parseAsync([...argv], { from: 'user' }), dropped]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    return reportError(err, io.stderr);
  }
}

/**
 * The exit code of a command that failed with `err`, after saying why on `stderr`: bad input and settings
 * (RxtradeError of kind `input`) 1 with the message alone; stopped by Ctrl-C 130; anything else, internal
 * RxtradeErrors included (a broken invariant, a migration list out of order), 2 with the stack to report.
 */
export function reportError(err: unknown, stderr: NodeJS.WritableStream): number {
  if (err instanceof RxtradeError && err.kind !== 'internal') {
    stderr.write(`rxtrade: ${err.message}\n`);
    return err.kind === 'interrupted' ? EXIT_INTERRUPTED : 1;
  }
  stderr.write(
    `rxtrade: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return 2;
}
