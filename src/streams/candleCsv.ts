import { gapBetween, type CandleGap } from '../domain/candleGaps.js';
import type { Candle } from '../domain/candle.js';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { InvalidDataError, UsageError } from '../domain/errors.js';
import { decimalsOf, describeFsError, readCsvLines } from './csvFile.js';
import { isAligned, TIMEFRAMES, timeframeMs, type Timeframe } from '../domain/timeframe.js';
import type { CandleSpacing } from './candleSpacing.js';
import { splitCsvLine, symbolFromFileName } from './tradeCsv.js';
import { parseIsoUtc } from '../domain/time.js';

/**
 * Reading candle files (CSV with a header row). Column names are matched case-insensitively:
 *
 * | field | accepted headers (first found wins) | notes |
 * |---|---|---|
 * | time | ts, timestamp, open_time_ms, close_time_ms, date | epoch ms or ISO-8601 (UTC when no zone) |
 * | prices | open, high, low, close | > 0, low ≤ open, close ≤ high |
 * | volume | volume | ≥ 0 |
 *
 * Whether the time is the candle's open or close: `open_time_ms` and `close_time_ms` say it themselves;
 * `ts`, `timestamp` and `date` follow the `label` option (default `close`, our convention). Candles are
 * returned as given, right-aligned (stamped with their close time): missing intervals are reported in
 * `gaps`, never filled, because inventing prices is the caller's decision.
 */
const TIME_COLUMNS = ['ts', 'timestamp', 'open_time_ms', 'close_time_ms', 'date'] as const;
const VALUE_COLUMNS = ['open', 'high', 'low', 'close', 'volume'] as const;
type ValueColumn = (typeof VALUE_COLUMNS)[number];

export type CandleLabel = 'open' | 'close';

export interface CandleCsvOptions {
  /** What an unlabelled time column (ts, timestamp, date) means. Default `close`. */
  readonly label?: CandleLabel;
  /** Interval of every row. Default `1m`. */
  readonly timeframe?: Timeframe;
  /** Symbol of the candles. Default: guessed from the file name, else `UNKNOWN`. */
  readonly symbol?: string;
  /** Told every row's close time and line: what the caller checks the timeframe against. */
  readonly spacing?: CandleSpacing;
}

export interface CandleFile {
  /** In time order; closed, revision 0; tradesCount 0 (a candle file does not say). */
  readonly candles: Candle[];
  readonly gaps: CandleGap[];
  /** Whether the file's times were open or close times. */
  readonly label: CandleLabel;
  /** Most decimal places seen in prices and in volumes (what derived outputs need). */
  readonly priceDecimals: number;
  readonly volumeDecimals: number;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const EPOCH_MS = /^\d+$/;
/** Epoch numbers below this (1973) are read as seconds, which this reader refuses rather than guesses. */
const MIN_EPOCH_MS = 1e11;
const MAX_TIME_MS = 4_102_444_800_000; // 2100-01-01

/** Parses a candle CSV one line at a time; every problem names the file and the line. */
export class CandleCsvParser {
  protected timeAt = -1;
  protected at: Partial<Record<ValueColumn, number>> = {};
  protected width = 0;
  protected previous: { closeTimeMs: number; lineNo: number } | undefined;
  protected readonly timeframe: Timeframe;
  protected readonly intervalMs: number;
  protected readonly symbol: string;
  label: CandleLabel;
  priceDecimals = 0;
  volumeDecimals = 0;
  readonly candles: Candle[] = [];
  readonly gaps: CandleGap[] = [];

  constructor(
    protected readonly source: string,
    protected readonly options: CandleCsvOptions = {},
  ) {
    this.timeframe = options.timeframe ?? '1m';
    this.intervalMs = timeframeMs(this.timeframe);
    this.symbol = options.symbol ?? symbolFromFileName(source) ?? 'UNKNOWN';
    this.label = options.label ?? 'close';
  }

