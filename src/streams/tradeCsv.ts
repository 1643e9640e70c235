import { basename } from 'node:path';
import { InvalidDataError } from '../domain/errors.js';
import { compareTrades, type Trade, type TradeSide } from '../domain/trade.js';
import { decimalsOf, readCsvLines } from './csvFile.js';

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

export type TimeUnit = 's' | 'ms' | 'us' | 'ns' | 'iso';

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
}

export interface TradeCsvOptions {
  /** Symbol for every row; overrides a symbol column. */
  readonly symbol?: string;
  /** Symbol when there is neither `symbol` nor a symbol column. */
  readonly defaultSymbol?: string;
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
    const symbol =
      this.options.symbol ??
      (ix.symbol !== undefined ? (f[ix.symbol] as string).trim() : undefined) ??
      this.options.defaultSymbol ??
      '';
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
      const v = Number(text);
      const unit: TimeUnit = v >= 1e17 ? 'ns' : v >= 1e14 ? 'us' : v >= 1e11 ? 'ms' : 's';
      if (this.unit === undefined) this.unit = unit;
      else if (unit !== this.unit) {
        this.fail(lineNo, `time "${text}" looks like epoch ${unit} but earlier rows are epoch ${this.unit}`);
      }
      ms =
        unit === 's' ? secondsToMs(text) : Math.floor(unit === 'ns' ? v / 1e6 : unit === 'us' ? v / 1e3 : v);
    } else {
      const hasZone = /(?:Z|[+-]\d\d:?\d\d)$/i.test(text);
      ms = Date.parse(hasZone ? text : `${text.replace(' ', 'T')}Z`);
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

/** Reads a whole trade CSV file into memory (about 120 bytes a trade), in time order. */
export async function readTradeCsv(path: string, options: TradeCsvOptions = {}): Promise<TradeFile> {
  const parser = new TradeCsvParser(path, options);
  const trades: Trade[] = [];
  await readCsvLines(path, 'trades', {
    header: (line) => parser.header(line),
    row: (line, lineNo) => trades.push(parser.row(line, lineNo)),
    ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
  });

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
  };
}

/**
 * Guesses an OKX-style symbol from a file name such as `binance_spot_BTCUSDT_trades_….csv` → `BTC-USDT`
 * or `trades_xrpeth.csv` → `XRP-ETH`; undefined when nothing looks like a pair.
 */
export function symbolFromFileName(path: string): string | undefined {
  const name = basename(path).replace(/\.[^.]*$/, '');
  const quotes = 'USDT|USDC|FDUSD|BUSD|TUSD|DAI|USD|EUR|BTC|ETH|BNB';
  const pair = new RegExp(`(?:^|[_.\\s-])([a-z0-9]{2,10}?)[-/]?(${quotes})(?=$|[_.\\s-])`, 'i').exec(name);
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

/** Exact for decimal seconds: `1723161255.342` × 1000 in floating point is 1723161255341.9998. */
function secondsToMs(text: string): number {
  if (/[eE]/.test(text)) return Math.floor(Number(text) * 1e3);
  const [whole, fraction = ''] = text.split('.');
  return Number(whole) * 1000 + Number(fraction.padEnd(3, '0').slice(0, 3));
}
