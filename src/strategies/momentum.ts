import * as z from 'zod';
import {
  BollingerBands,
  Ema,
  Macd,
  Roc,
  Rsi,
  type BollingerValue,
  type MacdValue,
} from '../domain/indicators/index.js';
import type { IndicatorFactory } from '../domain/indicators/indicator.js';
import type { Signal } from '../domain/signal.js';
import { TIMEFRAMES, timeframeMs, type Timeframe } from '../domain/timeframe.js';
import type { IndicatorSpec } from '../domain/indicators/spec.js';
import { level, period, positive, timeframe } from './params.js';
import {
  NO_INDICATORS,
  unit,
  type CandleSeries,
  type IndicatorSeries,
  type NumberSeries,
  type Strategy,
  type StrategyContext,
  type StrategyDefinition,
} from './strategy.js';
import { once } from '../domain/once.js';

const schema = once(() =>
  z
    .object({
      timeframe: timeframe(),
      rsi_period: period(14, 2),
      oversold: level(30),
      overbought: level(70),
      macd_fast: period(12),
      macd_slow: period(26),
      macd_signal: period(9),
      /** ROC lookbacks in candles, and the % move each must exceed (same length, 1 to 5 entries). */
      roc_periods: z.array(z.number().int().min(1).max(100_000)).min(1).max(5).default([1, 5, 15]),
      roc_thresholds: z.array(z.number().positive().finite()).min(1).max(5).default([0.5, 1.0, 1.5]),
      bb_period: period(20),
      bb_std_dev: positive(2),
      /** Buy only while the last closed `trend_timeframe` candle closed above its EMA(trend_ema_period). */
      trend_confirmation: z.boolean().default(false),
      trend_timeframe: z.enum(TIMEFRAMES).default('15m'),
      trend_ema_period: period(20),
    })
    .strict()
    .refine((p) => p.oversold < p.overbought, {
      message: 'oversold must be below overbought',
      path: ['oversold'],
    })
    .refine((p) => p.macd_fast < p.macd_slow, {
      message: 'macd_fast must be smaller than macd_slow',
      path: ['macd_fast'],
    })
    .refine((p) => p.roc_thresholds.length === p.roc_periods.length, {
      message: 'roc_thresholds needs one threshold per entry of roc_periods',
      path: ['roc_thresholds'],
    })
    .refine((p) => !p.trend_confirmation || timeframeMs(p.trend_timeframe) > timeframeMs(p.timeframe), {
      message: 'trend_timeframe must be longer than timeframe',
      path: ['trend_timeframe'],
    }),
);

export type MomentumParams = z.output<ReturnType<typeof schema>>;

/**
 * Momentum: a burst of price change that MACD agrees with, while RSI and the Bollinger Bands say the move
 * is not exhausted yet; optionally only with the trend of a higher timeframe.
 *
 * - Bull setup: some ROC over n candles is above its threshold (by default ROC1 > 0.5 %, ROC5 > 1 % or
 *   ROC15 > 1.5 %), the MACD histogram is > 0, RSI < overbought and close < upper band.
 *   Bear setup: some ROC below minus its threshold, histogram < 0, RSI > oversold, close > lower band.
 * - Buy on the candle where the bull setup starts (it held on this candle and not on the previous one),
 *   sell where the bear setup starts; hold otherwise. With `trend_confirmation`, a buy also needs the last
 *   CLOSED `trend_timeframe` candle (e.g. 15m) to have closed above its EMA; sells are never held back
 *   (they close positions). The trend is seen only after its candle closed (see runStrategy).
 *
 * Confidence = the mean of three parts in 0..1: the momentum, `min(1, r / 2)` with r the largest
 * ROC / threshold ratio (r > 1 when the setup fires, so 0.5 at the threshold and 1 at twice it); the RSI's
 * room, how far it is from the level the move runs into, `(overbought − RSI) / (overbought − oversold)`
 * for a buy; and the band room, `(upper − close) / (upper − lower)` for a buy (mirrored for a sell).
 * A buy at twice the threshold with RSI at 30 and the close at the lower band scores 1.
 *
 * No signal until every indicator is warmed up: MACD is the longest, so candle 34 with the defaults.
 */
class Momentum implements Strategy {
  readonly name = 'momentum';
  readonly timeframe: Timeframe;
  readonly indicators: IndicatorSpec;
  readonly higherTimeframes: Partial<Record<Timeframe, IndicatorSpec>>;
  private readonly rocNames: readonly string[];
  private readonly thresholds: readonly number[];
  private readonly rsiKey: string;
  private readonly macdKey: string;
  private readonly bbUpperKey: string;
  private readonly bbLowerKey: string;
  private readonly rocKeys: readonly string[];
  private readonly trendKey: string;

