import type { Candle } from '../../src/domain/candle.js';
import { runCli } from '../support/cli.js';
import { APRIL_DAYS, backtest, BTC_MONTH, fixtureCandles, MAY_SLICE } from './support.js';

/**
 * Golden backtests on real BTC/USDT 1m candles, checked trade for trade against an independent reference:
 * a plain loop under the rules of Python's backtesting.py with `trade_on_close=False`, `commission=0.001`
 * and long-only exclusive orders — EMAs seeded with the SMA of their first `period` closes (TA-Lib), a
 * crossing when previous fast < previous slow and fast > slow (strict; the opposite for a sell), orders
 * filled at the NEXT candle's open, a fee of `commission × notional` on each fill, a fixed quantity, and a
 * position still open at the end closed at the last close.
 */

interface RefTrade {
  entry_time_ms: number;
  exit_time_ms: number;
  entry_price: number;
  exit_price: number;
  qty: number;
  pnl: number;
  fees: number;
}

/** TA-Lib EMA: NaN for the first period − 1 values, then SMA-seeded, then (x − ema)·k + ema. */
function talibEma(xs: readonly number[], period: number): number[] {
  const out = xs.map(() => Number.NaN);
  if (xs.length < period) return out;
  let sum = 0;
  for (let i = 0; i < period; i++) sum += xs[i] as number;
  let ema = sum / period;
  out[period - 1] = ema;
  const k = 2 / (period + 1);
  for (let i = period; i < xs.length; i++) {
    ema = ((xs[i] as number) - ema) * k + ema;
    out[i] = ema;
  }
  return out;
}

function reference(
  candles: readonly Candle[],
  fast: number,
  slow: number,
  qty: number,
  commission: number,
  cash0: number,
): { trades: RefTrade[]; finalEquity: number; buys: number[]; sells: number[] } {
  const close = candles.map((c) => c.close);
  const f = talibEma(close, fast);
  const s = talibEma(close, slow);
  let cash = cash0;
  let held = 0;
  let entryPrice = 0;
  let entryTime = 0;
  let entryFee = 0;
  let order: 'buy' | 'sell' | undefined;
  const trades: RefTrade[] = [];
  const buys: number[] = [];
  const sells: number[] = [];
  const exit = (price: number, time: number): void => {
    const exitFee = held * price * commission;
    cash += held * price - exitFee;
    trades.push({
      entry_time_ms: entryTime,
      exit_time_ms: time,
      entry_price: entryPrice,
      exit_price: price,
      qty: held,
      pnl: (price - entryPrice) * held - entryFee - exitFee,
      fees: entryFee + exitFee,
    });
    held = 0;
  };
  for (let i = 0; i < candles.length; i++) {
    const c = candles[i] as Candle;
    const openTime = c.closeTimeMs - 60_000;
    // Orders from the previous candle fill at this candle's open.
    if (order === 'buy' && held === 0) {
      entryPrice = c.open;
      entryTime = openTime;
      entryFee = qty * c.open * commission;
      cash -= qty * c.open + entryFee;
      held = qty;
    } else if (order === 'sell' && held > 0) {
      exit(c.open, openTime);
    }
    order = undefined;
    // Decide at this candle's close.
    if (i === 0) continue;
    const [pf, ps, cf, cs] = [f[i - 1], s[i - 1], f[i], s[i]] as number[];
    if ([pf, ps, cf, cs].some((v) => Number.isNaN(v))) continue;
    if ((pf as number) < (ps as number) && (cf as number) > (cs as number)) {
      buys.push(c.closeTimeMs);
      if (held === 0) order = 'buy';
    } else if ((pf as number) > (ps as number) && (cf as number) < (cs as number)) {
      sells.push(c.closeTimeMs);
      if (held > 0) order = 'sell';
    }
  }
  const last = candles[candles.length - 1] as Candle;
  if (held > 0) exit(last.close, last.closeTimeMs);
  return { trades, finalEquity: cash, buys, sells };
}

const QTY = 0.1;
const CASH = 10_000;

