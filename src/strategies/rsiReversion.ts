import * as z from 'zod';
import { Rsi } from '../domain/indicators/index.js';
import type { Signal } from '../domain/signal.js';
import type { Timeframe } from '../domain/timeframe.js';
import { level, period, timeframe } from './params.js';
import {
  NO_INDICATORS,
  crossing,
  unit,
  type IndicatorSeries,
  type Strategy,
  type StrategyContext,
  type StrategyDefinition,
} from './strategy.js';
import { once } from '../domain/once.js';

const schema = once(() =>
  z
    .object({
      timeframe: timeframe(),
      period: period(14, 2),
      oversold: level(30),
      overbought: level(70),
    })
    .strict()
    .refine((p) => p.oversold < p.overbought, {
      message: 'oversold must be below overbought',
      path: ['oversold'],
    }),
);

export type RsiReversionParams = z.output<ReturnType<typeof schema>>;

/**
 * RSI points past the level that give confidence 1 (see RsiReversion). Over the BTC/USDT 1m month (1,013
 * level crossings with 14/30/70) the RSI lands 0.26 points past the level at the 10th percentile, 1.5 at
 * the median and 4.5 at the 90th.
 */
export const RSI_FULL_CONFIDENCE_POINTS = 5;

type Spec = { rsi: () => Rsi };

/**
 * RSI mean reversion: buy when the RSI crosses BELOW the oversold level (previous RSI > oversold and
 * RSI < oversold: the market has just become oversold), sell when it crosses ABOVE the overbought level
 * (previous < overbought and RSI > overbought); hold otherwise, including while it stays in a zone.
 *
 * Confidence = how far past the level the RSI landed on that candle, in RSI points, full at 5:
 * `min(1, (oversold − RSI) / 5)` for a buy, `min(1, (RSI − overbought) / 5)` for a sell. A plunge from
 * 35 to 26 gives 0.8; a graze to 29.5 gives 0.1; the median crossing on real BTC/USDT 1m data ~0.3.
 *
 * No signal until the RSI is warmed up (period + 1 candles) and one candle has passed since: first
 * possible signal on candle 16 with period 14.
 */
class RsiReversion implements Strategy<Spec> {
  readonly name = 'rsi_reversion';
  readonly timeframe: Timeframe;
  readonly indicators: Spec;
  private readonly key: string;
  /** The reasons of a buy and a sell (made once: a signal's reason is carried to its fill). */
  private readonly buyReason: string;
  private readonly sellReason: string;

  constructor(readonly params: RsiReversionParams) {
    this.timeframe = params.timeframe;
    const n = params.period;
    this.indicators = { rsi: () => new Rsi(n) };
    this.key = `rsi_${n}`;
    this.buyReason = `${this.key} fell below ${params.oversold} (oversold)`;
    this.sellReason = `${this.key} rose above ${params.overbought} (overbought)`;
  }

  onCandle(ctx: StrategyContext<Spec>): Signal {
    const rsi = ctx.values.rsi;
    if (rsi === undefined) return ctx.hold('warming up');
    const prev = ctx.previous.rsi;
    const { oversold, overbought } = this.params;
    // No record of the values when nobody reads them (StrategyContext.scratchHolds).
    const indicators = ctx.scratchHolds ? NO_INDICATORS : this.values(rsi);
    if (crossing(prev, oversold, rsi, oversold) < 0) {
      const confidence = unit((oversold - rsi) / RSI_FULL_CONFIDENCE_POINTS);
      return ctx.buy(confidence, this.buyReason, indicators);
    }
    if (crossing(prev, overbought, rsi, overbought) > 0) {
      const confidence = unit((rsi - overbought) / RSI_FULL_CONFIDENCE_POINTS);
      return ctx.sell(confidence, this.sellReason, indicators);
    }
    return ctx.hold('no level crossed', indicators);
  }

  private values(rsi: number): Record<string, number> {
    const indicators: Record<string, number> = {}; // keyed stores: see movingAverageCross.ts
    indicators[this.key] = rsi;
    return indicators;
  }

  /** The level crossings onCandle acts on: into oversold from above, into overbought from below. */
  candidates(series: IndicatorSeries<Spec>, length: number): number[] | undefined {
    const rsi = series.rsi;
    if (rsi.numbers === undefined) return undefined;
    const { oversold, overbought } = this.params;
    const v = rsi.numbers;
    const out: number[] = [];
    // The RSI on this candle and the one before.
    for (let k = rsi.from + 1; k < length; k++) {
      const prev = v[k - 1] as number;
      const now = v[k] as number;
      // crossing(): strict inequalities.
      if ((prev > oversold && now < oversold) || (prev < overbought && now > overbought)) out.push(k);
    }
    return out;
  }
}

export const rsiReversion: StrategyDefinition<RsiReversionParams> = {
  name: 'rsi_reversion',
  displayName: 'RSI_Reversion',
  summary: 'buy when the RSI falls into oversold, sell when it rises into overbought',
  get schema() {
    return schema();
  },
  create: (params) => new RsiReversion(Object.freeze({ ...params })),
};