  constructor(readonly params: MomentumParams) {
    const p = params;
    this.timeframe = p.timeframe;
    const spec: Record<string, IndicatorFactory> = {
      rsi: () => new Rsi(p.rsi_period),
      macd: () => new Macd(p.macd_fast, p.macd_slow, p.macd_signal),
      bb: () => new BollingerBands(p.bb_period, p.bb_std_dev),
    };
    this.rocNames = p.roc_periods.map((_, i) => `roc${i}`);
    p.roc_periods.forEach((n, i) => (spec[this.rocNames[i] as string] = () => new Roc(n)));
    this.indicators = spec;
    this.thresholds = p.roc_thresholds;
    this.higherTimeframes = p.trend_confirmation
      ? { [p.trend_timeframe]: { trend: () => new Ema(p.trend_ema_period) } }
      : {};
    this.rsiKey = `rsi_${p.rsi_period}`;
    this.macdKey = `macd_hist_${p.macd_fast}_${p.macd_slow}_${p.macd_signal}`;
    this.bbUpperKey = `bb_upper_${p.bb_period}_${p.bb_std_dev}`;
    this.bbLowerKey = `bb_lower_${p.bb_period}_${p.bb_std_dev}`;
    this.rocKeys = p.roc_periods.map((n) => `roc_${n}`);
    this.trendKey = `${p.trend_timeframe}_ema_${p.trend_ema_period}`;
  }

