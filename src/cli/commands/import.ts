import { statSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { Candle } from '../../domain/candle.js';
import { InvalidDataError, UsageError } from '../../domain/errors.js';
import { parseTimeframe, type Timeframe } from '../../domain/timeframe.js';
import { describeCandle, importCandles, type ImportCandlesResult } from '../../storage/candleImport.js';
import type { Database } from '../../storage/database.js';
import { migrate } from '../../storage/migrate.js';
import { CandleCsvParser, type CandleLabel } from '../../streams/candleCsvParser.js';
import { CandleSpacing } from '../../streams/candleSpacing.js';
import { describeFsError, textLines } from '../../streams/csvFile.js';
import { readEnv } from '../../config/env.js';
import { openUnlessInterrupted, watchInterrupt } from '../interrupt.js';
import type { CliIo } from '../io.js';
import { chooseDatabase, DATABASE_URL_HELP, openChosen, parseExchange, PGLITE_HELP } from '../runtime.js';
import { Progress } from '../progress.js';
import { DEFAULT_EXCHANGE } from '../../domain/exchange.js';
import { iso } from '../../domain/time.js';

export interface ImportOptions {
  readonly file: string;
  readonly symbol: string;
  readonly timeframe: string;
  readonly label?: CandleLabel;
  readonly derive?: boolean;
  readonly databaseUrl?: string;
  readonly pglite?: string;
  readonly exchange?: string;
  readonly json?: boolean;
  /** Candles per write (tests and the benchmark); default 50,000. */
  readonly batchRows?: number;
}

/** What `--derive` builds from 1m candles. */
export const DERIVED_TIMEFRAMES: readonly Timeframe[] = ['5m', '15m', '1h', '4h', '1d'];
const DEFAULT_BATCH_ROWS = 50_000;

export function registerImport(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  program
    .command('import')
    .description(
      'Bulk-load a candle CSV into market_data (idempotent: importing the same file again changes nothing).',
    )
    .requiredOption(
      '--file <file>',
      'candle CSV with a header row (ts|timestamp|open_time_ms|close_time_ms|date, open, high, low, close, volume)',
    )
    .requiredOption('--symbol <symbol>', 'symbol the candles are stored under, e.g. BTC-USDT')
    .requiredOption('--timeframe <tf>', 'timeframe of every row: 1m, 5m, 15m, 1h, 4h or 1d')
    .addOption(
      new Option(
        '--label <label>',
        'whether the time column holds open or close times (default: from the column name, else close)',
      ).choices(['open', 'close']),
    )
    .option(
      '--derive',
      `also build and store ${DERIVED_TIMEFRAMES.join(',')} candles (only with --timeframe 1m)`,
    )
    .option('--database-url <url>', DATABASE_URL_HELP)
    .option('--pglite <path>', PGLITE_HELP)
    .option(
      '--exchange <name>',
      "exchange the candles are stored under (default: okx); lowercase letters, digits and '-'",
    )
    .option('--json', 'print the summary as one JSON object on stdout')
    .addHelpText(
      'after',
      `
Candles are stored stamped with their CLOSE time; with --label open a row stamped 00:00 is stored as 00:01 (1m).
The whole file is one transaction: a bad row stops the import with "FILE line N: …" and nothing is written.

Example:
  rxtrade import --file BTC_USDT-1m.csv --symbol BTC-USDT --timeframe 1m --label open --derive`,
    )
    .action(async (options: ImportOptions) => {
      await runImport(options, io, env);
    });
}

export interface ImportSummary extends ImportCandlesResult {
  readonly file: string;
  readonly exchange: string;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly label: CandleLabel;
  readonly gaps: number;
  readonly missingCandles: number;
  readonly firstCloseTimeMs: number | undefined;
  readonly lastCloseTimeMs: number | undefined;
  readonly seconds: number;
  readonly rowsPerSecond: number;
}

export async function runImport(
  options: ImportOptions,
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ImportSummary> {
  const timeframe = parseTimeframe(options.timeframe);
  const symbol = options.symbol.trim();
  if (symbol.length === 0) throw new UsageError('--symbol is empty');
  if (options.derive && timeframe !== '1m') {
    throw new UsageError(
      `--derive builds higher timeframes from 1m candles: it needs --timeframe 1m, not ${timeframe}`,
    );
  }
  if (options.label !== undefined && options.label !== 'open' && options.label !== 'close') {
    throw new UsageError(`--label must be open or close, got "${String(options.label)}"`);
  }
  const choice = chooseDatabase(options, readEnv(env));
  const exchange = options.exchange === undefined ? DEFAULT_EXCHANGE : parseExchange(options.exchange);
  const size = fileSize(options.file);

  const { where } = choice;

  let stop = false;
  void io.interrupted.then(() => (stop = true));
  const spacing = new CandleSpacing();
  const parser = new CandleCsvParser(options.file, {
    symbol,
    timeframe,
    spacing,
    ...(options.label !== undefined ? { label: options.label } : {}),
  });
  const reader = new CandleBatches(
    options.file,
    parser,
    Math.max(1, options.batchRows ?? DEFAULT_BATCH_ROWS),
    spacingCheck(options.file, spacing, timeframe),
  );
  const progress = new Progress(io, `importing ${options.file} into ${where}`, size);

  // The header and the first batch are read before the database is opened: a file wrong from its first
  // lines is refused at once, without connecting or making (and leaving behind) a new PGlite folder.
  const batches = reader.batches();
  const first = await batches.next();
  let db: Database;
  try {
    // Ctrl-C while a Postgres connect hangs ends the wait at once (src/cli/interrupt.ts).
    db = await openUnlessInterrupted(
      openChosen(choice),
      watchInterrupt(io.interrupted),
      `opening ${where}`,
      choice.url !== undefined,
    );
  } catch (err) {
    await batches.return(undefined); // closes the file
    throw err;
  }
  let result: ImportCandlesResult;
  let seconds: number;
  try {
    await migrate(db);
    const t0 = process.hrtime.bigint();
    result = await importCandles(db, resumed(first, batches), {
      symbol,
      timeframe,
      exchange,
      derive: options.derive ? DERIVED_TIMEFRAMES : [],
      onBatch: () => progress.update(reader.bytesRead),
      shouldStop: () => stop,
      describe: (c) => reader.describe(c),
    });
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  } finally {
    progress.done();
    await batches.return(undefined); // a no-op once every batch was taken
    await db.close();
  }
  const summary: ImportSummary = {
    file: options.file,
    exchange,
    symbol,
    timeframe,
    label: parser.label,
    ...result,
    gaps: reader.gaps,
    missingCandles: reader.missingCandles,
    firstCloseTimeMs: reader.firstCloseTimeMs,
    lastCloseTimeMs: reader.lastCloseTimeMs,
    seconds,
    rowsPerSecond: seconds > 0 ? result.rows / seconds : 0,
  };
  io.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : describe(summary, where));
  if (options.exchange === undefined) {
    // Candles are found again by exchange: say which one they went under.
    io.stderr.write(
      `rxtrade import: stored as exchange '${exchange}' (the default; --exchange NAME files them under another)\n`,
    );
  }
  return summary;
}

function describe(s: ImportSummary, where: string): string {
  const span =
    s.firstCloseTimeMs !== undefined && s.lastCloseTimeMs !== undefined
      ? ` closing ${iso(s.firstCloseTimeMs)} … ${iso(s.lastCloseTimeMs)}`
      : '';
  const lines = [
    `imported ${s.file} into ${where}: ${s.symbol} ${s.timeframe} (${s.label} times in the file)${span}`,
    `${s.rows} rows read, ${s.inserted} inserted, ${s.updated} updated, ${s.unchanged} unchanged; ` +
      `${s.gaps} gap${s.gaps === 1 ? '' : 's'} found (${s.missingCandles} missing candle${s.missingCandles === 1 ? '' : 's'}); ` +
      `${formatRate(s.rowsPerSecond)} rows/s (${s.seconds.toFixed(2)} s)`,
  ];
  if (s.derived.rows > 0) {
    lines.push(
      `derived ${DERIVED_TIMEFRAMES.join(',')}: ${s.derived.rows} candles, ${s.derived.inserted} inserted, ` +
        `${s.derived.updated} updated, ${s.derived.unchanged} unchanged`,
    );
  }
  return lines.map((l) => `${l}\n`).join('');
}

/**
 * Streams a candle CSV through CandleCsvParser in batches of `batchRows` candles, so a multi-year file never
 * becomes one array of objects; the consumer pulls the next batch while it writes the last, and reading
 * stops while both are pending. Reads 64 KB at a time: each read yields to the event loop, so the
 * statements of the batch being written advance while the next one is parsed. Gaps are counted, not kept.
 */
class CandleBatches {
  bytesRead = 0;
  /** The line each candle was read from, for naming a candle the database refuses. */
  private readonly lineOf = new WeakMap<Candle, number>();
  gaps = 0;
  missingCandles = 0;
  firstCloseTimeMs: number | undefined;
  lastCloseTimeMs: number | undefined;

  constructor(
    private readonly path: string,
    private readonly parser: CandleCsvParser,
    private readonly batchRows: number,
    /** Called after each row: throws when the rows so far cannot be of the timeframe. */
    private readonly checkRow: () => void = () => undefined,
  ) {}

  async *batches(): AsyncGenerator<Candle[]> {
    const parser = this.parser;
    let sawHeader = false;
    for await (const chunk of textLines(this.path, 'candles', 1 << 16)) {
      const { lines, firstLineNo } = chunk;
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i] as string;
        if (line.trim().length === 0) continue;
        const lineNo = firstLineNo + i;
        if (sawHeader) {
          const before = parser.candles.length;
          parser.row(line, lineNo);
          for (let k = before; k < parser.candles.length; k++) {
            this.lineOf.set(parser.candles[k] as Candle, lineNo);
          }
          this.checkRow();
        } else {
          parser.header(line);
          sawHeader = true;
        }
        if (parser.candles.length >= this.batchRows) yield this.take();
      }
      this.bytesRead = chunk.bytesRead;
    }
    if (!sawHeader)
      throw new InvalidDataError(`${this.path}: the file is empty (expected a header row and candles)`);
    if (parser.candles.length > 0) yield this.take();
  }

  /** `FILE line N` for a candle read from the file; a derived candle is named by what it is. */
  describe(candle: Candle): string {
    const line = this.lineOf.get(candle);
    return line !== undefined
      ? `${this.path} line ${line}`
      : `${this.path}: ${describeCandle(candle)} derived from it`;
  }

  /** Hands over the candles parsed so far and forgets them (and the gaps, once counted). */
  private take(): Candle[] {
    const batch = this.parser.candles.splice(0);
    for (const g of this.parser.gaps.splice(0)) {
      this.gaps += 1;
      this.missingCandles += g.missing;
    }
    this.firstCloseTimeMs ??= batch[0]?.closeTimeMs;
    this.lastCloseTimeMs = batch[batch.length - 1]?.closeTimeMs ?? this.lastCloseTimeMs;
    return batch;
  }
}