  header(line: string): void {
    const names = splitCsvLine(line.replace(/^\uFEFF/, '')).map((h) => h.trim().toLowerCase());
    this.width = names.length;
    const timeName = TIME_COLUMNS.find((c) => names.includes(c));
    const missing: string[] = [];
    if (timeName === undefined) missing.push(`time (${TIME_COLUMNS.join('|')})`);
    else this.timeAt = names.indexOf(timeName);
    for (const c of VALUE_COLUMNS) {
      const i = names.indexOf(c);
      if (i < 0) missing.push(c);
      else this.at[c] = i;
    }
    if (missing.length > 0) {
      const looksHeaderless = names.every((n) => NUMBER.test(n));
      this.fail(
        1,
        `${looksHeaderless ? 'no header row' : 'missing column'}: need ${missing.join(', ')}; header is "${line.trim()}"`,
      );
    }
    // A column that names its meaning wins over the default, but never silently over an explicit option.
    const named: CandleLabel | undefined =
      timeName === 'open_time_ms' ? 'open' : timeName === 'close_time_ms' ? 'close' : undefined;
    if (named !== undefined) {
      if (this.options.label !== undefined && this.options.label !== named) {
        this.fail(
          1,
          `the time column "${timeName}" holds ${named} times, but the candles were said to be labelled by their ${this.options.label} time`,
        );
      }
      this.label = named;
    }
  }

  row(line: string, lineNo: number): void {
    const f = line.includes('"') ? splitCsvLine(line) : line.split(',');
    if (f.length < this.width) this.fail(lineNo, `expected ${this.width} fields, found ${f.length}`);
    const text = (c: ValueColumn): string => (f[this.at[c] as number] as string).trim();
    const open = this.price(text('open'), 'open', lineNo);
    const high = this.price(text('high'), 'high', lineNo);
    const low = this.price(text('low'), 'low', lineNo);
    const close = this.price(text('close'), 'close', lineNo);
    const volumeText = text('volume');
    const volume = this.number(volumeText, 'volume', lineNo);
    if (!(volume >= 0) || volume === Infinity) this.fail(lineNo, `volume "${volumeText}" is negative`);
    this.volumeDecimals = Math.max(this.volumeDecimals, decimalsOf(volumeText));
    if (low > high) this.fail(lineNo, `low ${low} is above high ${high}`);
    for (const [name, v] of [
      ['open', open],
      ['close', close],
    ] as const) {
      if (v < low || v > high) this.fail(lineNo, `${name} ${v} is outside low ${low} .. high ${high}`);
    }

    const timeText = (f[this.timeAt] as string).trim();
    const stampMs = this.time(timeText, lineNo);
    const closeTimeMs = this.label === 'open' ? stampMs + this.intervalMs : stampMs;
    const prev = this.previous;
    if (!isAligned(closeTimeMs, this.intervalMs)) {
      // Say what the rows look like instead: 1m rows read as 1d fail here on their second row.
      const like = longestDividing(prev === undefined ? closeTimeMs : closeTimeMs - prev.closeTimeMs);
      const hint =
        like === undefined
          ? ''
          : prev === undefined
            ? `; it is aligned to ${like} intervals: check the timeframe (--timeframe ${like}?)`
            : `; it is ${like} after the row on line ${prev.lineNo}: the rows look like ${like} candles, not ${this.timeframe} (--timeframe ${like}?)`;
      this.fail(
        lineNo,
        `time "${timeText}" is not aligned to ${this.timeframe} intervals (as a candle ${this.label} time)${hint}`,
      );
    }
    if (prev !== undefined) {
      if (closeTimeMs <= prev.closeTimeMs) {
        this.fail(
          lineNo,
          `time "${timeText}" is not after the previous row's (line ${prev.lineNo}): rows must be in strictly increasing time order`,
        );
      }
      const gap = gapBetween(prev.closeTimeMs, closeTimeMs, this.intervalMs);
      if (gap !== undefined) this.gaps.push(gap);
    }
    this.previous = { closeTimeMs, lineNo };
    this.options.spacing?.add(closeTimeMs, lineNo);
    this.emit(closeTimeMs, open, high, low, close, volume);
  }