  onCandle(ctx: StrategyContext): Signal {
    const v = ctx.values;
    const rsi = v.rsi as number | undefined;
    const macd = v.macd as MacdValue | undefined;
    const bb = v.bb as BollingerValue | undefined;
    const close = ctx.candle.close;
    const names = this.rocNames;
    const thresholds = this.thresholds;
    // r: the largest ROC/threshold ratio up (bull) and down (bear); NaN while a ROC warms up.
    let up = Number.NEGATIVE_INFINITY;
    let down = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < names.length; i++) {
      const roc = v[names[i] as string] as number | undefined;
      if (roc === undefined) return ctx.hold('warming up');
      const r = roc / (thresholds[i] as number);
      if (r > up) up = r;
      if (-r > down) down = -r;
    }
    if (rsi === undefined || macd === undefined || bb === undefined) return ctx.hold('warming up');
    // No record of the values when nobody reads them (StrategyContext.scratchHolds).
    const indicators = ctx.scratchHolds ? NO_INDICATORS : this.indicatorsOf(ctx, rsi, macd, bb);
    const setup = this.setup(up > 1, down > 1, macd.hist, rsi, close, bb);
    if (setup === 0) return ctx.hold('no setup', indicators);
    const before = this.setupBefore(ctx);
    const { oversold, overbought } = this.params;
    const bandWidth = bb.upper - bb.lower;
    if (setup > 0) {
      if (before > 0) return ctx.hold('bull setup continues', indicators);
      if (this.params.trend_confirmation) {
        const trend = this.trendUp(ctx);
        if (trend !== true) {
          return ctx.hold(
            trend === undefined ? 'bull setup, trend not known yet' : 'bull setup against the trend',
            indicators,
          );
        }
      }
      const rsiRoom = unit((overbought - rsi) / (overbought - oversold));
      const bandRoom = bandWidth > 0 ? unit((bb.upper - close) / bandWidth) : 0.5;
      const confidence = (unit(up / 2) + rsiRoom + bandRoom) / 3;
      return ctx.buy(confidence, 'momentum up: ROC past its threshold, MACD histogram > 0', indicators);
    }
    if (before < 0) return ctx.hold('bear setup continues', indicators);
    const rsiRoom = unit((rsi - oversold) / (overbought - oversold));
    const bandRoom = bandWidth > 0 ? unit((close - bb.lower) / bandWidth) : 0.5;
    const confidence = (unit(down / 2) + rsiRoom + bandRoom) / 3;
    return ctx.sell(confidence, 'momentum down: ROC past its threshold, MACD histogram < 0', indicators);
  }

  /**
   * The candles where a bull or a bear setup starts: onCandle's conditions hold on the candle and
   * setupBefore's, in the same direction, not on the one before (see Strategy.candidates). None with
   * `trend_confirmation`: the trend is a higher timeframe's, which the series do not have.
   */
  candidates(series: IndicatorSeries, length: number, candles: CandleSeries): number[] | undefined {
    if (this.params.trend_confirmation) return undefined;
    const rsi = series.rsi;
    const macd = series.macd;
    const bb = series.bb;
    if (rsi?.numbers === undefined || macd?.values === undefined || bb?.values === undefined)
      return undefined;
    const rocs: NumberSeries[] = [];
    for (const name of this.rocNames) {
      const roc = series[name];
      if (roc?.numbers === undefined) return undefined;
      rocs.push(roc);
    }
    const macds = macd.values as readonly (MacdValue | undefined)[];
    const bands = bb.values as readonly (BollingerValue | undefined)[];
    const thresholds = this.thresholds;
    const close = candles.close;
    const out: number[] = [];
    // The setup onCandle sees on candle k (1 bull, −1 bear, 0 none or warming up), and setupBefore's.
    const now = (k: number): number => {
      let up = Number.NEGATIVE_INFINITY;
      let down = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < rocs.length; i++) {
        const roc = rocs[i] as NumberSeries;
        if (k < roc.from) return 0;
        const r = (roc.numbers[k] as number) / (thresholds[i] as number);
        if (r > up) up = r;
        if (-r > down) down = -r;
      }
      const m = macds[k];
      const b = bands[k];
      if (k < rsi.from || m === undefined || b === undefined) return 0;
      return this.setup(up > 1, down > 1, m.hist, rsi.numbers[k] as number, close[k] as number, b);
    };
    const before = (k: number): number => {
      if (k < 0) return 0;
      const m = macds[k];
      const b = bands[k];
      if (k < rsi.from || m === undefined || b === undefined) return 0;
      let up = false;
      let down = false;
      for (let i = 0; i < rocs.length; i++) {
        const roc = rocs[i] as NumberSeries;
        if (k < roc.from) return 0;
        const v = roc.numbers[k] as number;
        const t = thresholds[i] as number;
        if (v > t) up = true;
        if (v < -t) down = true;
      }
      return this.setup(up, down, m.hist, rsi.numbers[k] as number, close[k] as number, b);
    };
    for (let k = 0; k < length; k++) {
      const setup = now(k);
      if (setup !== 0 && before(k - 1) !== setup) out.push(k);
    }
    return out;
  }

  /** The setup on the previous candle: 1 bull, −1 bear, 0 none (or not warmed up). */
  private setupBefore(ctx: StrategyContext): number {
    const v = ctx.previous;
    const c = ctx.previousCandle;
    const rsi = v.rsi as number | undefined;
    const macd = v.macd as MacdValue | undefined;
    const bb = v.bb as BollingerValue | undefined;
    if (c === undefined || rsi === undefined || macd === undefined || bb === undefined) return 0;
    let up = false;
    let down = false;
    for (let i = 0; i < this.rocNames.length; i++) {
      const roc = v[this.rocNames[i] as string] as number | undefined;
      if (roc === undefined) return 0;
      const t = this.thresholds[i] as number;
      if (roc > t) up = true;
      if (roc < -t) down = true;
    }
    return this.setup(up, down, macd.hist, rsi, c.close, bb);
  }

  /**
   * The setup a candle shows, given whether a ROC is past its threshold up and down: 1 bull (MACD histogram
   * > 0, RSI below overbought, close below the upper band), −1 bear (mirrored), 0 none. One rule for
   * onCandle, setupBefore and candidates.
   */
  private setup(
    up: boolean,
    down: boolean,
    hist: number,
    rsi: number,
    close: number,
    bb: BollingerValue,
  ): number {
    if (up && hist > 0 && rsi < this.params.overbought && close < bb.upper) return 1;
    if (down && hist < 0 && rsi > this.params.oversold && close > bb.lower) return -1;
    return 0;
  }

  /** Whether the last closed higher-timeframe candle closed above its EMA; undefined before one. */
  private trendUp(ctx: StrategyContext): boolean | undefined {
    const view = ctx.higher(this.params.trend_timeframe);
    const ema = view?.values.trend as number | undefined;
    if (view?.candle === undefined || ema === undefined) return undefined;
    return view.candle.close > ema;
  }

  private indicatorsOf(
    ctx: StrategyContext,
    rsi: number,
    macd: MacdValue,
    bb: BollingerValue,
  ): Record<string, number | undefined> {
    // Keyed stores into an empty object: see movingAverageCross.ts.
    const out: Record<string, number | undefined> = {};
    out[this.rsiKey] = rsi;
    out[this.macdKey] = macd.hist;
    out[this.bbUpperKey] = bb.upper;
    out[this.bbLowerKey] = bb.lower;
    const v = ctx.values;
    for (let i = 0; i < this.rocKeys.length; i++) {
      out[this.rocKeys[i] as string] = v[this.rocNames[i] as string] as number;
    }
    if (this.params.trend_confirmation) {
      out[this.trendKey] = ctx.higher(this.params.trend_timeframe)?.values.trend as number | undefined;
    }
    return out;
  }
}

export const momentum: StrategyDefinition<MomentumParams> = {
  name: 'momentum',
  displayName: 'Momentum',
  summary:
    'ROC burst confirmed by MACD, not exhausted per RSI and Bollinger, optionally with a higher-timeframe trend',
  get schema() {
    return schema();
  },
  create: (params) => new Momentum(Object.freeze({ ...params })),
};
