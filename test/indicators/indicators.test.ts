import { UsageError } from '../../src/domain/errors.js';
import {
  Adx,
  Atr,
  BollingerBands,
  Dmi,
  Ema,
  Macd,
  Obv,
  Roc,
  Rsi,
  Sma,
  Vwap,
  type Indicator,
} from '../../src/domain/indicators/index.js';
import { BTC_SLICE, candle, loadCandles, run } from './support.js';

const candles = loadCandles(BTC_SLICE);

const all = (): Indicator<unknown>[] => [
  new Sma(20),
  new Sma(20, 'volume'),
  new Ema(20),
  new Rsi(14),
  new Macd(12, 26, 9),
  new BollingerBands(20, 2),
  new Atr(14),
  new Adx(14),
  new Dmi(14),
  new Obv(),
  new Roc(10),
  new Vwap(),
];

describe('the Indicator contract', () => {
  it.each(all().map((i) => [i.key, i] as const))(
    '%s: first value exactly after `lookback` candles',
    (_k, ind) => {
      const values = run(ind, candles);
      expect(values.findIndex((v) => v !== undefined)).toBe(ind.lookback);
      expect(values.slice(ind.lookback).every((v) => v !== undefined)).toBe(true);
    },
  );

  it.each(all().map((i) => [i.key, i] as const))('%s: reset() starts over', (_k, ind) => {
    const first = run(ind, candles.slice(0, 300));
    ind.reset();
    expect(run(ind, candles.slice(0, 300))).toEqual(first);
  });

  it('keys name the parameters', () => {
    expect(all().map((i) => i.key)).toEqual([
      'sma_20',
      'volume_sma_20',
      'ema_20',
      'rsi_14',
      'macd_12_26_9',
      'bb_20_2',
      'atr_14',
      'adx_14',
      'dmi_14',
      'obv',
      'roc_10',
      'vwap',
    ]);
  });

  it.each([
    [() => new Sma(0), /SMA: period must be an integer from 1/],
    [() => new Ema(2.5), /EMA: period must be an integer/],
    [() => new Rsi(1), /RSI: period must be an integer from 2/],
    [() => new Macd(12, 26, 0), /MACD: signal period/],
    [() => new BollingerBands(20, -1), /Bollinger Bands: the width k/],
    [() => new Adx(1), /ADX: period must be an integer from 2/],
  ])('refuses bad parameters %#', (make, message) => {
    expect(make).toThrow(UsageError);
    expect(make).toThrow(message);
  });
});

describe('edge cases, as TA-Lib handles them', () => {
  const flat = Array.from({ length: 40 }, (_, i) => candle(i, 100));

  it('a flat market: RSI 0, ±DI 0, ADX 0, σ 0, ATR 0, ROC 0', () => {
    expect(run(new Rsi(14), flat)[20]).toBe(0);
    expect(run(new Dmi(14), flat)[20]).toEqual({ plusDi: 0, minusDi: 0 });
    expect(run(new Adx(14), flat)[30]).toEqual({ adx: 0, plusDi: 0, minusDi: 0 });
    expect(run(new BollingerBands(20, 2), flat)[30]).toEqual({ upper: 100, middle: 100, lower: 100 });
    expect(run(new Atr(14), flat)[30]).toBe(0);
    expect(run(new Roc(10), flat)[30]).toBe(0);
  });

  it('MACD with slow < fast swaps them, like TA-Lib', () => {
    expect(run(new Macd(26, 12, 9), candles)).toEqual(run(new Macd(12, 26, 9), candles));
  });

  it('VWAP restarts with the first candle of each UTC day and waits for volume', () => {
    const day = 86_400_000;
    const at = (closeTimeMs: number, price: number, volume: number) =>
      candle(0, price, { closeTimeMs, volume });
    const v = new Vwap();
    expect(v.update(at(day - 60_000, 10, 0))).toBeUndefined(); // 23:58–23:59, nothing traded yet
    expect(v.update(at(day, 10, 2))).toBe(10); // the candle stamped 00:00 closes the previous day
    expect(v.update(at(day + 60_000, 40, 1))).toBe(40); // first candle of the new day
    expect(v.update(at(day + 120_000, 10, 3))).toBe((40 + 30) / 4);
    const h = new Vwap();
    // a 1d candle is its own day: its VWAP is its typical price
    expect(h.update({ ...candle(0, 9, { high: 12, low: 6 }), timeframe: '1d', closeTimeMs: day })).toBe(9);
  });
});

describe('numerics over long runs', () => {
  it('SMA and the stable Bollinger σ stay within 1e-9 of an exact two-pass computation over 200k candles with quiet spells', () => {
    // A deterministic random walk at BTC-like prices (cent ticks), alternating σ per candle of 0.05, 2 and 30
    // every 5,000 candles: the quiet spells are where E[x²] − E[x]² over running sums (TA-Lib) loses digits.
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    const xs: number[] = [];
    let p = 50_000;
    for (let i = 0; i < 200_000; i++) {
      const vol = [0.05, 2, 30][Math.floor(i / 5000) % 3] as number;
      p = Math.round((p + (rnd() - 0.5) * 2 * vol) * 100) / 100;
      xs.push(p);
    }
    const bb = new BollingerBands(20, 1, 'close', 'stable');
    const sma = new Sma(20);
    let worstSd = 0;
    let worstMean = 0;
    for (let i = 0; i < xs.length; i++) {
      const c = candle(i, xs[i] as number);
      const v = bb.update(c);
      const m = sma.update(c);
      if (v === undefined || m === undefined) continue;
      let sum = 0;
      for (let j = i - 19; j <= i; j++) sum += xs[j] as number;
      const mean = sum / 20;
      let ss = 0;
      for (let j = i - 19; j <= i; j++) ss += ((xs[j] as number) - mean) ** 2;
      const sd = Math.sqrt(ss / 20);
      worstMean = Math.max(worstMean, Math.abs(m - mean) / mean);
      if (sd > 0.01) worstSd = Math.max(worstSd, Math.abs(v.upper - v.middle - sd) / sd);
    }
    expect(worstMean).toBeLessThan(1e-13);
    // σ is read back as upper − middle, which itself costs ~ulp(50 000)/σ ≈ 1e-11/0.01 = 1e-9 at σ = 0.01.
    expect(worstSd).toBeLessThan(2e-9);
  });
});
