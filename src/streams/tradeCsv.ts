import { basename } from 'node:path';
import { InvalidDataError, UsageError } from '../domain/errors.js';
import { compareTradeIds, compareTrades, type Trade, type TradeSide } from '../domain/trade.js';
import { decimalsOf, readCsvLines } from './csvFile.js';
import { epochToMs, epochUnit, parseIsoUtc, type EpochUnit } from '../domain/time.js';

/**
 * Reading trade files (CSV with a header row). Column names are matched case-insensitively:
 *
 * | field | accepted headers (first found wins) | notes |
 * |---|---|---|
 * | time | trade_time_ms, ts, timestamp, time, datetime | epoch s/ms/µs/ns (unit read off the magnitude) or ISO-8601 (UTC if no zone) |
 * | price | price, px | |
 * | size | qty, size, sz, quantity, amount | |
 * | trade id | trade_id, tradeid, id, agg_trade_id | optional: the line number otherwise |
 * | taker side | taker_side, side | buy/sell/b/s; optional |
 * | maker flag | buyer_is_maker, is_buyer_maker | true → the taker sold; used when there is no side column |
 * | symbol | symbol, instid, inst_id | optional |
 */
const COLUMNS = {
  time: ['trade_time_ms', 'ts', 'timestamp', 'time', 'datetime'],
  price: ['price', 'px'],
  size: ['qty', 'size', 'sz', 'quantity', 'amount'],
  id: ['trade_id', 'tradeid', 'id', 'agg_trade_id'],
  side: ['taker_side', 'side'],
  buyerIsMaker: ['buyer_is_maker', 'is_buyer_maker'],
  symbol: ['symbol', 'instid', 'inst_id'],
} as const;

export type TimeUnit = EpochUnit | 'iso';

export interface TradeFile {
  /** In time order (sorted by time then trade id when the file was not). */
  readonly trades: Trade[];
  readonly symbols: string[];
  /** Most decimal places seen in prices and in sizes: what outputs derived from them need. */
  readonly priceDecimals: number;
  readonly sizeDecimals: number;
  readonly timeUnit: TimeUnit | undefined;
  /** True when the rows were not in time order and had to be sorted. */
  readonly reordered: boolean;
  /** Rows that repeated an earlier row's symbol and trade id: dropped (the earlier row kept). */
  readonly duplicates: DuplicateTrades;
}

/** What `readTradeCsv` dropped as repeated trades. */
export interface DuplicateTrades {
  readonly count: number;
  /** The first repeat: its line, and the line of the row it repeats. */
  readonly first?: {
    readonly symbol: string;
    readonly tradeId: string;
    readonly line: number;
    readonly firstLine: number;
  };
  /** Repeats whose time, price, size or side differ from the row they repeat. */
  readonly differing: number;
}

export interface TradeCsvOptions {
  /** Symbol for every row; overrides a symbol column. */
  readonly symbol?: string;
  /** Symbol when there is neither `symbol` nor a symbol column. */
  readonly defaultSymbol?: string;
  /**
   * What to tell the user when the symbol cannot be determined (no `symbol`, no `defaultSymbol`, no symbol
   * column). Default: pass --symbol.
   */
  readonly symbolHint?: string;
  /** Called after each chunk read with the bytes read so far. */
  readonly onProgress?: (bytesRead: number) => void;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Accepted trade times: 2000-01-01 ≤ t < 2100-01-01 UTC. Anything else is a unit or data error. */
const MIN_TIME_MS = 946_684_800_000;
const MAX_TIME_MS = 4_102_444_800_000;

/**
 * Parses a trade CSV one line at a time. Every problem is an InvalidDataError naming the file, the line and
 * the value, so a user can go straight to it.
 */
export class TradeCsvParser {
  private index: Partial<Record<keyof typeof COLUMNS, number>> = {};
  private width = 0;
  private unit: TimeUnit | undefined;
  priceDecimals = 0;
  sizeDecimals = 0;
  /** Values of the symbol column (even when `symbol` overrides them), with the line each first appears on. */
  readonly columnSymbols = new Map<string, number>();

