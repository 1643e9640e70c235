/**
 * Performance metrics of a trading run, one module for backtests and live bots alike.
 *
 * `MetricsAccumulator` takes one equity value per candle and one record per closed round trip, in O(1)
 * time and memory each (no series kept), so a backtest loop and a live bot update it the same way;
 * `computeMetrics` runs it over arrays. Undefined values (a ratio over zero, too few periods) are NaN —
 * print them as "n/a" / JSON null.
 *
 * Definitions (returns are fractions: 0.05 = 5 %):
 * - Per-candle returns `r_i = E_i / E_{i−1} − 1`, i = 1..n, with `E_0` the initial equity and `E_i` the
 *   equity after candle i. `P = periodsPerYear = 365 days / candle length` (crypto trades every day).
 * - totalReturn = E_n / E_0 − 1. CAGR = (E_n / E_0)^(1 / years) − 1, years = (end − start) / 365 days, from
 *   the first candle's open time to the last candle's close time.
 * - Sharpe = mean(r) / std(r) × √P, std the sample standard deviation (ddof = 1), risk-free rate 0.
 * - Sortino = mean(r) / DD × √P, DD = √(Σ min(r_i, 0)² / n) (downside deviation over all n periods, target 0).
 * - maxDrawdown = max over i of (peak_i − E_i) / peak_i, peak_i = max(E_0..E_i). maxDrawdownDurationMs: the
 *   longest time spent below a previous peak, from that peak's time (E_0's: the start) to the first time
 *   equity is back at or above it (or the last candle). Calmar = CAGR / maxDrawdown.
 * - Per round trip (a partial exit is a trip of its own), pnl net of fees: winRate = share with pnl > 0;
 *   profitFactor = Σ pnl>0 / |Σ pnl<0| (∞ with no loss); expectancy = mean pnl (quote currency);
 *   SQN = √N × mean(pnl) / std(pnl) (ddof = 1); average / best / worst trade both in pnl and in return
 *   (pnl / entry value).
 * - exposure = share of candles after which a position was open. buyAndHoldReturn = last close / first
 *   close − 1 (the first candle's close: the first price a decision can be made on).
 */

export const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

export interface Metrics {
  readonly startTimeMs: number;
  readonly endTimeMs: number;
  readonly candles: number;
  readonly periodsPerYear: number;
  readonly initialEquity: number;
  readonly finalEquity: number;
  readonly totalReturn: number;
  readonly cagr: number;
  readonly sharpe: number;
  readonly sortino: number;
  readonly calmar: number;
  readonly maxDrawdown: number;
  readonly maxDrawdownDurationMs: number;
  readonly trades: number;
  readonly winRate: number;
  readonly profitFactor: number;
  readonly expectancy: number;
  readonly sqn: number;
  readonly avgTradePnl: number;
  readonly bestTradePnl: number;
  readonly worstTradePnl: number;
  readonly avgTradeReturn: number;
  readonly bestTradeReturn: number;
  readonly worstTradeReturn: number;
  readonly exposure: number;
  readonly feesPaid: number;
  readonly buyAndHoldReturn: number;
}

/** What metrics need of a closed round trip (RoundTrip has it). */
export interface TradeResult {
  readonly pnl: number;
  readonly returnPct: number;
}

/** Rows between onCandles' write-backs of its state (see there). */
const METRICS_BLOCK = 256;

export class MetricsAccumulator {
  private n = 0;
  private startTimeMs = Number.NaN;
  private endTimeMs = Number.NaN;
  private prevEquity: number;
  private mean = 0;
  private m2 = 0;
  private downSq = 0;
  private peak: number;
  private peakTimeMs = Number.NaN;
  private maxDd = 0;
  private maxDdDurationMs = 0;
  private underwater = false;
  private inMarket = 0;
  private firstPrice = Number.NaN;
  private lastPrice = Number.NaN;
  private fees = 0;
  // trades
  private t = 0;
  private wins = 0;
  private grossWin = 0;
  private grossLoss = 0;
  private pnlMean = 0;
  private pnlM2 = 0;
  private bestPnl = Number.NaN;
  private worstPnl = Number.NaN;
  private sumRet = 0;
  private bestRet = Number.NaN;
  private worstRet = Number.NaN;
  /** onCandle's one candle as columns. */
  private one:
    { times: Float64Array; equity: Float64Array; inMarket: Uint8Array; prices: Float64Array } | undefined;

  constructor(
    readonly initialEquity: number,
    /** Candle length in ms (annualization and the start time). */
    readonly periodMs: number,
  ) {
    this.prevEquity = initialEquity;
    this.peak = initialEquity;
  }