/** The batches of `rest` after `first`, the one already taken from it. */
async function* resumed<T>(first: IteratorResult<T>, rest: AsyncGenerator<T>): AsyncGenerator<T> {
  if (first.done === true) return;
  yield first.value;
  yield* rest;
}

/**
 * Refuses a file whose rows are spaced like a longer timeframe than --timeframe (daily rows imported as
 * 1m would be stored as 1m candles with 1439 missing after each), as soon as the evidence is conclusive
 * (see CandleSpacing); once a pair of rows is one interval apart, nothing later can contradict it.
 */
function spacingCheck(file: string, spacing: CandleSpacing, timeframe: Timeframe): () => void {
  let settled = false;
  return () => {
    if (settled) return;
    const seen = spacing.contradicts(timeframe);
    if (seen !== undefined) {
      throw new InvalidDataError(
        `${file}: the rows look like ${seen} candles, not ${timeframe}: ${spacing.describe()}; import them with --timeframe ${seen}`,
      );
    }
    settled = spacing.timeframe() === timeframe;
  };
}

function fileSize(path: string): number {
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new UsageError(`cannot read candles file ${path}: it is a directory`);
    return st.size;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read candles file ${path}: ${describeFsError(err)}`, { cause: err });
  }
}

function formatRate(perSecond: number): string {
  return perSecond >= 1e6
    ? `${(perSecond / 1e6).toFixed(2)} M`
    : perSecond >= 1e3
      ? `${(perSecond / 1e3).toFixed(1)} k`
      : perSecond.toFixed(0);
}
