/**
 * Incremental technical indicators with TA-Lib's conventions (see each class), O(1) per candle.
 *
 * All are our own code; `technicalindicators` is kept as a reference in the tests only. Its SMA, EMA, ATR
 * and Bollinger Bands compute what TA-Lib does, but as chains of generators (its RSI runs at 4.1 M
 * candles/s and its Bollinger Bands, O(period), at 0.75 M, against 49 M and 30 M here: bench/indicators.ts),
 * and the others differ from TA-Lib: RSI rounds to 2 decimals, MACD seeds the fast EMA earlier, ADX/DI
 * seed the smoothing with 14 moves instead of 13 and a Wilder step, OBV starts at 0, VWAP never resets.
 */
export * from './indicator.js';
export * from './spec.js';
export { Adx, Dmi, type AdxValue, type DmiValue } from './adx.js';
export { Atr, trueRange } from './atr.js';
export { BollingerBands, type BollingerValue } from './bollinger.js';
export { Ema } from './ema.js';
export { Macd, type MacdValue } from './macd.js';
export { Obv } from './obv.js';
export { Roc } from './roc.js';
export { Rsi } from './rsi.js';
export { Sma } from './sma.js';
export { Vwap } from './vwap.js';
export { STANDARD_COLUMNS, STANDARD_INDICATORS } from './standard.js';