  /** After each candle: its close time, the equity then, whether a position is open, and its close. */
  onCandle(timeMs: number, equity: number, inMarket: boolean, price: number): void {
    // Typed arrays like a backtest's columns: onCandles' loads then see one kind of array.
    const one = (this.one ??= {
      times: new Float64Array(1),
      equity: new Float64Array(1),
      inMarket: new Uint8Array(1),
      prices: new Float64Array(1),
    });
    one.times[0] = timeMs;
    one.equity[0] = equity;
    one.inMarket[0] = inMarket ? 1 : 0;
    one.prices[0] = price;
    this.onCandles(one.times, one.equity, one.inMarket, one.prices, 0, 1);
  }

  /**
   * onCandle for candles `from` … `to` − 1 of columns (`inMarket` 1: a position open), in order. The one
   * implementation of both: a backtest's candles cost no object field write and no boxed number each (~a
   * third of a parameter search's garbage, measured), the state being read into locals, updated in a loop
   * and written back once per block of rows (block()).
   *
   * Why blocks, each a call: V8 compiles a function the way its first calls ran. One call looping over a
   * whole backtest was compiled while it ran (on-stack replacement), before the code after its loop had run,
   * then again for its next call, whose first lines had run only once, before V8 kept any type feedback for
   * it (it allocates that lazily): deoptimized, compiled a third time. Blocks of METRICS_BLOCK rows, each a
   * call of its own, are compiled as a plain function. --trace-opt, the issue's grid, 5 runs: V8's compiler
   * spent 31–61 ms on these rows in one thread, 4–22 ms now (two threads: 69–116 → 12–31 ms).
   */
  onCandles(
    times: Float64Array,
    equities: Float64Array,
    inMarkets: Uint8Array,
    prices: Float64Array,
    from: number,
    to: number,
  ): void {
    if (to <= from) return;
    if (this.n === 0) this.start((times[from] as number) - this.periodMs, prices[from] as number);
    for (let i = from; i < to; i += METRICS_BLOCK) {
      this.block(times, equities, inMarkets, prices, i, Math.min(to, i + METRICS_BLOCK));
    }
  }

  private start(startTimeMs: number, firstPrice: number): void {
    this.startTimeMs = startTimeMs;
    this.peakTimeMs = startTimeMs;
    this.firstPrice = firstPrice;
  }

  /** onCandles' rows `from` … `to` − 1 (at least one). */
  private block(
    times: Float64Array,
    equities: Float64Array,
    inMarkets: Uint8Array,
    prices: Float64Array,
    from: number,
    to: number,
  ): void {
    let n = this.n;
    let prevEquity = this.prevEquity;
    let mean = this.mean;
    let m2 = this.m2;
    let downSq = this.downSq;
    let peak = this.peak;
    let peakTimeMs = this.peakTimeMs;
    let maxDd = this.maxDd;
    let maxDdDurationMs = this.maxDdDurationMs;
    let underwater = this.underwater;
    let inMarket = this.inMarket;
    for (let i = from; i < to; i++) {
      const timeMs = times[i] as number;
      const equity = equities[i] as number;
      const r = equity / prevEquity - 1;
      prevEquity = equity;
      n++;
      const delta = r - mean;
      mean += delta / n;
      m2 += delta * (r - mean);
      if (r < 0) downSq += r * r;
      if (equity >= peak) {
        // Back at the peak: the drawdown lasted from the peak's time until now.
        if (underwater && timeMs - peakTimeMs > maxDdDurationMs) maxDdDurationMs = timeMs - peakTimeMs;
        underwater = false;
        peak = equity;
        peakTimeMs = timeMs;
      } else {
        underwater = true;
        const dd = (peak - equity) / peak;
        if (dd > maxDd) maxDd = dd;
      }
      if (inMarkets[i] === 1) inMarket++;
    }
    this.n = n;
    this.prevEquity = prevEquity;
    this.mean = mean;
    this.m2 = m2;
    this.downSq = downSq;
    this.peak = peak;
    this.peakTimeMs = peakTimeMs;
    this.maxDd = maxDd;
    this.maxDdDurationMs = maxDdDurationMs;
    this.underwater = underwater;
    this.inMarket = inMarket;
    this.lastPrice = prices[to - 1] as number;
    this.endTimeMs = times[to - 1] as number;
  }

