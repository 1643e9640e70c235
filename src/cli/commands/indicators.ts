import { Option, type Command } from 'commander';
import { from } from 'rxjs';
import type { Candle } from '../../domain/candle.js';
import { STANDARD_COLUMNS, STANDARD_INDICATORS } from '../../domain/indicators/standard.js';
import { parseTimeframe, timeframeMs } from '../../domain/timeframe.js';
import type { IndicatorValues } from '../../domain/indicators/spec.js';
import { withIndicators } from '../../operators/withIndicators.js';
import { readCandleCsv } from '../../streams/candleCsv.js';
import type { CandleLabel } from '../../streams/candleCsvParser.js';
import type { CliIo } from '../io.js';
import { iso } from '../../domain/time.js';

type Format = 'csv' | 'json';

interface IndicatorsOptions {
  readonly data: string;
  readonly label?: CandleLabel;
  readonly timeframe: string;
  readonly format: Format;
}

export const INDICATOR_OUTPUT_COLUMNS = [
  'close_time_ms',
  'open',
  'high',
  'low',
  'close',
  'volume',
  ...STANDARD_COLUMNS,
] as const;

type Values = IndicatorValues<typeof STANDARD_INDICATORS>;

export function registerIndicators(program: Command, io: CliIo): void {
  program
    .command('indicators')
    .description(
      'Compute the standard indicators (TA-Lib conventions) on a candle CSV and print one row per candle.',
    )
    .requiredOption(
      '--data <file>',
      'candle CSV with a header: a time column (ts|timestamp|open_time_ms|close_time_ms|date; epoch ms or ISO-8601) and open,high,low,close,volume',
    )
    .addOption(
      new Option(
        '--label <label>',
        'whether ts/timestamp/date stamp a candle by its open or close time (default: close, or what the column name says)',
      ).choices(['open', 'close']),
    )
    .option('--timeframe <tf>', 'interval of the rows: 1m,5m,15m,1h,4h,1d', '1m')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .addHelpText(
      'after',
      `
Output columns: ${INDICATOR_OUTPUT_COLUMNS.join(',')}
close_time_ms is the candle's CLOSE time. An indicator still warming up is empty (CSV) or null (JSON).
Values are TA-Lib's (SMA, EMA, RSI, MACD, BBANDS with population σ, ATR, ADX, PLUS_DI, MINUS_DI, OBV
seeded with the first volume, ROC), unrounded; vwap restarts each UTC day. Gaps in the file are reported
on stderr and not filled: the indicators run over the candles as given.

Example:
  rxtrade indicators --data BTC_USDT-1m.csv --label open --format json`,
    )
    .action(async (options: IndicatorsOptions) => {
      await runIndicators(options, io);
    });
}

export async function runIndicators(options: IndicatorsOptions, io: CliIo): Promise<void> {
  const timeframe = parseTimeframe(options.timeframe);
  const file = await readCandleCsv(options.data, {
    timeframe,
    ...(options.label !== undefined ? { label: options.label } : {}),
  });
  const note = (text: string): void => {
    io.stderr.write(`rxtrade indicators: ${text}\n`);
  };
  const tfMs = timeframeMs(timeframe);
  // Name the first few gaps, then count the rest (daily stock data has one every weekend).
  for (const gap of file.gaps.slice(0, 5)) {
    note(
      `gap in ${options.data}: ${gap.missing} missing ${timeframe} candle${gap.missing === 1 ? '' : 's'} ` +
        `closing ${iso(gap.afterCloseTimeMs + tfMs)} … ${iso(gap.beforeCloseTimeMs - tfMs)} (not filled)`,
    );
  }
  if (file.gaps.length > 5) {
    const rest = file.gaps.slice(5);
    note(
      `… and ${rest.length} more gaps in ${options.data} (${rest.reduce((n, g) => n + g.missing, 0)} missing candles, not filled)`,
    );
  }

  const out = new BufferedOut(io.stdout);
  const csv = options.format === 'csv';
  out.push(csv ? `${INDICATOR_OUTPUT_COLUMNS.join(',')}\n` : '[');
  let rows = 0;
  await new Promise<void>((resolve, reject) => {
    from(file.candles)
      .pipe(withIndicators(STANDARD_INDICATORS))
      .subscribe({
        next: ({ candle, indicators }) => {
          const cells = row(candle, indicators);
          if (csv) {
            out.push(`${cells.map((v) => (v === undefined ? '' : String(v))).join(',')}\n`);
          } else {
            const fields = cells.map(
              (v, i) => `"${INDICATOR_OUTPUT_COLUMNS[i]}":${v === undefined ? 'null' : String(v)}`,
            );
            out.push(`${rows === 0 ? '\n' : ',\n'}{${fields.join(',')}}`);
          }
          rows += 1;
        },
        error: reject,
        complete: resolve,
      });
  });
  if (!csv) out.push(rows === 0 ? ']\n' : '\n]\n');
  await out.end();

  const first = file.candles[0];
  const last = file.candles[file.candles.length - 1];
  if (first === undefined || last === undefined) note(`no candles in ${options.data}`);
  else {
    note(
      `${rows} ${timeframe} candles (stamped by ${file.label} time in the file) closing ${iso(first.closeTimeMs)} … ${iso(last.closeTimeMs)}` +
        (file.gaps.length > 0 ? `, ${file.gaps.length} gap${file.gaps.length === 1 ? '' : 's'}` : ''),
    );
  }
}

function row(c: Candle, v: Values): (number | undefined)[] {
  const macd = v.macd;
  const bb = v.bb;
  const adx = v.adx;
  const dmi = v.dmi;
  return [
    c.closeTimeMs,
    c.open,
    c.high,
    c.low,
    c.close,
    c.volume,
    v.sma,
    v.ema,
    v.rsi,
    macd?.macd,
    macd?.signal,
    macd?.hist,
    bb?.upper,
    bb?.middle,
    bb?.lower,
    v.atr,
    adx?.adx,
    dmi?.plusDi,
    dmi?.minusDi,
    v.obv,
    v.roc,
    v.vwap,
  ];
}

/** Collects output and writes it in 64 KiB pieces. */
class BufferedOut {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  push(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= 1 << 16) this.stream.write(this.take());
  }

  async end(): Promise<void> {
    const text = this.take();
    await new Promise<void>((resolve, reject) => {
      this.stream.write(text, (err) => (err ? reject(err) : resolve()));
    });
  }

  private take(): string {
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    return text;
  }
}
