import { statSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { filter } from 'rxjs';
import { openTimeMs, type Candle } from '../../domain/candle.js';
import { UsageError } from '../../domain/errors.js';
import { parseTimeframeList } from '../../domain/timeframe.js';
import { resampleCandles } from '../../operators/resampleCandles.js';
import { tradesToCandles } from '../../operators/tradesToCandles.js';
import { VirtualClock } from '../../scheduling/virtualClock.js';
import { CandleWriter, type CandleFormat } from '../../sinks/candleWriter.js';
import { replayInVirtualTime } from '../../streams/replay.js';
import { describeDuplicates, readTradeCsv, symbolFromFileName } from '../../streams/tradeCsv.js';
import type { CliIo } from '../io.js';
import { Progress } from '../progress.js';
import { iso } from '../../domain/time.js';

interface CandlesOptions {
  readonly trades: string;
  readonly symbol?: string;
  readonly timeframes: string;
  readonly format: CandleFormat;
  readonly quiet?: boolean;
  readonly keepPartial?: boolean;
}

export function registerCandles(program: Command, io: CliIo): void {
  program
    .command('candles')
    .description(
      'Build candles from a trade CSV and print every closed one. The interval still forming at the end of the file is not printed.',
    )
    .requiredOption(
      '--trades <file>',
      'trade CSV with a header row (see the README for the accepted column names)',
    )
    .option(
      '--symbol <symbol>',
      'symbol to label the candles with (default: a symbol column, else the file name)',
    )
    .option('--timeframes <list>', 'comma-separated timeframes: 1m,5m,15m,1h,4h,1d', '1m')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .option(
      '--keep-partial',
      'also print the first candle of each timeframe, whose interval began before the first trade (left out by default, as the collector does)',
    )
    .option('-q, --quiet', 'no notes on stderr')
    .addHelpText(
      'after',
      `
Output columns: symbol,timeframe,close_time_ms,close_time,open,high,low,close,volume,trades_count
Candles are stamped with their CLOSE time (the 1m candle 00:01:00 holds trades 00:00:00.000–00:00:59.999).
Rows come in time order, shorter timeframes first on equal times. A candle whose interval began before
the symbol's first trade is partial (the file starts inside it) and is left out unless --keep-partial.

Example:
  rxtrade candles --trades trades.csv --symbol BTC-USDT --timeframes 1m,5m,1h --format json`,
    )
    .action(async (options: CandlesOptions) => {
      await runCandles(options, io);
    });
}

export async function runCandles(options: CandlesOptions, io: CliIo): Promise<void> {
  const timeframes = parseTimeframeList(options.timeframes);
  const note = (text: string): void => {
    if (!options.quiet) io.stderr.write(`rxtrade candles: ${text}\n`);
  };
  const guessed = options.symbol === undefined ? symbolFromFileName(options.trades) : undefined;
  if (options.symbol !== undefined && options.symbol.trim().length === 0) {
    throw new UsageError('--symbol is empty');
  }

  const progress = new Progress(io, 'reading trades', fileSize(options.trades));
  const file = await readTradeCsv(options.trades, {
    ...(options.symbol !== undefined ? { symbol: options.symbol.trim() } : {}),
    defaultSymbol: guessed ?? 'UNKNOWN',
    onProgress: (bytes) => progress.update(bytes),
  });
  progress.done();

  const { trades } = file;
  const duplicates = describeDuplicates(file.duplicates);
  if (duplicates !== undefined) note(duplicates);
  if (file.reordered) note('rows were not in time order: sorted them by time, then trade id');
  if (trades.length === 0) note(`no trades in ${options.trades}`);
  if (options.symbol === undefined && file.symbols.length > 0 && !file.symbols.some((s) => s !== guessed)) {
    note(`labelled the candles ${guessed ?? 'UNKNOWN'} (from the file name; --symbol sets it)`);
  }

  const writer = new CandleWriter(io.stdout, options.format, {
    price: file.priceDecimals,
    volume: file.sizeDecimals,
  });
  const clock = new VirtualClock(trades[0]?.tsMs ?? 0);
  let late = 0;
  // The file starts inside the first interval of every timeframe: those candles miss the trades before
  // the recording began, so (as the collector does after a start) they are left out.
  const firstTradeMs = new Map<string, number>();
  for (const t of trades) if (!firstTradeMs.has(t.symbol)) firstTradeMs.set(t.symbol, t.tsMs);
  const partial: Candle[] = [];
  const whole = (c: Candle): boolean => {
    if (options.keepPartial || openTimeMs(c) >= (firstTradeMs.get(c.symbol) ?? 0)) return true;
    partial.push(c);
    return false;
  };
  await new Promise<void>((resolve, reject) => {
    replayInVirtualTime(trades, (t) => t.tsMs, clock)
      .pipe(
        tradesToCandles({ onLateTrade: () => (late += 1) }, clock),
        resampleCandles(timeframes),
        filter(whole),
      )
      .subscribe({ next: (c) => writer.write(c), error: reject, complete: resolve });
  });
  await writer.end();

  if (partial.length > 0) note(describePartial(partial, firstTradeMs));
  if (late > 0) note(`${late} trades arrived after their candle had closed and were left out`);
  const first = trades[0];
  const last = trades[trades.length - 1];
  if (first !== undefined && last !== undefined) {
    note(
      `${trades.length} trades of ${file.symbols.join(', ')} from ${iso(first.tsMs)} to ${iso(last.tsMs)} → ` +
        `${writer.written} closed candles (${timeframes.join(', ')})`,
    );
  }
}

/** `left out 2 partial candles (…): 1m closing 23:55, 5m closing 23:55; --keep-partial prints them`. */
function describePartial(partial: readonly Candle[], firstTradeMs: ReadonlyMap<string, number>): string {
  const symbols = new Set(partial.map((c) => c.symbol));
  const named = partial
    .slice(0, 12)
    .map((c) => `${symbols.size > 1 ? `${c.symbol} ` : ''}${c.timeframe} closing ${iso(c.closeTimeMs)}`);
  const began =
    symbols.size === 1
      ? `the first trade, ${iso(firstTradeMs.get(partial[0]?.symbol ?? '') ?? 0)}`
      : "each symbol's first trade";
  return (
    `left out ${partial.length} partial candle${partial.length === 1 ? '' : 's'} (the interval began before ${began}): ` +
    `${named.join(', ')}${partial.length > named.length ? ', …' : ''}; --keep-partial prints them`
  );
}

function fileSize(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined; // readTradeCsv reports the real problem
  }
}
