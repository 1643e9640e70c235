import type { Candle } from '../domain/candle.js';
import {
  Adx,
  Atr,
  BollingerBands,
  Ema,
  Macd,
  Obv,
  Roc,
  Rsi,
  Sma,
  Vwap,
  type IndicatorInput,
} from '../domain/indicators/index.js';
import { timeframeMs, type Timeframe } from '../domain/timeframe.js';
import type { ScannerConfig } from './config.js';

type MomentumConfig = ScannerConfig['momentum_strategy'];

/** The indicator values of one 1m candle, by column name (undefined while an indicator warms up). */
export type MomentumValues = Record<string, number | undefined>;

export interface MomentumResult {
  readonly values: MomentumValues;
  /** 0..100 (see SymbolMomentum). */
  readonly score: number;
  /** Every scoring indicator has a value (the higher-timeframe trends excepted). */
  readonly warm: boolean;
  /** The conditions that scored, for the log and the opportunity's reason. */
  readonly reasons: readonly string[];
}

/** A higher-timeframe close above its EMA, built from the 1m candles. */
class TrendConfirmation {
  private readonly ms: number;
  private readonly ema: Ema;
  private open = Number.NaN;
  private high = Number.NEGATIVE_INFINITY;
  private low = Number.POSITIVE_INFINITY;
  private volume = 0;
  /** 1 up, 0 not, undefined before the EMA has a value. */
  up: number | undefined;

  constructor(
    readonly timeframe: Timeframe,
    period: number,
  ) {
    this.ms = timeframeMs(timeframe);
    this.ema = new Ema(period);
  }

  update(c: IndicatorInput): void {
    if (Number.isNaN(this.open)) this.open = c.open;
    if (c.high > this.high) this.high = c.high;
    if (c.low < this.low) this.low = c.low;
    this.volume += c.volume;
    if (c.closeTimeMs % this.ms !== 0) return;
    const bar = {
      closeTimeMs: c.closeTimeMs,
      timeframe: this.timeframe,
      open: this.open,
      high: this.high,
      low: this.low,
      close: c.close,
      volume: this.volume,
    };
    const ema = this.ema.update(bar);
    if (ema !== undefined) this.up = c.close > ema ? 1 : 0;
    this.open = Number.NaN;
    this.high = Number.NEGATIVE_INFINITY;
    this.low = Number.POSITIVE_INFINITY;
    this.volume = 0;
  }
}

/** Points per condition; the score is the points earned over the points available, × 100. */
export const SCORE_WEIGHTS = {
  rsi: 15,
  macd: 15,
  roc_1: 10,
  roc_5: 10,
  roc_15: 10,
  bollinger: 10,
  adx: 10,
  volume: 10,
  obv: 5,
  vwap: 5,
  trend: 10,
} as const;

/**
 * The specification's momentum indicators on one symbol's closed 1m candles, with the project's
 * TA-Lib-exact incremental indicators (O(1) per candle), and a score:
 * RSI within [min, max] · MACD histogram > 0 · ROC over 1, 5 and 15 candles at or above its threshold ·
 * close above the Bollinger middle band · ADX ≥ min with +DI > −DI · volume ≥ min_ratio × its SMA (of the
 * candles before) · OBV rising · close above VWAP · each trend timeframe's close above its EMA (the trend
 * points shared between them). Weights: SCORE_WEIGHTS.
 */
export class SymbolMomentum {
  private readonly rsi: Rsi;
  private readonly macd: Macd;
  private readonly roc1 = new Roc(1);
  private readonly roc5 = new Roc(5);
  private readonly roc15 = new Roc(15);
  private readonly bb: BollingerBands;
  private readonly adx: Adx;
  private readonly volumeSma: Sma;
  private readonly volumeRoc: Roc;
  private readonly obv = new Obv();
  private readonly vwap = new Vwap();
  private readonly atr: Atr;
  private readonly trends: TrendConfirmation[];
  private prevObv: number | undefined;
  private prevVolumeSma: number | undefined;