  /** Keeps one validated row (as a Candle in `candles`; CandleColumnsParser keeps columns instead). */
  protected emit(
    closeTimeMs: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
  ): void {
    this.candles.push({
      symbol: this.symbol,
      timeframe: this.timeframe,
      closeTimeMs,
      open,
      high,
      low,
      close,
      volume,
      tradesCount: 0,
      closed: true,
      revision: 0,
    });
  }

  private price(text: string, what: string, lineNo: number): number {
    const v = this.number(text, what, lineNo);
    if (!(v > 0) || v === Infinity) this.fail(lineNo, `${what} "${text}" is not a positive number`);
    this.priceDecimals = Math.max(this.priceDecimals, decimalsOf(text));
    return v;
  }

  private number(text: string, what: string, lineNo: number): number {
    if (!NUMBER.test(text)) this.fail(lineNo, `${what} "${text}" is not a number`);
    return Number(text);
  }

  private time(text: string, lineNo: number): number {
    let ms: number;
    if (EPOCH_MS.test(text)) {
      ms = Number(text);
      if (ms < MIN_EPOCH_MS) {
        this.fail(lineNo, `time "${text}" is not epoch milliseconds (epoch seconds are not accepted)`);
      }
    } else {
      ms = parseIsoUtc(text);
      if (Number.isNaN(ms)) {
        this.fail(lineNo, `time "${text}" is neither epoch milliseconds nor an ISO-8601 time`);
      }
    }
    if (ms >= MAX_TIME_MS) this.fail(lineNo, `time "${text}" is after 2099: wrong unit or bad data`);
    return ms;
  }

  private fail(lineNo: number, problem: string): never {
    throw new InvalidDataError(`${this.source} line ${lineNo}: ${problem}`);
  }
}

/** The longest timeframe `ms` is a whole number of (undefined below a minute). */
function longestDividing(ms: number): Timeframe | undefined {
  let best: Timeframe | undefined;
  for (const tf of TIMEFRAMES) if (ms > 0 && ms % timeframeMs(tf) === 0) best = tf;
  return best;
}

/** Candles of one symbol and timeframe as columns (close times in epoch ms), `length` rows. */
export interface CandleColumns {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly length: number;
  readonly closeTimeMs: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

const FIELDS = ['closeTimeMs', 'open', 'high', 'low', 'close', 'volume'] as const;

/** The rows of `c` as Candle objects (closed, revision 0, tradesCount 0). */
export function candlesOfColumns(c: CandleColumns, from = 0, to = c.length): Candle[] {
  const out = new Array<Candle>(Math.max(0, to - from));
  for (let i = from; i < to; i++) out[i - from] = candleOfRow(c, i);
  return out;
}

/** Row `i` of `c` as a Candle (closed, revision 0, tradesCount 0). */
export function candleOfRow(c: CandleColumns, i: number): Candle {
  return {
    symbol: c.symbol,
    timeframe: c.timeframe,
    closeTimeMs: c.closeTimeMs[i] as number,
    open: c.open[i] as number,
    high: c.high[i] as number,
    low: c.low[i] as number,
    close: c.close[i] as number,
    volume: c.volume[i] as number,
    tradesCount: 0,
    closed: true,
    revision: 0,
  };
}

/** Exact powers of ten (every one up to 1e22 is a double). */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
/** Digits an integer mantissa may have and stay exact (< 2^53). */
const MAX_FAST_DIGITS = 15;

/**
 * The byte-level reader behind readCandleCsvColumns: the same rules and messages as CandleCsvParser, over the
 * file's bytes (part by part, whole lines at a time), into growing Float64Array columns. A row in the common shape (unquoted, untrimmed, plain decimal
 * numbers of at most 15 digits, epoch-ms times, valid) is parsed from its bytes: `mantissa / 10^k` is the
 * correctly rounded double of the decimal, what `Number(text)` gives. Any other row — ISO times, exponents,
 * quotes, spaces, and every invalid row — goes through CandleCsvParser.row, which accepts it or throws the
 * usual `FILE line N: …` error.
 */
class CandleColumnsParser extends CandleCsvParser {
  private n = 0;
  private cols: Float64Array[];
  private sawHeader = false;
  /** Lines read so far (blank ones included): the next line's number is one more. */
  private lineNo = 0;