  constructor(
    private readonly source: string,
    private readonly options: TradeCsvOptions = {},
  ) {}

  get timeUnit(): TimeUnit | undefined {
    return this.unit;
  }

  header(line: string): void {
    const names = splitCsvLine(line.replace(/^\uFEFF/, '')).map((h) => h.trim().toLowerCase());
    this.width = names.length;
    for (const [field, aliases] of Object.entries(COLUMNS) as [keyof typeof COLUMNS, readonly string[]][]) {
      const at = aliases.map((a) => names.indexOf(a)).find((i) => i >= 0);
      if (at !== undefined) this.index[field] = at;
    }
    const missing = (['time', 'price', 'size'] as const).filter((f) => this.index[f] === undefined);
    if (missing.length > 0) {
      const wanted = missing.map((f) => `${f} (${COLUMNS[f].join('|')})`).join(', ');
      const looksHeaderless = names.every((n) => NUMBER.test(n));
      throw new InvalidDataError(
        `${this.source} line 1: ${looksHeaderless ? 'no header row' : 'missing column'}: need ${wanted}; header is "${line.trim()}"`,
      );
    }
    const named = (this.options.symbol ?? this.options.defaultSymbol ?? '').trim();
    if (this.index.symbol === undefined && named.length === 0) {
      throw new UsageError(
        `cannot tell which symbol ${this.source} holds: it has no symbol column (symbol, instId or inst_id) ` +
          `and its name names no pair (such as …BTCUSDT… or …ETH_USDT…); ${this.options.symbolHint ?? 'pass --symbol BASE-QUOTE'}`,
      );
    }
  }

  row(line: string, lineNo: number): Trade {
    const f = line.includes('"') ? splitCsvLine(line) : line.split(',');
    if (f.length < this.width) {
      throw new InvalidDataError(
        `${this.source} line ${lineNo}: expected ${this.width} fields, found ${f.length}`,
      );
    }
    const ix = this.index;
    const priceText = (f[ix.price as number] as string).trim();
    const sizeText = (f[ix.size as number] as string).trim();
    const price = this.number(priceText, 'price', lineNo);
    if (!(price > 0) || price === Infinity)
      this.fail(lineNo, `price "${priceText}" is not a positive number`);
    const size = this.number(sizeText, 'size', lineNo);
    if (!(size >= 0) || size === Infinity) this.fail(lineNo, `size "${sizeText}" is negative`);
    this.priceDecimals = Math.max(this.priceDecimals, decimalsOf(priceText));
    this.sizeDecimals = Math.max(this.sizeDecimals, decimalsOf(sizeText));

    let tradeId = String(lineNo);
    if (ix.id !== undefined) {
      tradeId = (f[ix.id] as string).trim();
      if (tradeId.length === 0) this.fail(lineNo, 'trade id is empty');
    }
    const column = ix.symbol !== undefined ? (f[ix.symbol] as string).trim() : undefined;
    if (column !== undefined && !this.columnSymbols.has(column)) this.columnSymbols.set(column, lineNo);
    const symbol = this.options.symbol ?? column ?? this.options.defaultSymbol ?? '';
    if (symbol.length === 0) this.fail(lineNo, 'symbol is empty');
    return {
      symbol,
      tradeId,
      tsMs: this.time((f[ix.time as number] as string).trim(), lineNo),
      price,
      size,
      side: this.side(f, lineNo),
    };
  }

  private number(text: string, what: string, lineNo: number): number {
    if (!NUMBER.test(text)) this.fail(lineNo, `${what} "${text}" is not a number`);
    return Number(text);
  }

