/**
 * A backtest's equity curve as columns: time and equity per point and, with `series`, the close and
 * whether a position was open. Sized once (one point per decision candle at most, grown if ever needed):
 * growing them cost an optimizer a tenth of its time.
 */
export class EquityCurve {
  private times: Float64Array<ArrayBuffer>;
  private equity: Float64Array<ArrayBuffer>;
  private prices: Float64Array<ArrayBuffer> | undefined;
  private inMarket: Uint8Array<ArrayBuffer> | undefined;
  private n = 0;

  constructor(room: number, series: boolean) {
    this.times = new Float64Array(room);
    this.equity = new Float64Array(room);
    this.prices = series ? new Float64Array(room) : undefined;
    this.inMarket = series ? new Uint8Array(room) : undefined;
  }

  get length(): number {
    return this.n;
  }

  push(timeMs: number, equity: number, price: number, inMarket: boolean): void {
    const n = this.n;
    if (n === this.times.length) {
      this.times = grow(this.times);
      this.equity = grow(this.equity);
    }
    this.times[n] = timeMs;
    this.equity[n] = equity;
    if (this.prices !== undefined && this.inMarket !== undefined) {
      if (n === this.prices.length) {
        this.prices = grow(this.prices);
        this.inMarket = growBytes(this.inMarket);
      }
      this.prices[n] = price;
      this.inMarket[n] = inMarket ? 1 : 0;
    }
    this.n = n + 1;
  }

  /** The points so far (views, not copies). */
  columns(): {
    readonly timesMs: Float64Array;
    readonly equity: Float64Array;
    readonly series?: { readonly prices: Float64Array; readonly inMarket: Uint8Array };
  } {
    const n = this.n;
    return {
      timesMs: this.times.subarray(0, n),
      equity: this.equity.subarray(0, n),
      ...(this.prices !== undefined && this.inMarket !== undefined
        ? { series: { prices: this.prices.subarray(0, n), inMarket: this.inMarket.subarray(0, n) } }
        : {}),
    };
  }
}

function growBytes(a: Uint8Array): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(a.length * 2);
  b.set(a);
  return b;
}

function grow(a: Float64Array): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