  constructor(
    source: string,
    options: CandleCsvOptions,
    private readonly shared: boolean,
    capacity = 1024,
  ) {
    super(source, options);
    this.cols = FIELDS.map(() => this.column(capacity));
  }

  private column(length: number): Float64Array {
    return new Float64Array(this.shared ? new SharedArrayBuffer(length * 8) : new ArrayBuffer(length * 8));
  }

  /** Room for about `rows` rows (a good guess saves copying the columns as they grow). */
  reserve(rows: number): void {
    if (rows > (this.cols[0] as Float64Array).length) this.grow(rows);
  }

  private grow(length: number): void {
    this.cols = this.cols.map((c) => {
      const bigger = this.column(length);
      bigger.set(c.subarray(0, this.n));
      return bigger;
    });
  }

  protected override emit(
    closeTimeMs: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
  ): void {
    const n = this.n;
    const cols = this.cols;
    if (n === (cols[0] as Float64Array).length) {
      this.grow(n * 2);
      this.emit(closeTimeMs, open, high, low, close, volume);
      return;
    }
    (cols[0] as Float64Array)[n] = closeTimeMs;
    (cols[1] as Float64Array)[n] = open;
    (cols[2] as Float64Array)[n] = high;
    (cols[3] as Float64Array)[n] = low;
    (cols[4] as Float64Array)[n] = close;
    (cols[5] as Float64Array)[n] = volume;
    this.n = n + 1;
  }

  /** The columns read (views of the parser's, on SharedArrayBuffers when it was made `shared`). */
  columns(): CandleColumns {
    const n = this.n;
    const [closeTimeMs, open, high, low, close, volume] = this.cols.map((c) => c.subarray(0, n)) as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    return {
      symbol: this.symbol,
      timeframe: this.timeframe,
      length: n,
      closeTimeMs,
      open,
      high,
      low,
      close,
      volume,
    };
  }

  /**
   * Parses the complete lines of `buf[from, to)` (the next part of the file; `to` is just after a newline,
   * or the end of the file): see readCsvLines for the line rules (CR stripped, blank lines skipped).
   * `restBytes`: how many bytes of the file follow `from` (the first row's length times it guesses the
   * number of rows, so the columns are made big enough once).
   */
  parseLines(buf: Buffer, from: number, to: number, restBytes: number): void {
    let pos = from;
    while (pos < to && !this.sawHeader) {
      let end = buf.indexOf(10, pos);
      const next = end < 0 || end >= to ? to : end + 1;
      if (end < 0 || end >= to) end = to;
      this.lineNo += 1;
      const stop = end > pos && buf[end - 1] === 13 ? end - 1 : end;
      const line = buf.toString('utf8', pos, stop);
      if (line.trim().length > 0) {
        this.header(line);
        this.sawHeader = true;
        // Rows are about as long as the first one after the header: reserve for the whole file.
        const nl = buf.indexOf(10, next);
        if (nl > next && nl < to) {
          this.reserve(Math.ceil(((restBytes - (next - from)) / (nl + 1 - next)) * 1.05) + 16);
        }
      }
      pos = next;
    }
    this.rows(buf, pos, to);
  }

  /** Throws unless a header was read (after the last part of the file). */
  finish(): void {
    if (!this.sawHeader) {
      throw new InvalidDataError(`${this.source}: the file is empty (expected a header row and candles)`);
    }
  }

