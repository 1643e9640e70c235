import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { UsageError } from '../domain/errors.js';
import { candlesOfColumns, type CandleColumns } from './candleColumns.js';
import { CandleColumnsParser } from './candleColumnsParser.js';
import { CsvColumnsCache } from './candleCsvCache.js';
import { CandleSpacing } from './candleSpacing.js';
import type { CandleCsvOptions, CandleFile } from './candleCsvParser.js';
import { describeFsError, readCsvLines } from './csvFile.js';

export interface CandleColumnsFile extends Omit<CandleFile, 'candles'> {
  readonly columns: CandleColumns;
}

/**
 * Reads a whole candle CSV file into columns (see CandleColumnsParser): the rules, errors and results of
 * readCandleCsv, several times faster. `shared`: the columns live on SharedArrayBuffers (for workers).
 * A FIFO or other non-regular file is read line by line as a stream instead. A regular file read before,
 * unchanged, with the same options, comes from the candle CSV cache (RXTRADE_CSV_CACHE in `env`).
 */
export async function readCandleCsvColumns(
  path: string,
  options: CandleCsvOptions & { readonly shared?: boolean } = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<CandleColumnsFile> {
  // A file read before, unchanged, with the same options: its columns as then (src/streams/candleCsvCache.ts).
  const cache = CsvColumnsCache.of(path, options, env);
  const cached = cache?.read(options.shared ?? false);
  if (cached !== undefined) {
    options.spacing?.restore(cached.spacing);
    return cached.file;
  }
  // The spacing the rows show goes with the columns into the cache, whether or not the caller asked.
  const spacing = options.spacing ?? (cache !== undefined ? new CandleSpacing() : undefined);
  const parser = new CandleColumnsParser(
    path,
    spacing === options.spacing ? options : { ...options, spacing },
    options.shared ?? false,
  );
  const cannotRead = (err: unknown): UsageError =>
    new UsageError(`cannot read candles file ${path}: ${describeFsError(err)}`, { cause: err });
  let fd: number | undefined;
  let size = 0;
  try {
    const info = statSync(path);
    if (info.isFile()) {
      size = info.size;
      fd = openSync(path, 'r');
    }
  } catch (err) {
    throw cannotRead(err);
  }
  if (fd !== undefined) {
    try {
      parseFile(fd, size, parser, cannotRead);
    } finally {
      closeSync(fd);
    }
    parser.finish();
  } else {
    await readCsvLines(path, 'candles', {
      header: (line) => parser.header(line),
      row: (line, lineNo) => parser.row(line, lineNo),
    });
  }
  const file: CandleColumnsFile = {
    columns: parser.columns(),
    gaps: parser.gaps,
    label: parser.label,
    priceDecimals: parser.priceDecimals,
    volumeDecimals: parser.volumeDecimals,
  };
  if (cache !== undefined && spacing !== undefined) cache.write(file, spacing.snapshot());
  return file;
}

/**
 * Bytes read at a time. The file is parsed part by part through one buffer, never held whole: memory a
 * process touches for the first time is slow to get (a page fault per 4 kB), and a year of 1m candles is
 * a 4 MB file. The reads are synchronous: parsing holds the thread anyway, and each asynchronous read
 * would wait for a libuv worker thread, which a busy machine schedules late.
 */
const READ_BYTES = 1 << 18;

/** Reads the file `fd` (`size` bytes, as stat said) part by part into `parser`, whole lines at a time. */
function parseFile(
  fd: number,
  size: number,
  parser: CandleColumnsParser,
  cannotRead: (err: unknown) => UsageError,
): void {
  let buf = Buffer.allocUnsafe(Math.max(1024, Math.min(READ_BYTES, size + 1)));
  // Bytes in buf (a line not finished in the last part first), and where buf[0] is in the file.
  let filled = 0;
  let offset = 0;
  for (;;) {
    let got: number;
    try {
      got = readSync(fd, buf, filled, buf.length - filled, null);
    } catch (err) {
      throw cannotRead(err);
    }
    const end = filled + got;
    if (got === 0) {
      if (end > 0) parser.parseLines(buf, 0, end, end);
      return;
    }
    const lastNewline = buf.lastIndexOf(10, end - 1);
    if (lastNewline < 0) {
      // Not one whole line yet: read on (into a bigger buffer when this one is full).
      if (end === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, end);
        buf = bigger;
      }
      filled = end;
      continue;
    }
    const whole = lastNewline + 1;
    parser.parseLines(buf, 0, whole, Math.max(size - offset, whole));
    buf.copy(buf, 0, whole, end);
    offset += whole;
    filled = end - whole;
  }
}

/** Reads a whole candle CSV file into memory, validating every row (through readCandleCsvColumns). */
export async function readCandleCsv(path: string, options: CandleCsvOptions = {}): Promise<CandleFile> {
  const { columns, ...rest } = await readCandleCsvColumns(path, options);
  return { candles: candlesOfColumns(columns), ...rest };
}