  private time(text: string, lineNo: number): number {
    let ms: number;
    if (NUMBER.test(text)) {
      const unit = epochUnit(Number(text));
      if (this.unit === undefined) this.unit = unit;
      else if (unit !== this.unit) {
        this.fail(lineNo, `time "${text}" looks like epoch ${unit} but earlier rows are epoch ${this.unit}`);
      }
      ms = epochToMs(text, unit);
    } else {
      ms = parseIsoUtc(text);
      if (Number.isNaN(ms))
        this.fail(lineNo, `time "${text}" is neither an epoch number nor an ISO-8601 time`);
      if (this.unit === undefined) this.unit = 'iso';
      else if (this.unit !== 'iso')
        this.fail(lineNo, `time "${text}" is ISO-8601 but earlier rows are epoch ${this.unit}`);
    }
    if (ms < MIN_TIME_MS || ms >= MAX_TIME_MS) {
      this.fail(
        lineNo,
        `time "${text}" is ${new Date(ms).toISOString()}, outside 2000–2099: wrong unit or bad data`,
      );
    }
    return ms;
  }

  private side(f: string[], lineNo: number): TradeSide {
    const ix = this.index;
    if (ix.side !== undefined) {
      const s = (f[ix.side] as string).trim().toLowerCase();
      if (s === 'buy' || s === 'b') return 'buy';
      if (s === 'sell' || s === 's') return 'sell';
      if (s === '') return 'unknown';
      this.fail(lineNo, `taker side "${s}" is neither buy nor sell`);
    }
    if (ix.buyerIsMaker !== undefined) {
      const m = (f[ix.buyerIsMaker] as string).trim().toLowerCase();
      if (m === 'true' || m === '1') return 'sell';
      if (m === 'false' || m === '0') return 'buy';
      this.fail(lineNo, `buyer_is_maker "${m}" is neither true nor false`);
    }
    return 'unknown';
  }

