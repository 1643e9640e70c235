import { Command, CommanderError } from 'commander';
import { RxtradeError } from '../domain/errors.js';
import { registerBacktest } from './commands/backtest.js';
import { registerCandles } from './commands/candles.js';
import { registerCollect } from './commands/collect.js';
import { registerIndicators } from './commands/indicators.js';
import { registerImport } from './commands/import.js';
import { registerMigrate } from './commands/migrate.js';
import { registerOkxSim } from './commands/okxSim.js';
import { registerStart } from './commands/start.js';
import type { CliIo } from './io.js';
import { packageVersion } from './packageRoot.js';

/** The `rxtrade` program. Each command registers itself from its own file under ./commands. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('rxtrade')
    .description('Paper trading for crypto strategies on OKX market data, built as one RxJS dataflow.')
    .version(packageVersion(), '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError()
    .allowExcessArguments(false);
  registerStart(program, io);
  registerCandles(program, io);
  registerCollect(program, io);
  registerIndicators(program, io);
  registerOkxSim(program, io);
  registerMigrate(program, io);
  registerImport(program, io);
  registerBacktest(program, io);
  return program;
}

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code: 0 success, 1 a usage or
 * data error (explained on stderr), 2 an internal error (with its stack, to report as a bug).
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof RxtradeError) {
      io.stderr.write(`rxtrade: ${err.message}\n`);
      return 1;
    }
    io.stderr.write(
      `rxtrade: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 2;
  }
}
