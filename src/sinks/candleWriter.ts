import type { Candle } from '../domain/candle.js';
import { plainDecimal } from '../domain/decimals.js';

export type CandleFormat = 'csv' | 'json';

export const CANDLE_COLUMNS = [
  'symbol',
  'timeframe',
  'close_time_ms',
  'close_time',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'trades_count',
] as const;

/** Decimal places to print: the most the input had, so sums print as the exchange would (no 0.30000000000000004). */
export interface Precision {
  readonly price: number;
  readonly volume: number;
}

/** Writes candles to a text stream as CSV (with a header) or as one JSON array, in arrival order. */
export class CandleWriter {
  private buffer: string[] = [];
  private size = 0;
  private count = 0;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly format: CandleFormat,
    /** Decimals to print; without it each number prints exactly (candle volumes carry no float drift). */
    private readonly precision?: Precision,
  ) {
    this.push(format === 'csv' ? `${CANDLE_COLUMNS.join(',')}\n` : '[');
  }

  get written(): number {
    return this.count;
  }

  write(c: Candle): void {
    const p = this.precision;
    const price = p === undefined ? plainDecimal : (x: number) => fixed(x, p.price);
    const open = price(c.open);
    const high = price(c.high);
    const low = price(c.low);
    const close = price(c.close);
    const volume = p === undefined ? plainDecimal(c.volume) : fixed(c.volume, p.volume);
    const closeTime = new Date(c.closeTimeMs).toISOString();
    if (this.format === 'csv') {
      this.push(
        `${csvField(c.symbol)},${c.timeframe},${c.closeTimeMs},${closeTime},${open},${high},${low},${close},${volume},${c.tradesCount}\n`,
      );
    } else {
      const symbol = JSON.stringify(c.symbol);
      this.push(
        `${this.count === 0 ? '\n' : ',\n'}{"symbol":${symbol},"timeframe":"${c.timeframe}","close_time_ms":${c.closeTimeMs},"close_time":"${closeTime}","open":${open},"high":${high},"low":${low},"close":${close},"volume":${volume},"trades_count":${c.tradesCount}}`,
      );
    }
    this.count += 1;
  }

  /** Hands what is buffered to the stream now (live output: each candle as it closes). */
  flush(): void {
    if (this.size > 0) this.out.write(this.take());
  }

  /** Writes what is buffered and the closing bracket (JSON); resolves once the stream has taken it. */
  async end(): Promise<void> {
    if (this.format === 'json') this.buffer.push(this.count === 0 ? ']\n' : '\n]\n');
    const text = this.take();
    await new Promise<void>((resolve, reject) => {
      this.out.write(text, (err) => (err ? reject(err) : resolve()));
    });
  }

  private push(text: string): void {
    this.buffer.push(text);
    this.size += text.length;
    // Stream errors (EPIPE…) surface as the stream's 'error' event, which the caller owns.
    if (this.size >= 1 << 16) this.out.write(this.take());
  }

  private take(): string {
    const text = this.buffer.join('');
    this.buffer = [];
    this.size = 0;
    return text;
  }
}

/** `x` with at most `decimals` places, trailing zeros dropped, never in exponent notation. */
export function fixed(x: number, decimals: number): string {
  const s = x.toFixed(decimals);
  if (!s.includes('.')) return s;
  const trimmed = s.replace(/\.?0+$/, '');
  return trimmed === '-0' ? '0' : trimmed;
}

function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