  constructor(private readonly config: MomentumConfig) {
    this.rsi = new Rsi(config.rsi.period);
    this.macd = new Macd(config.macd.fast, config.macd.slow, config.macd.signal);
    this.bb = new BollingerBands(config.bollinger.period, config.bollinger.std_dev);
    this.adx = new Adx(config.adx.period);
    this.volumeSma = new Sma(config.volume.sma_period, 'volume');
    this.volumeRoc = new Roc(config.volume.roc_period, 'volume');
    this.atr = new Atr(config.atr_period);
    this.trends = config.trend.timeframes.map((tf) => new TrendConfirmation(tf, config.trend.ema_period));
  }

  update(c: Candle): MomentumResult {
    const cfg = this.config;
    const rsi = this.rsi.update(c);
    const macd = this.macd.update(c);
    const roc1 = this.roc1.update(c);
    const roc5 = this.roc5.update(c);
    const roc15 = this.roc15.update(c);
    const bb = this.bb.update(c);
    const adx = this.adx.update(c);
    const volumeSma = this.prevVolumeSma;
    this.prevVolumeSma = this.volumeSma.update(c);
    const volumeRoc = this.volumeRoc.update(c);
    const obv = this.obv.update(c);
    const prevObv = this.prevObv;
    this.prevObv = obv;
    const vwap = this.vwap.update(c);
    const atr = this.atr.update(c);
    for (const t of this.trends) t.update(c);
    const volumeRatio = volumeSma !== undefined && volumeSma > 0 ? c.volume / volumeSma : undefined;

    const values: MomentumValues = {
      close: c.close,
      volume: c.volume,
      rsi,
      macd: macd?.macd,
      macd_signal: macd?.signal,
      macd_hist: macd?.hist,
      roc_1: roc1,
      roc_5: roc5,
      roc_15: roc15,
      bb_upper: bb?.upper,
      bb_middle: bb?.middle,
      bb_lower: bb?.lower,
      adx: adx?.adx,
      plus_di: adx?.plusDi,
      minus_di: adx?.minusDi,
      volume_sma: volumeSma,
      volume_ratio: volumeRatio,
      volume_roc: volumeRoc,
      obv,
      vwap,
      atr,
      atr_pct: atr === undefined ? undefined : (atr / c.close) * 100,
    };
    for (const t of this.trends) values[`trend_${t.timeframe}`] = t.up;

    const reasons: string[] = [];
    let points = 0;
    const score = (
      name: keyof typeof SCORE_WEIGHTS,
      ok: boolean,
      weight: number = SCORE_WEIGHTS[name],
    ): void => {
      if (!ok) return;
      points += weight;
      reasons.push(name);
    };
    score('rsi', rsi !== undefined && rsi >= cfg.rsi.min && rsi <= cfg.rsi.max);
    score('macd', macd !== undefined && macd.hist > 0);
    const th = cfg.roc_thresholds;
    score('roc_1', roc1 !== undefined && roc1 >= th['1m']);
    score('roc_5', roc5 !== undefined && roc5 >= th['5m']);
    score('roc_15', roc15 !== undefined && roc15 >= th['15m']);
    score('bollinger', bb !== undefined && c.close > bb.middle);
    score('adx', adx !== undefined && adx.adx >= cfg.adx.min && adx.plusDi > adx.minusDi);
    score('volume', volumeRatio !== undefined && volumeRatio >= cfg.volume.min_ratio);
    score('obv', obv !== undefined && prevObv !== undefined && obv > prevObv);
    score('vwap', vwap !== undefined && c.close > vwap);
    let available = 100;
    if (this.trends.length === 0) available -= SCORE_WEIGHTS.trend;
    else for (const t of this.trends) score('trend', t.up === 1, SCORE_WEIGHTS.trend / this.trends.length);

    const warm =
      rsi !== undefined &&
      macd !== undefined &&
      roc15 !== undefined &&
      bb !== undefined &&
      adx !== undefined &&
      volumeSma !== undefined &&
      atr !== undefined;
    return { values, score: (points / available) * 100, warm, reasons };
  }
}
