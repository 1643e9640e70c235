import { Adx } from './adx.js';
import { Dmi } from './adx.js';
import { Atr } from './atr.js';
import { BollingerBands } from './bollinger.js';
import { Ema } from './ema.js';
import type { IndicatorFactory } from './indicator.js';
import { Macd } from './macd.js';
import { Obv } from './obv.js';
import { Roc } from './roc.js';
import { Rsi } from './rsi.js';
import { Sma } from './sma.js';
import { Vwap } from './vwap.js';

/**
 * The indicator set `rxtrade indicators` prints and the benchmark measures: SMA 20, EMA 20, RSI 14,
 * MACD 12/26/9, Bollinger 20/2, ATR 14, ADX 14 with ±DI 14, OBV, ROC 10, VWAP and the volume SMA 20.
 */
export const STANDARD_INDICATORS = {
  sma: () => new Sma(20),
  ema: () => new Ema(20),
  rsi: () => new Rsi(14),
  macd: () => new Macd(12, 26, 9),
  bb: () => new BollingerBands(20, 2),
  atr: () => new Atr(14),
  adx: () => new Adx(14),
  dmi: () => new Dmi(14),
  obv: () => new Obv(),
  roc: () => new Roc(10),
  vwap: () => new Vwap(),
  volumeSma: () => new Sma(20, 'volume'),
} satisfies Record<string, IndicatorFactory>;

/** Output columns of the standard set, in print order. */
export const STANDARD_COLUMNS = [
  'sma_20',
  'ema_20',
  'rsi_14',
  'macd_12_26_9',
  'macd_signal_12_26_9',
  'macd_hist_12_26_9',
  'bb_upper_20_2',
  'bb_middle_20_2',
  'bb_lower_20_2',
  'atr_14',
  'adx_14',
  'plus_di_14',
  'minus_di_14',
  'obv',
  'roc_10',
  'vwap',
] as const;
