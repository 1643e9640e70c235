import { gapBetween, type CandleGap } from '../domain/candleGaps.js';
import type { Candle } from '../domain/candle.js';
import { readFile, stat } from 'node:fs/promises';
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
  const { symbol, timeframe, closeTimeMs, open, high, low, close, volume } = c;
  for (let i = from; i < to; i++) {
    out[i - from] = {
      symbol,
      timeframe,
      closeTimeMs: closeTimeMs[i] as number,
      open: open[i] as number,
      high: high[i] as number,
      low: low[i] as number,
      close: close[i] as number,
      volume: volume[i] as number,
      tradesCount: 0,
      closed: true,
      revision: 0,
    };
  }
  return out;
}

/** Exact powers of ten (every one up to 1e22 is a double). */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
/** Digits an integer mantissa may have and stay exact (< 2^53). */
const MAX_FAST_DIGITS = 15;

/**
 * The byte-level reader behind readCandleCsvColumns: the same rules and messages as CandleCsvParser, over a
 * Buffer, into growing Float64Array columns. A row in the common shape (unquoted, untrimmed, plain decimal
 * numbers of at most 15 digits, epoch-ms times, valid) is parsed from its bytes: `mantissa / 10^k` is the
 * correctly rounded double of the decimal, what `Number(text)` gives. Any other row — ISO times, exponents,
 * quotes, spaces, and every invalid row — goes through CandleCsvParser.row, which accepts it or throws the
 * usual `FILE line N: …` error.
 */
class CandleColumnsParser extends CandleCsvParser {
  private n = 0;
  private cols: Float64Array[];

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

  /** Parses a whole file's bytes (see readCsvLines for the line rules: CR stripped, blank lines skipped). */
  parse(buf: Buffer): void {
    const size = buf.length;
    let pos = 0;
    let lineNo = 0;
    let sawHeader = false;
    while (pos < size) {
      let end = buf.indexOf(10, pos);
      const next = end < 0 ? size : end + 1;
      if (end < 0) end = size;
      lineNo += 1;
      let stop = end;
      if (stop > pos && buf[stop - 1] === 13) stop -= 1;
      if (!sawHeader) {
        const line = buf.toString('utf8', pos, stop);
        if (line.trim().length > 0) {
          this.header(line);
          sawHeader = true;
          // Rows are about as long as the first one after the header: reserve for the whole file.
          const nl = buf.indexOf(10, next);
          if (nl > next) this.reserve(Math.ceil(((size - next) / (nl + 1 - next)) * 1.05) + 16);
        }
      } else if (stop > pos && !this.fastRow(buf, pos, stop, lineNo)) {
        const line = buf.toString('utf8', pos, stop);
        if (line.trim().length > 0) this.row(line, lineNo);
      }
      pos = next;
    }
    if (!sawHeader) {
      throw new InvalidDataError(`${this.source}: the file is empty (expected a header row and candles)`);
    }
  }

  /** One row in the common shape, kept; false (nothing changed) for any other row. */
  private fastRow(buf: Buffer, start: number, stop: number, lineNo: number): boolean {
    const timeAt = this.timeAt;
    const at = this.at;
    const openAt = at.open as number;
    const highAt = at.high as number;
    const lowAt = at.low as number;
    const closeAt = at.close as number;
    const volumeAt = at.volume as number;
    let stamp = Number.NaN;
    let open = Number.NaN;
    let high = Number.NaN;
    let low = Number.NaN;
    let close = Number.NaN;
    let volume = Number.NaN;
    let priceDecimals = this.priceDecimals;
    let volumeDecimals = this.volumeDecimals;
    let field = 0;
    let p = start;
    for (;;) {
      // One field from p to the next comma (or the end of the line).
      let mantissa = 0;
      let digits = 0;
      let fraction = -1;
      let plain = true;
      let q = p;
      for (; q < stop; q++) {
        const b = buf[q] as number;
        if (b === 44) break;
        if (b >= 48 && b <= 57) {
          mantissa = mantissa * 10 + (b - 48);
          digits++;
          if (fraction >= 0) fraction++;
        } else if (b === 46 && fraction < 0) fraction = 0;
        else if (b === 34)
          return false; // quoted: the general reader
        else plain = false;
      }
      if (field === timeAt) {
        if (!plain || fraction >= 0 || digits === 0 || digits > MAX_FAST_DIGITS) return false;
        stamp = mantissa;
      } else if (
        field === openAt ||
        field === highAt ||
        field === lowAt ||
        field === closeAt ||
        field === volumeAt
      ) {
        if (!plain || digits === 0 || digits > MAX_FAST_DIGITS) return false;
        const v = fraction > 0 ? mantissa / (POW10[fraction] as number) : mantissa;
        const places = fraction > 0 ? fraction : 0;
        if (field === volumeAt) {
          volume = v;
          if (places > volumeDecimals) volumeDecimals = places;
        } else {
          if (!(v > 0)) return false;
          if (places > priceDecimals) priceDecimals = places;
          if (field === openAt) open = v;
          else if (field === highAt) high = v;
          else if (field === lowAt) low = v;
          else close = v;
        }
      }
      field++;
      if (q >= stop) break;
      p = q + 1;
    }
    if (field < this.width) return false;
    if (low > high || open < low || open > high || close < low || close > high) return false;
    if (!(stamp >= MIN_EPOCH_MS && stamp < MAX_TIME_MS)) return false;
    const closeTimeMs = this.label === 'open' ? stamp + this.intervalMs : stamp;
    if (!isAligned(closeTimeMs, this.intervalMs)) return false;
    const prev = this.previous;
    if (prev !== undefined) {
      if (closeTimeMs <= prev.closeTimeMs) return false;
      const gap = gapBetween(prev.closeTimeMs, closeTimeMs, this.intervalMs);
      if (gap !== undefined) this.gaps.push(gap);
      prev.closeTimeMs = closeTimeMs;
      prev.lineNo = lineNo;
    } else this.previous = { closeTimeMs, lineNo };
    this.options.spacing?.add(closeTimeMs, lineNo);
    this.priceDecimals = priceDecimals;
    this.volumeDecimals = volumeDecimals;
    this.emit(closeTimeMs, open, high, low, close, volume);
    return true;
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
  let buf: Buffer | undefined;
  try {
    if ((await stat(path)).isFile()) buf = await readFile(path);
  } catch (err) {
    throw new UsageError(`cannot read candles file ${path}: ${describeFsError(err)}`, { cause: err });
  }
  if (buf !== undefined) parser.parse(buf);
  else {
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

/** Reads a whole candle CSV file into memory, validating every row (through readCandleCsvColumns). */
export async function readCandleCsv(path: string, options: CandleCsvOptions = {}): Promise<CandleFile> {
  const { columns, ...rest } = await readCandleCsvColumns(path, options);
  return { candles: candlesOfColumns(columns), ...rest };
}
