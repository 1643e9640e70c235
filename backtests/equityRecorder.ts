import { MetricsAccumulator } from '../src/domain/metrics.js';

/**
 * A backtest's equity curve and its metrics, built one decision candle at a time, one candle behind: the
 * point of a candle is recorded when the next one is decided (`next`), and the last one at the end
 * (`flush`, after the closing fill). Columns sized once (one point per decision candle at most: growing
 * them cost an optimizer a tenth of its time), and the pending point held in fields, which V8 updates in
 * place: the per-candle path allocates nothing.
 */
export class EquityRecorder {
  readonly metrics: MetricsAccumulator;
  /** Points recorded so far. */
  n = 0;
  /** The pending point (NaN time: none yet). */
  lastT = Number.NaN;
  lastEquity = Number.NaN;
  lastInMarket = false;
  lastPrice = Number.NaN;
  private times: Float64Array<ArrayBuffer>;
  private equity: Float64Array<ArrayBuffer>;
  private prices: Float64Array<ArrayBuffer> | undefined;
  private inMarket: Uint8Array<ArrayBuffer> | undefined;
  private readonly keep: boolean;

  /** `keep` false: the metrics only, no curve (its columns stay empty; an optimizer needs no curve). */
  constructor(initialCash: number, periodMs: number, room: number, series: boolean, keep = true) {
    this.metrics = new MetricsAccumulator(initialCash, periodMs);
    this.keep = keep;
    if (!keep) room = 0;
    this.times = new Float64Array(room);
    this.equity = new Float64Array(room);
    this.prices = series ? new Float64Array(room) : undefined;
    this.inMarket = series ? new Uint8Array(room) : undefined;
  }

  /** A decision candle: records the pending point, and holds this one. */
  next(t: number, equity: number, inMarket: boolean, price: number): void {
    if (!Number.isNaN(this.lastT)) this.flush();
    this.lastT = t;
    this.lastEquity = equity;
    this.lastInMarket = inMarket;
    this.lastPrice = price;
  }

  /**
   * `next` for points `from` … `to` − 1 of columns at once (`inMarket` 1: a position open): the same
   * points and metrics, the metrics updated in one loop (MetricsAccumulator.onCandles).
   */
  nextMany(
    times: Float64Array,
    equity: Float64Array,
    inMarket: Uint8Array,
    prices: Float64Array,
    from: number,
    to: number,
  ): void {
    if (to <= from) return;
    if (!Number.isNaN(this.lastT)) this.flush();
    const last = to - 1;
    if (last > from) {
      this.metrics.onCandles(times, equity, inMarket, prices, from, last);
      const n = this.n;
      const count = last - from;
      if (this.keep) {
        this.reserve(n + count);
        this.times.set(times.subarray(from, last), n);
        this.equity.set(equity.subarray(from, last), n);
        if (this.prices !== undefined && this.inMarket !== undefined) {
          this.prices.set(prices.subarray(from, last), n);
          this.inMarket.set(inMarket.subarray(from, last), n);
        }
      }
      this.n = n + count;
    }
    this.lastT = times[last] as number;
    this.lastEquity = equity[last] as number;
    this.lastInMarket = inMarket[last] === 1;
    this.lastPrice = prices[last] as number;
  }

  /** Records the pending point (the last one, at the end). */
  flush(): void {
    const n = this.n;
    this.metrics.onCandle(this.lastT, this.lastEquity, this.lastInMarket, this.lastPrice);
    if (!this.keep) {
      this.n = n + 1;
      return;
    }
    this.reserve(n + 1);
    this.times[n] = this.lastT;
    this.equity[n] = this.lastEquity;
    const prices = this.prices;
    const inMarket = this.inMarket;
    if (prices !== undefined && inMarket !== undefined) {
      prices[n] = this.lastPrice;
      inMarket[n] = this.lastInMarket ? 1 : 0;
    }
    this.n = n + 1;
  }

  /** Room for `size` points in the kept columns. */
  private reserve(size: number): void {
    if (size <= this.times.length) return;
    const length = Math.max(size, this.times.length * 2);
    this.times = grow(this.times, length);
    this.equity = grow(this.equity, length);
    if (this.prices !== undefined) this.prices = grow(this.prices, length);
    if (this.inMarket !== undefined) this.inMarket = growBytes(this.inMarket, length);
  }

  /** The curve recorded, as columns (views on the same memory). */
  columns(): {
    readonly times: Float64Array<ArrayBuffer>;
    readonly equity: Float64Array<ArrayBuffer>;
    readonly series?: {
      readonly prices: Float64Array<ArrayBuffer>;
      readonly inMarket: Uint8Array<ArrayBuffer>;
    };
  } {
    const n = this.keep ? this.n : 0;
    const prices = this.prices;
    const inMarket = this.inMarket;
    return {
      times: this.times.subarray(0, n),
      equity: this.equity.subarray(0, n),
      ...(prices !== undefined && inMarket !== undefined
        ? { series: { prices: prices.subarray(0, n), inMarket: inMarket.subarray(0, n) } }
        : {}),
    };
  }
}

function grow(a: Float64Array, length: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(length);
  b.set(a);
  return b;
}

function growBytes(a: Uint8Array, length: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(length);
  b.set(a);
  return b;
}