// The strategy also waits for its ATR (confidence scale) to warm up: keep atr_period ≤ slow_period − 1.
// Fixed quantity per case: small enough that cash never runs short (the reference does not check cash; the
// engine, like backtesting.py, refuses an order it cannot pay).
const cases: [string, string, number, number, number, number?][] = [
  ['2021-05-18 slice, 12/26', MAY_SLICE, 12, 26, 14],
  ['2021-05-18 slice, 5/20', MAY_SLICE, 5, 20, 14],
  ['2021-05-18 slice, 3/8 (flat at the end)', MAY_SLICE, 3, 8, 7],
  ['2021-04-24/25 with a real gap, 12/26', APRIL_DAYS, 12, 26, 14],
  ['2021-04-24/25 with a real gap, 9/21', APRIL_DAYS, 9, 21, 14],
  ['the whole month 2021-04-20 → 05-20 (42,915 candles), 12/26', BTC_MONTH, 12, 26, 14, 0.01],
];

describe.each(cases)('golden ema_crossover backtest: %s', (_name, path, fast, slow, atr, qty = QTY) => {
  it('gives the reference trades exactly and its final equity within 1e-9', async () => {
    const candles = await fixtureCandles(path);
    const want = reference(candles, fast, slow, qty, 0.001, CASH);
    const signals: { t: number; action: string }[] = [];
    const got = backtest(
      { candles },
      { name: 'ema_crossover', params: { fast_period: fast, slow_period: slow, atr_period: atr } },
      { sizing: { type: 'fixed', quantity: qty } },
      { onSignal: (s) => s.action !== 'hold' && signals.push({ t: s.closeTimeMs, action: s.action }) },
    );
    expect(want.trades.length).toBeGreaterThan(10);
    expect(signals.filter((s) => s.action === 'buy').map((s) => s.t)).toEqual(want.buys);
    expect(signals.filter((s) => s.action === 'sell').map((s) => s.t)).toEqual(want.sells);
    const exact = (t: RefTrade) => [t.entry_time_ms, t.exit_time_ms, t.entry_price, t.exit_price, t.qty];
    expect(got.trades.map(exact)).toEqual(want.trades.map(exact));
    got.trades.forEach((t, i) => {
      const w = want.trades[i] as RefTrade;
      expect(Math.abs(t.pnl - w.pnl)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(w.pnl)));
      expect(Math.abs(t.fees - w.fees)).toBeLessThanOrEqual(1e-12 * Math.max(1, w.fees));
    });
    expect(Math.abs(got.metrics.finalEquity / want.finalEquity - 1)).toBeLessThanOrEqual(1e-9);
    const curve = got.equity_curve;
    expect(curve.length).toBe(candles.length);
    expect(curve[curve.length - 1]?.[1]).toBe(got.metrics.finalEquity);
    // Σ net P&L = equity change (flat at the end).
    const sum = got.trades.reduce((a, t) => a + t.pnl, 0);
    expect(sum).toBeCloseTo(got.metrics.finalEquity - CASH, 6);
    expect(got.metrics.trades).toBe(want.trades.length);
    // A position open at the end is closed at the last close, and the result says so.
    const last = candles[candles.length - 1] as Candle;
    const closedAtEnd = want.trades[want.trades.length - 1]?.exit_time_ms === last.closeTimeMs;
    expect(got.closedAtEnd).toEqual(closedAtEnd ? got.trades[got.trades.length - 1] : undefined);
    expect(got.warnings.some((w) => w.includes('closed at the last close'))).toBe(closedAtEnd);
    if (path === APRIL_DAYS) expect(got.gaps).toEqual([expect.objectContaining({ missing: 284 })]);
    if (path === BTC_MONTH) expect(candles).toHaveLength(42_915);
  });

  it('rxtrade backtest --json gives the same', async () => {
    const candles = await fixtureCandles(path);
    const want = reference(candles, fast, slow, qty, 0.001, CASH);
    const r = await runCli([
      'backtest',
      '--strategy',
      'ema_crossover',
      '--params',
      JSON.stringify({ fast_period: fast, slow_period: slow, atr_period: atr }),
      '--data',
      path,
      '--sizing',
      `fixed:${qty}`,
      '--fee',
      '0.001',
      '--balance',
      String(CASH),
      '--json',
    ]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { trades: RefTrade[]; metrics: Record<string, number | null> };
    const exact = (t: RefTrade) => [t.entry_time_ms, t.exit_time_ms, t.entry_price, t.exit_price, t.qty];
    expect(out.trades.map(exact)).toEqual(want.trades.map(exact));
    expect(Math.abs((out.metrics.final_equity as number) / want.finalEquity - 1)).toBeLessThanOrEqual(1e-9);
  });
});
