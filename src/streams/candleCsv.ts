import type { Candle } from '../domain/candle.js';
import { InvalidDataError } from '../domain/errors.js';
import { decimalsOf, readCsvLines } from './csvFile.js';
import { isAligned, timeframeMs, type Timeframe } from '../domain/timeframe.js';
import { splitCsvLine, symbolFromFileName } from './tradeCsv.js';

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
}

/** Consecutive candles further apart than one interval: `missing` intervals between them have no row. */
export interface CandleGap {
  readonly afterCloseTimeMs: number;
  readonly beforeCloseTimeMs: number;
  readonly missing: number;
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
  private timeAt = -1;
  private at: Partial<Record<ValueColumn, number>> = {};
  private width = 0;
  private previous: { closeTimeMs: number; lineNo: number } | undefined;
  private readonly timeframe: Timeframe;
  private readonly intervalMs: number;
  private readonly symbol: string;
  label: CandleLabel;
  priceDecimals = 0;
  volumeDecimals = 0;
  readonly candles: Candle[] = [];
  readonly gaps: CandleGap[] = [];

  constructor(
    private readonly source: string,
    private readonly options: CandleCsvOptions = {},
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
    if (!isAligned(closeTimeMs, this.intervalMs)) {
      this.fail(
        lineNo,
        `time "${timeText}" is not aligned to ${this.timeframe} intervals (as a candle ${this.label} time)`,
      );
    }
    const prev = this.previous;
    if (prev !== undefined) {
      if (closeTimeMs <= prev.closeTimeMs) {
        this.fail(
          lineNo,
          `time "${timeText}" is not after the previous row's (line ${prev.lineNo}): rows must be in strictly increasing time order`,
        );
      }
      if (closeTimeMs - prev.closeTimeMs > this.intervalMs) {
        this.gaps.push({
          afterCloseTimeMs: prev.closeTimeMs,
          beforeCloseTimeMs: closeTimeMs,
          missing: (closeTimeMs - prev.closeTimeMs) / this.intervalMs - 1,
        });
      }
    }
    this.previous = { closeTimeMs, lineNo };
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
      const hasZone = /(?:Z|[+-]\d\d:?\d\d)$/i.test(text);
      const dateOnly = /^\d{4}-\d\d-\d\d$/.test(text);
      ms = Date.parse(hasZone || dateOnly ? text : `${text.replace(' ', 'T')}Z`);
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

/** Reads a whole candle CSV file into memory, validating every row. */
export async function readCandleCsv(path: string, options: CandleCsvOptions = {}): Promise<CandleFile> {
  const parser = new CandleCsvParser(path, options);
  await readCsvLines(path, 'candles', {
    header: (line) => parser.header(line),
    row: (line, lineNo) => parser.row(line, lineNo),
  });
  return {
    candles: parser.candles,
    gaps: parser.gaps,
    label: parser.label,
    priceDecimals: parser.priceDecimals,
    volumeDecimals: parser.volumeDecimals,
  };
}
