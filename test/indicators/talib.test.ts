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
} from '../../src/domain/indicators/index.js';
import { BTC_SLICE, column, loadCandles, mismatches, readTable, run } from './support.js';

/**
 * Against TA-Lib 0.6 itself: test/fixtures/indicators/*.talib.csv holds TA-Lib's outputs (C library, default
 * settings: unstable periods 0, default compatibility) on the real BTC/USDT 1m slice, printed with 16
 * significant digits (see the README there for how it was made). Every value, warm-up included, must agree
 * to ≤ 1e-9 relative, and every warm-up must end on the same candle.
 */
const candles = loadCandles(BTC_SLICE);
const talib = readTable('btcusdt-1m-20210518T1800-2000.talib.csv');
const expected = (name: string) => column(talib, name);
const TOL = 1e-9;

describe('indicators match TA-Lib 0.6 on real BTC/USDT 1m candles (≤ 1e-9 relative)', () => {
  it('uses the fixture it says (2000 candles, TA-Lib rows aligned by close time)', () => {
    expect(candles).toHaveLength(2000);
    expect(column(talib, 'close_time_ms')).toEqual(candles.map((c) => c.closeTimeMs));
  });

  // [column, our values, floor of the relative error's denominator: 1 for MACD and OBV, which cross 0
  // (a 1e-9 error on a price-sized quantity), 1e-3 % for ROC]
  const cases: [string, () => (number | undefined)[], number][] = [
    ['sma_20', () => run(new Sma(20), candles), 0],
    ['ema_20', () => run(new Ema(20), candles), 0],
    ['rsi_14', () => run(new Rsi(14), candles), 0],
    ['macd_12_26_9', () => run(new Macd(), candles).map((v) => v?.macd), 1],
    ['macd_signal_12_26_9', () => run(new Macd(), candles).map((v) => v?.signal), 1],
    ['macd_hist_12_26_9', () => run(new Macd(), candles).map((v) => v?.hist), 1],
    ['bb_upper_20_2', () => run(new BollingerBands(20, 2), candles).map((v) => v?.upper), 0],
    ['bb_middle_20_2', () => run(new BollingerBands(20, 2), candles).map((v) => v?.middle), 0],
    ['bb_lower_20_2', () => run(new BollingerBands(20, 2), candles).map((v) => v?.lower), 0],
    ['atr_14', () => run(new Atr(14), candles), 0],
    ['adx_14', () => run(new Adx(14), candles).map((v) => v?.adx), 0],
    ['plus_di_14', () => run(new Dmi(14), candles).map((v) => v?.plusDi), 0],
    ['minus_di_14', () => run(new Dmi(14), candles).map((v) => v?.minusDi), 0],
    ['obv', () => run(new Obv(), candles), 1],
    ['roc_10', () => run(new Roc(10), candles), 1e-3],
    ['volume_sma_20', () => run(new Sma(20, 'volume'), candles), 0],
  ];

  it.each(cases)('%s', (name, compute, floor) => {
    const r = mismatches(compute(), expected(name), { tol: TOL, floor });
    expect(r.bad).toEqual([]);
    expect(r.compared).toBeGreaterThan(1900);
  });
});