  onTrade(trade: TradeResult): void {
    const pnl = trade.pnl;
    const t = ++this.t;
    if (pnl > 0) {
      this.wins++;
      this.grossWin += pnl;
    } else if (pnl < 0) {
      this.grossLoss -= pnl;
    }
    const delta = pnl - this.pnlMean;
    this.pnlMean += delta / t;
    this.pnlM2 += delta * (pnl - this.pnlMean);
    if (t === 1 || pnl > this.bestPnl) this.bestPnl = pnl;
    if (t === 1 || pnl < this.worstPnl) this.worstPnl = pnl;
    const ret = trade.returnPct;
    this.sumRet += ret;
    if (t === 1 || ret > this.bestRet) this.bestRet = ret;
    if (t === 1 || ret < this.worstRet) this.worstRet = ret;
  }

  /** Fees paid (every fill's, open positions' entries included). */
  onFee(amount: number): void {
    this.fees += amount;
  }

  result(): Metrics {
    const n = this.n;
    const P = YEAR_MS / this.periodMs;
    const finalEquity = n === 0 ? this.initialEquity : this.prevEquity;
    const growth = finalEquity / this.initialEquity;
    const years = (this.endTimeMs - this.startTimeMs) / YEAR_MS;
    const cagr = n > 0 && years > 0 ? (growth > 0 ? growth ** (1 / years) - 1 : -1) : Number.NaN;
    const std = n > 1 ? Math.sqrt(this.m2 / (n - 1)) : Number.NaN;
    const dd = n > 0 ? Math.sqrt(this.downSq / n) : Number.NaN;
    const t = this.t;
    const pnlStd = t > 1 ? Math.sqrt(this.pnlM2 / (t - 1)) : Number.NaN;
    return {
      startTimeMs: this.startTimeMs,
      endTimeMs: this.endTimeMs,
      candles: n,
      periodsPerYear: P,
      initialEquity: this.initialEquity,
      finalEquity,
      totalReturn: growth - 1,
      cagr,
      sharpe: ratio(this.mean, std) * Math.sqrt(P),
      sortino: ratio(this.mean, dd) * Math.sqrt(P),
      calmar: ratio(cagr, this.maxDd),
      maxDrawdown: this.maxDd,
      // A drawdown still open at the end lasts until the last candle.
      maxDrawdownDurationMs: this.underwater
        ? Math.max(this.maxDdDurationMs, this.endTimeMs - this.peakTimeMs)
        : this.maxDdDurationMs,
      trades: t,
      winRate: t > 0 ? this.wins / t : Number.NaN,
      profitFactor:
        this.grossLoss > 0
          ? this.grossWin / this.grossLoss
          : this.grossWin > 0
            ? Number.POSITIVE_INFINITY
            : Number.NaN,
      expectancy: t > 0 ? this.pnlMean : Number.NaN,
      sqn: ratio(this.pnlMean, pnlStd) * Math.sqrt(t),
      avgTradePnl: t > 0 ? this.pnlMean : Number.NaN,
      bestTradePnl: this.bestPnl,
      worstTradePnl: this.worstPnl,
      avgTradeReturn: t > 0 ? this.sumRet / t : Number.NaN,
      bestTradeReturn: this.bestRet,
      worstTradeReturn: this.worstRet,
      exposure: n > 0 ? this.inMarket / n : Number.NaN,
      feesPaid: this.fees,
      buyAndHoldReturn: this.lastPrice / this.firstPrice - 1,
    };
  }
}

export interface MetricsSeries {
  readonly initialEquity: number;
  readonly periodMs: number;
  /** Close time of each candle. */
  readonly timesMs: ArrayLike<number>;
  /** Equity after each candle. */
  readonly equity: ArrayLike<number>;
  /** Close of each candle (buy and hold). */
  readonly prices: ArrayLike<number>;
  /** Whether a position was open after each candle (default: never). */
  readonly inMarket?: ArrayLike<boolean>;
  readonly trades: readonly TradeResult[];
  readonly feesPaid?: number;
}

/** The metrics of a whole series (see the module comment for the definitions). */
export function computeMetrics(s: MetricsSeries): Metrics {
  const acc = new MetricsAccumulator(s.initialEquity, s.periodMs);
  for (let i = 0; i < s.equity.length; i++) {
    acc.onCandle(
      s.timesMs[i] as number,
      s.equity[i] as number,
      s.inMarket?.[i] ?? false,
      s.prices[i] as number,
    );
  }
  for (const t of s.trades) acc.onTrade(t);
  acc.onFee(s.feesPaid ?? 0);
  return acc.result();
}

function ratio(a: number, b: number): number {
  return b > 0 ? a / b : Number.NaN;
}