  /**
   * The lines from `from` to `to`: runs of rows in the common shape (fastRows), and between them the
   * other lines one at a time (otherLine), with room made in the columns when they are full.
   */
  private rows(buf: Buffer, from: number, to: number): void {
    let pos = from;
    // The first run of rows is kept short, so the way out of fastRows' loop has run once before the loop
    // is optimized (the optimized loop would otherwise be thrown away when it first leaves).
    let most = this.n === 0 ? 64 : to;
    while (pos < to) {
      const capacity = (this.cols[0] as Float64Array).length;
      const limit = Math.min(capacity, this.n + most);
      pos = this.fastRows(buf, pos, to, limit);
      most = to;
      if (pos >= to || this.n === limit) {
        if (this.n === capacity) this.grow(capacity * 2);
      } else pos = this.otherLine(buf, pos, to);
    }
  }

  /**
   * Rows from `start` on, as long as they are in the common shape, until the `limit`-th row (at most the
   * columns' length), with the parser's state in locals. Returns where it stopped: `to`, or the start of
   * the line it left (for otherLine, or for after more room).
   */
  private fastRows(buf: Buffer, start: number, to: number, limit: number): number {
    const width = this.width;
    const kinds = this.fieldKinds();
    const intervalMs = this.intervalMs;
    const openMs = this.label === 'open' ? intervalMs : 0;
    const spacing = this.options.spacing;
    const previous = this.previous;
    let prevClose = previous === undefined ? Number.NaN : previous.closeTimeMs;
    let priceDecimals = this.priceDecimals;
    let volumeDecimals = this.volumeDecimals;
    let lineNo = this.lineNo;
    let n = this.n;
    const first = n;
    const [tCol, oCol, hCol, lCol, cCol, vCol] = this.cols as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    let p = start;
    while (p < to && n < limit) {
      let stamp = Number.NaN;
      let open = Number.NaN;
      let high = Number.NaN;
      let low = Number.NaN;
      let close = Number.NaN;
      let volume = Number.NaN;
      let q = p;
      let b = 10;
      let field = 0;
      let common = true;
      let rowPriceDecimals = 0;
      let rowVolumeDecimals = 0;
      for (; field < width; field++) {
        // One field, from q to the comma or line end after it.
        const kind = kinds[field] as number;
        let mantissa = 0;
        let digits = 0;
        let dot = -1;
        b = 10;
        for (; q < to; q++) {
          b = buf[q] as number;
          if (b >= 48 && b <= 57) {
            mantissa = mantissa * 10 + (b - 48);
            digits++;
          } else if (b === 46 && dot < 0) dot = digits;
          else if (b === 44 || b === 10 || b === 13 || kind !== 0 || b === 34) break;
        }
        if (q >= to) b = 10;
        // Another column may hold anything but a quote (a comma inside quotes would split it).
        if (
          kind === 0
            ? b === 34
            : (b !== 44 && b !== 10 && b !== 13) || digits === 0 || digits > MAX_FAST_DIGITS
        ) {
          common = false;
          break;
        }
        const places = dot < 0 ? 0 : digits - dot;
        const v = places > 0 ? mantissa / (POW10[places] as number) : mantissa;
        if (kind === 1) {
          stamp = dot < 0 ? v : Number.NaN;
        } else if (kind === 6) {
          volume = v;
          rowVolumeDecimals = places;
        } else if (kind !== 0) {
          if (places > rowPriceDecimals) rowPriceDecimals = places;
          if (kind === 2) open = v;
          else if (kind === 3) high = v;
          else if (kind === 4) low = v;
          else close = v;
        }
        q++;
        if (b !== 44) break;
      }
      // Fields past the header's are another column's: skipped to the line end.
      while (common && b === 44) {
        for (; q < to; q++) {
          b = buf[q] as number;
          if (b === 44 || b === 10 || b === 13) break;
          if (b === 34) common = false;
        }
        if (q >= to) b = 10;
        q++;
      }
      // The line ends in a newline, a CR before one, or the end of the part.
      if (b === 13) {
        if (q < to && buf[q] === 10) q++;
        else common = false;
      }
      const closeTimeMs = stamp + openMs;
      if (
        !common ||
        field < width - 1 ||
        !(open > 0 && high > 0 && low > 0 && close > 0) ||
        low > high ||
        open < low ||
        open > high ||
        close < low ||
        close > high ||
        !(stamp >= MIN_EPOCH_MS && stamp < MAX_TIME_MS) ||
        closeTimeMs % intervalMs !== 0 ||
        closeTimeMs <= prevClose ||
        closeTimeMs - prevClose > intervalMs
      ) {
        break; // otherLine's (a row after a gap too: rare, and kept out of this loop)
      }
      lineNo++;
      if (rowPriceDecimals > priceDecimals) priceDecimals = rowPriceDecimals;
      if (rowVolumeDecimals > volumeDecimals) volumeDecimals = rowVolumeDecimals;
      prevClose = closeTimeMs;
      spacing?.add(closeTimeMs, lineNo);
      tCol[n] = closeTimeMs;
      oCol[n] = open;
      hCol[n] = high;
      lCol[n] = low;
      cCol[n] = close;
      vCol[n] = volume;
      n++;
      p = q > to ? to : q;
    }
    if (n > first) {
      this.keptUpTo(prevClose, lineNo);
      this.priceDecimals = priceDecimals;
      this.volumeDecimals = volumeDecimals;
      this.n = n;
      this.lineNo = lineNo;
    }
    return p;
  }

