import {
  ADX,
  ATR,
  BollingerBands as TiBollinger,
  EMA,
  MACD,
  OBV,
  ROC,
  RSI,
  SMA,
  VWAP,
} from 'technicalindicators';
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
} from '../../src/domain/indicators/index.js';
import type { Candle } from '../../src/domain/candle.js';
import { BTC_SLICE, loadCandles, mismatches, run } from './support.js';

/**
 * Against `technicalindicators` (3.1) on 2000 real BTC/USDT 1m candles. ≤ 1e-9 relative wherever it computes
 * the same thing. Where its conventions differ from TA-Lib's the test says how, and compares what is
 * comparable:
 * - RSI: it rounds to 2 decimals, so ±0.005 absolute;
 * - MACD: it seeds the fast EMA with the first 12 closes (TA-Lib: the 12 ending on candle 26), and ADX/DI:
 *   it seeds the smoothed TR/DM with the sum of 14 moves (TA-Lib: 13 and a Wilder step) → compared once the
 *   seed has decayed, from candle 300 (MACD) and 400 (ADX);
 * - OBV: it starts at 0 one candle later (TA-Lib: the first volume);
 * - VWAP: it never resets, so one instance per UTC day.
 * Floors of the relative error (see mismatches): 1 for MACD and OBV, which cross 0; 1e-3 % for ROC.
 */
const candles = loadCandles(BTC_SLICE);
const close = candles.map((c) => c.close);
const high = candles.map((c) => c.high);
const low = candles.map((c) => c.low);
const volume = candles.map((c) => c.volume);
const TOL = 1e-9;

/** Pads a technicalindicators result (no leading undefined) to the input length. */
function aligned<T>(out: T[], length = candles.length): (T | undefined)[] {
  return [...new Array<undefined>(length - out.length).fill(undefined), ...out];
}

function check(
  ours: (number | undefined)[],
  theirs: (number | undefined)[],
  opts: { tol?: number; mode?: 'relative' | 'absolute'; floor?: number; from?: number } = {},
): void {
  const r = mismatches(ours, theirs, { tol: TOL, ...opts });
  expect(r.bad).toEqual([]);
  expect(r.compared).toBeGreaterThan(1500);
}

describe('indicators agree with technicalindicators on real BTC/USDT 1m candles', () => {
  it('SMA 20 and the volume SMA 20', () => {
    check(run(new Sma(20), candles), aligned(SMA.calculate({ period: 20, values: close })));
    check(run(new Sma(20, 'volume'), candles), aligned(SMA.calculate({ period: 20, values: volume })));
  });

  it('EMA 20 (both SMA-seeded)', () => {
    check(run(new Ema(20), candles), aligned(EMA.calculate({ period: 20, values: close })));
  });

  it('RSI 14 (theirs is rounded to 2 decimals: ±0.005)', () => {
    check(run(new Rsi(14), candles), aligned(RSI.calculate({ period: 14, values: close })), {
      mode: 'absolute',
      tol: 0.005 + 1e-9,
    });
  });

  it('MACD 12/26/9 once the fast EMA seed has decayed (from candle 300)', () => {
    const theirs = aligned(
      MACD.calculate({
        fastPeriod: 12,
        slowPeriod: 26,
        signalPeriod: 9,
        SimpleMAOscillator: false,
        SimpleMASignal: false,
        values: close,
      }),
    );
    const ours = run(new Macd(12, 26, 9), candles);
    const from = 300;
    check(
      ours.map((v) => v?.macd),
      theirs.map((v) => v?.MACD),
      { floor: 1, from },
    );
    check(
      ours.map((v) => v?.signal),
      theirs.map((v) => v?.signal),
      { floor: 1, from },
    );
    check(
      ours.map((v) => v?.hist),
      theirs.map((v) => v?.histogram),
      { floor: 1, from },
    );
  });

  it('Bollinger Bands 20/2 (theirs: two-pass σ over the window)', () => {
    const theirs = aligned(TiBollinger.calculate({ period: 20, stdDev: 2, values: close }));
    const ours = run(new BollingerBands(20, 2), candles);
    check(
      ours.map((v) => v?.upper),
      theirs.map((v) => v?.upper),
    );
    check(
      ours.map((v) => v?.middle),
      theirs.map((v) => v?.middle),
    );
    check(
      ours.map((v) => v?.lower),
      theirs.map((v) => v?.lower),
    );
  });

  it('ATR 14 (same seed: the mean of the first 14 true ranges)', () => {
    check(run(new Atr(14), candles), aligned(ATR.calculate({ period: 14, high, low, close })));
  });

  it('ADX 14, +DI, −DI once the smoothing seed has decayed (from candle 400)', () => {
    const theirs = aligned(ADX.calculate({ period: 14, high, low, close }));
    const adx = run(new Adx(14), candles);
    const dmi = run(new Dmi(14), candles);
    // The ADX carries the DI seed difference and then its own (13/14 a candle): 1.3e-9 left at 300.
    const from = 400;
    check(
      adx.map((v) => v?.adx),
      theirs.map((v) => v?.adx),
      { from },
    );
    check(
      dmi.map((v) => v?.plusDi),
      theirs.map((v) => v?.pdi),
      { from },
    );
    check(
      dmi.map((v) => v?.minusDi),
      theirs.map((v) => v?.mdi),
      { from },
    );
  });

  it('OBV (theirs starts at 0 on the second candle; ours at the first volume on the first)', () => {
    const theirs = aligned(OBV.calculate({ close, volume }));
    const first = volume[0] as number;
    check(
      run(new Obv(), candles).map((v, i) => (i === 0 ? undefined : (v as number) - first)),
      theirs,
      {
        floor: 1,
      },
    );
  });

  it('ROC 10 (theirs: (x − old)/old · 100, TA-Lib: (x/old − 1) · 100)', () => {
    check(run(new Roc(10), candles), aligned(ROC.calculate({ period: 10, values: close })), { floor: 1e-3 });
  });

  it('VWAP, restarted each UTC day (one technicalindicators VWAP per day)', () => {
    const ours = run(new Vwap(), candles);
    const theirs: number[] = [];
    const day = (c: Candle): number => Math.floor((c.closeTimeMs - 60_000) / 86_400_000);
    let from = 0;
    const days = new Set(candles.map(day));
    expect(days.size).toBe(3); // the slice crosses two UTC midnights
    for (let i = 1; i <= candles.length; i++) {
      if (i === candles.length || day(candles[i] as Candle) !== day(candles[from] as Candle)) {
        const part = candles.slice(from, i);
        theirs.push(
          ...VWAP.calculate({
            high: part.map((c) => c.high),
            low: part.map((c) => c.low),
            close: part.map((c) => c.close),
            volume: part.map((c) => c.volume),
          }),
        );
        from = i;
      }
    }
    check(ours, theirs);
  });
});
