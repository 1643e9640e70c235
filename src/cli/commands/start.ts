import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { UsageError } from '../../domain/errors.js';
import { parseTimeframeList } from '../../domain/timeframe.js';
import { compareTrades, type Trade } from '../../domain/trade.js';
import { resampleCandles } from '../../operators/resampleCandles.js';
import { tradesToCandles } from '../../operators/tradesToCandles.js';
import { ReplayClock } from '../../scheduling/replayClock.js';
import { CandleWriter } from '../../sinks/candleWriter.js';
import { replayPaced } from '../../streams/replay.js';
import { readTradeCsv, symbolFromFileName } from '../../streams/tradeCsv.js';
import type { CliIo } from '../io.js';
import { packageRoot } from '../packageRoot.js';

const SAMPLE_TRADES = [
  'samples/binance_spot_BTCUSDT_trades_20240808T2354_20240809T0005.csv',
  'samples/binance_spot_ETHUSDT_trades_20240808T2354_20240809T0005.csv',
];

interface StartOptions {
  readonly trades?: string[];
  readonly speed: string;
  readonly timeframes: string;
  readonly format: 'csv' | 'json';
}

export function registerStart(program: Command, io: CliIo): void {
  program
    .command('start')
    .description(
      'Run rxtrade. For now: play recorded trades (bundled samples by default) through the live candle pipeline on a running clock, printing each candle as it closes.',
    )
    .option(
      '--trades <files...>',
      'trade CSV files to play (default: the bundled BTC-USDT and ETH-USDT samples)',
    )
    .option('--speed <x>', 'how many times faster than real time to play', '30')
    .option('--timeframes <list>', 'timeframes to print', '1m,5m')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .action(async (options: StartOptions) => {
      await runStart(options, io);
    });
}

async function runStart(options: StartOptions, io: CliIo): Promise<void> {
  const speed = Number(options.speed);
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new UsageError(`--speed must be a number > 0, got "${options.speed}"`);
  const timeframes = parseTimeframeList(options.timeframes);
  const files = options.trades ?? SAMPLE_TRADES.map((f) => join(packageRoot(), f));

  const trades: Trade[] = [];
  let price = 0;
  let volume = 0;
  for (const path of files) {
    const file = await readTradeCsv(path, { defaultSymbol: symbolFromFileName(path) ?? 'UNKNOWN' });
    for (const t of file.trades) trades.push(t);
    price = Math.max(price, file.priceDecimals);
    volume = Math.max(volume, file.sizeDecimals);
  }
  trades.sort(compareTrades);
  const first = trades[0];
  if (first === undefined) throw new UsageError('no trades to play');
  const symbols = [...new Set(trades.map((t) => t.symbol))];
  io.stderr.write(
    `rxtrade start: no exchange connection yet; playing ${trades.length} recorded trades of ${symbols.join(', ')} ` +
      `at ${speed}× through the live candle pipeline (Ctrl-C stops)\n`,
  );

  // The live pipeline, unchanged; only the clock is a replay clock instead of the wall clock.
  const clock = new ReplayClock(first.tsMs, speed);
  const writer = new CandleWriter(io.stdout, options.format, { price, volume });
  let late = 0;
  let subscription: { unsubscribe(): void } | undefined;
  const finished = new Promise<void>((resolve, reject) => {
    subscription = replayPaced(trades, (t) => t.tsMs, clock)
      .pipe(
        tradesToCandles({ graceMs: 2000, onLateTrade: () => (late += 1) }, clock),
        resampleCandles(timeframes),
      )
      .subscribe({ next: (c) => writer.write(c), error: reject, complete: resolve });
  });
  await Promise.race([finished, io.interrupted]);
  subscription?.unsubscribe();
  await writer.end();
  io.stderr.write(
    `rxtrade start: stopped; ${writer.written} candles${late > 0 ? `, ${late} late trades` : ''}\n`,
  );
}
