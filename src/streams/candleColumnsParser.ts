import { InvalidDataError } from '../domain/errors.js';
import { CANDLE_FIELDS, columnsOf, type CandleColumns, type SixColumns } from './candleColumns.js';
import { CandleCsvParser, MAX_TIME_MS, MIN_EPOCH_MS, type CandleCsvOptions } from './candleCsvParser.js';

/** Exact powers of ten (every one up to 1e22 is a double). */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
/** Digits an integer mantissa may have and stay exact (< 2^53). */
const MAX_FAST_DIGITS = 15;

/**
 * The byte-level reader behind readCandleCsvColumns: the same rules and messages as CandleCsvParser, over
 * the file's bytes (part by part, whole lines at a time), into growing Float64Array columns. A row in the
 * common shape (unquoted, untrimmed, plain decimal numbers of at most 15 digits, epoch-ms times, valid) is
 * parsed from its bytes: `mantissa / 10^k` is the
 * correctly rounded double of the decimal, what `Number(text)` gives. Any other row — ISO times, exponents,
 * quotes, spaces, and every invalid row — goes through CandleCsvParser.row, which accepts it or throws the
 * usual `FILE line N: …` error.
 */
export class CandleColumnsParser extends CandleCsvParser {
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
    this.cols = CANDLE_FIELDS.map(() => this.column(capacity));
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
    return columnsOf(
      this.symbol,
      this.timeframe,
      n,
      this.cols.map((c) => c.subarray(0, n)),
    );
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
    const [tCol, oCol, hCol, lCol, cCol, vCol] = this.cols as SixColumns;
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
        // closeTimeMs % intervalMs !== 0, without fmod (~21 ns a row here, against ~2.5): exact, as the
        // time is an integer below 2^53 by now (checked just above) and the interval a whole number of ms.
        closeTimeMs !== Math.floor(closeTimeMs / intervalMs) * intervalMs ||
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