  private fail(lineNo: number, problem: string): never {
    throw new InvalidDataError(`${this.source} line ${lineNo}: ${problem}`);
  }
}

/**
 * Reads a whole trade CSV file into memory (about 120 bytes a trade), in time order. Rows that repeat an
 * earlier row's symbol and trade id are dropped (the earlier one kept) and reported in `duplicates`: a
 * trade counted twice would inflate every volume. A `symbol` option that would merge the several symbols
 * of the file's symbol column into one is refused (UsageError naming them).
 */
export async function readTradeCsv(path: string, options: TradeCsvOptions = {}): Promise<TradeFile> {
  const parser = new TradeCsvParser(path, options);
  let trades: Trade[] = [];
  const lines: number[] = [];
  await readCsvLines(path, 'trades', {
    header: (line) => parser.header(line),
    row: (line, lineNo) => {
      trades.push(parser.row(line, lineNo));
      lines.push(lineNo);
    },
    ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
  });
  if (options.symbol !== undefined && parser.columnSymbols.size > 1) {
    throw new UsageError(
      `${path} holds trades of ${parser.columnSymbols.size} symbols (${describeSymbols(parser.columnSymbols)}): ` +
        `--symbol ${options.symbol} would label them all ${options.symbol} and merge them; ` +
        'leave --symbol out to keep each symbol apart',
    );
  }

  const deduped = dropDuplicates(trades, lines);
  trades = deduped.trades;
  let reordered = false;
  for (let i = 1; i < trades.length; i++) {
    if (compareTrades(trades[i - 1] as Trade, trades[i] as Trade) > 0) {
      reordered = true;
      trades.sort(compareTrades); // stable: equal keys keep file order
      break;
    }
  }
  const symbols = [...new Set(trades.map((t) => t.symbol))];
  return {
    trades,
    symbols,
    priceDecimals: parser.priceDecimals,
    sizeDecimals: parser.sizeDecimals,
    timeUnit: parser.timeUnit,
    reordered,
    duplicates: deduped.duplicates,
  };
}

/** `BTC-USDT from line 2, ETH-USDT from line 3` (the first ten). */
export function describeSymbols(firstLines: ReadonlyMap<string, number>): string {
  const all = [...firstLines].map(([symbol, line]) => `${symbol || '(empty)'} from line ${line}`);
  return all.length > 10 ? `${all.slice(0, 10).join(', ')}, …` : all.join(', ');
}

/** One line for people, or undefined when nothing was dropped. */
export function describeDuplicates(d: DuplicateTrades): string | undefined {
  if (d.count === 0 || d.first === undefined) return undefined;
  const f = d.first;
  const differing =
    d.differing > 0
      ? `; ${d.count === 1 ? 'it differs' : `${d.differing} of them differ${d.differing === 1 ? 's' : ''}`} from the row repeated (time, price, size or side): the earlier row was kept`
      : '';
  return (
    `dropped ${d.count} duplicate trade${d.count === 1 ? '' : 's'} (same symbol and trade id as an earlier row; ` +
    `first: line ${f.line} repeats trade ${f.tradeId} of ${f.symbol} from line ${f.firstLine})${differing}`
  );
}

/**
 * Drops rows whose symbol and trade id an earlier row already had. Exchange ids only grow (or, in a
 * newest-first export, only shrink) per symbol, which proves there is no repeat without remembering every
 * id; only a file where they do not is checked with a map of all ids.
 */
function dropDuplicates(
  trades: Trade[],
  lines: readonly number[],
): { trades: Trade[]; duplicates: DuplicateTrades } {
  const none = { trades, duplicates: { count: 0, differing: 0 } };
  const last = new Map<string, { id: string; direction: number }>();
  let monotonic = true;
  for (const t of trades) {
    const prev = last.get(t.symbol);
    if (prev === undefined) {
      last.set(t.symbol, { id: t.tradeId, direction: 0 });
      continue;
    }
    const step = Math.sign(compareTradeIds(t.tradeId, prev.id));
    if (step === 0 || (prev.direction !== 0 && step !== prev.direction)) {
      monotonic = false;
      break;
    }
    prev.id = t.tradeId;
    prev.direction = step;
  }
  if (monotonic) return none;

  const seen = new Map<string, number>();
  const kept: Trade[] = [];
  let count = 0;
  let differing = 0;
  let first: DuplicateTrades['first'];
  for (let i = 0; i < trades.length; i++) {
    const t = trades[i] as Trade;
    const key = `${t.symbol}\u0000${t.tradeId}`;
    const at = seen.get(key);
    if (at === undefined) {
      seen.set(key, i);
      kept.push(t);
      continue;
    }
    count += 1;
    const original = trades[at] as Trade;
    if (
      original.tsMs !== t.tsMs ||
      original.price !== t.price ||
      original.size !== t.size ||
      original.side !== t.side
    ) {
      differing += 1;
    }
    first ??= {
      symbol: t.symbol,
      tradeId: t.tradeId,
      line: lines[i] as number,
      firstLine: lines[at] as number,
    };
  }
  if (count === 0) return none;
  return { trades: kept, duplicates: { count, differing, ...(first !== undefined ? { first } : {}) } };
}

/**
 * Guesses an OKX-style symbol from a file name such as `binance_spot_BTCUSDT_trades_….csv` → `BTC-USDT`,
 * `trades_xrpeth.csv` → `XRP-ETH` or `BTC_USDT-1m.csv` → `BTC-USDT`; undefined when nothing looks like a pair.
 */
export function symbolFromFileName(path: string): string | undefined {
  const name = basename(path).replace(/\.[^.]*$/, '');
  const quotes = 'USDT|USDC|FDUSD|BUSD|TUSD|DAI|USD|EUR|BTC|ETH|BNB';
  const pair =
    new RegExp(`(?:^|[_.\\s-])([a-z0-9]{2,10}?)[-/]?(${quotes})(?=$|[_.\\s-])`, 'i').exec(name) ??
    // `BTC_USDT-1m` (freqtrade's names): an underscore between the two only in capitals, so that words
    // such as `candles_btc` are not taken for a pair.
    new RegExp(`(?:^|[_.\\s-])([A-Z0-9]{2,10})_(${quotes})(?=$|[_.\\s-])`).exec(name);
  if (pair === null) return undefined;
  return `${(pair[1] as string).toUpperCase()}-${(pair[2] as string).toUpperCase()}`;
}

/** Splits one CSV line, honouring double quotes ("a,b" and "" escapes). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}
