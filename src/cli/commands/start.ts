import { Option, type Command } from 'commander';
import { readEnv } from '../../config/env.js';
import { UsageError } from '../../domain/errors.js';
import { parseTimeframeList, TIMEFRAMES } from '../../domain/timeframe.js';
import { DEMO_SYMBOLS } from '../demoSim.js';
import type { CliIo } from '../io.js';
import { addRuntimeOptions, type RuntimeFlags } from '../runtime.js';
import { parseSymbols, runCollect, runtimeFlags } from './collect.js';

interface StartOptions extends RuntimeFlags {
  readonly symbols?: string;
  readonly speed: string;
  readonly timeframes: string;
  readonly format: 'csv' | 'json';
  readonly quiet?: boolean;
}

export function registerStart(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  const command = program
    .command('start')
    .description(
      'Run rxtrade: collect market data into candles, store and publish them, and print them as they close. ' +
        'Without OKX_WS_PUBLIC_URL/OKX_REST_URL it runs on the embedded OKX simulator (bundled recorded trades), so it works offline.',
    )
    .option('--symbols <list>', `instruments (default: ${DEMO_SYMBOLS.join(',')})`)
    .option(
      '--speed <x>',
      'embedded simulator only: its clock runs this many times faster than real time',
      '30',
    )
    .option('--timeframes <list>', 'timeframes to print (all are stored)', '1m,5m')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('-q, --quiet', 'print nothing on stdout');
  addRuntimeOptions(command)
    .addHelpText(
      'after',
      `
Environment: DATABASE_URL, REDIS_URL, OKX_WS_PUBLIC_URL, OKX_REST_URL, LOG_LEVEL, RXTRADE_DATA_DIR.
With none set: PGlite in ./data/pglite, the in-process bus, and the embedded simulator at 30×.`,
    )
    .action(async (options: StartOptions) => {
      const e = readEnv(env);
      const speed = Number(options.speed);
      if (!(speed > 0) || !Number.isFinite(speed))
        throw new UsageError(`--speed must be a number > 0, got "${options.speed}"`);
      const symbols = parseSymbols(
        options.symbols ?? (e.okxConfigured ? 'BTC-USDT,ETH-USDT' : DEMO_SYMBOLS.join(',')),
      );
      await runCollect(
        {
          ...runtimeFlags(options),
          symbols,
          timeframes: TIMEFRAMES,
          rawTrades: false,
          sim: e.okxConfigured ? undefined : { speed },
          print:
            options.quiet === true
              ? undefined
              : { format: options.format, timeframes: parseTimeframeList(options.timeframes) },
          statusEveryMs: 60_000,
          command: 'start',
        },
        io,
        e,
      );
    });
}