  private kinds: Uint8Array | undefined;

  /** What each field of a row is: 1 time, 2 open, 3 high, 4 low, 5 close, 6 volume, 0 another column. */
  private fieldKinds(): Uint8Array {
    if (this.kinds === undefined) {
      const kinds = new Uint8Array(this.width);
      kinds[this.timeAt] = 1;
      const at = this.at;
      kinds[at.open as number] = 2;
      kinds[at.high as number] = 3;
      kinds[at.low as number] = 4;
      kinds[at.close as number] = 5;
      kinds[at.volume as number] = 6;
      this.kinds = kinds;
    }
    return this.kinds;
  }

  /** The last row kept: its close time and line. */
  private keptUpTo(closeTimeMs: number, lineNo: number): void {
    if (this.previous === undefined) this.previous = { closeTimeMs, lineNo };
    else {
      this.previous.closeTimeMs = closeTimeMs;
      this.previous.lineNo = lineNo;
    }
  }

  /** The line at `start` (not in the common shape) through CandleCsvParser.row; returns the next line's start. */
  private otherLine(buf: Buffer, start: number, to: number): number {
    const end = buf.indexOf(10, start);
    const next = end < 0 || end >= to ? to : end + 1;
    this.lineNo += 1;
    let stop = next > start && buf[next - 1] === 10 ? next - 1 : next;
    if (stop > start && buf[stop - 1] === 13) stop -= 1;
    if (stop > start) {
      const line = buf.toString('utf8', start, stop);
      if (line.trim().length > 0) this.row(line, this.lineNo);
    }
    return next;
  }
}

export interface CandleColumnsFile extends Omit<CandleFile, 'candles'> {
  readonly columns: CandleColumns;
}

/**
 * Reads a whole candle CSV file into columns (see CandleColumnsParser): the rules, errors and results of
 * readCandleCsv, several times faster. `shared`: the columns live on SharedArrayBuffers (for workers).
 * A FIFO or other non-regular file is read line by line as a stream instead.
 */
export async function readCandleCsvColumns(
  path: string,
  options: CandleCsvOptions & { readonly shared?: boolean } = {},
): Promise<CandleColumnsFile> {
  const parser = new CandleColumnsParser(path, options, options.shared ?? false);
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
  return {
    columns: parser.columns(),
    gaps: parser.gaps,
    label: parser.label,
    priceDecimals: parser.priceDecimals,
    volumeDecimals: parser.volumeDecimals,
  };
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
