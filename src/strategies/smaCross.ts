import { z } from 'zod';
import { Atr, Sma } from '../domain/indicators/index.js';
import type { Signal } from '../domain/signal.js';
import type { Timeframe } from '../domain/timeframe.js';
import { fastBelowSlow, period, timeframe } from './params.js';
import { crossing, unit, type Strategy, type StrategyContext, type StrategyDefinition } from './strategy.js';

const schema = z
  .object({
    timeframe: timeframe(),
    fast_period: period(10),
    slow_period: period(30),
    /** ATR period of the confidence scale. */
    atr_period: period(14),
  })
  .strict()
  .refine(fastBelowSlow, { message: 'fast_period must be smaller than slow_period', path: ['fast_period'] });

export type SmaCrossParams = z.output<typeof schema>;

/**
 * The spread move, in ATRs, that gives confidence 1 (see SmaCross): twice the median. Over the BTC/USDT 1m
 * month (1,784 crossings with 10/30) the move is 0.075 ATR at the 10th percentile, 0.20 at the median and
 * 0.35 at the 90th.
 */
export const SMA_FULL_CONFIDENCE_ATR = 0.4;

type Spec = { fast: () => Sma; slow: () => Sma; atr: () => Atr };

/**
 * SMA cross: buy when the fast SMA crosses ABOVE the slow one — previous fast < previous slow and current
 * fast > current slow (strict: touching is not crossing) — sell on the opposite crossing; hold otherwise.
 *
 * Confidence = the crossing's speed: `min(1, |Δ(fast − slow)| / (0.4 · ATR))`, the move of the spread on
 * the crossing candle relative to 0.4 ATR; the median crossing on real BTC/USDT 1m data scores ~0.5. ATR 0 gives 1.
 *
 * No signal until both SMAs and the ATR are warmed up and one candle has passed since: with the defaults
 * (10/30), the first possible signal is on candle 31.
 */
class SmaCross implements Strategy<Spec> {
  readonly name = 'sma_cross';
  readonly timeframe: Timeframe;
  readonly indicators: Spec;
  private readonly fastKey: string;
  private readonly slowKey: string;
  private readonly atrKey: string;

  constructor(readonly params: SmaCrossParams) {
    this.timeframe = params.timeframe;
    const { fast_period: f, slow_period: s, atr_period: a } = params;
    this.indicators = { fast: () => new Sma(f), slow: () => new Sma(s), atr: () => new Atr(a) };
    this.fastKey = `sma_${f}`;
    this.slowKey = `sma_${s}`;
    this.atrKey = `atr_${a}`;
  }

  onCandle(ctx: StrategyContext<Spec>): Signal {
    const { fast, slow, atr } = ctx.values;
    if (fast === undefined || slow === undefined || atr === undefined) return ctx.hold('warming up');
    const prev = ctx.previous;
    const indicators: Record<string, number> = {}; // keyed stores: see emaCrossover.ts
    indicators[this.fastKey] = fast;
    indicators[this.slowKey] = slow;
    indicators[this.atrKey] = atr;
    const cross = crossing(prev.fast, prev.slow, fast, slow);
    if (cross === 0) return ctx.hold('no crossing', indicators);
    const move = Math.abs(fast - slow - ((prev.fast as number) - (prev.slow as number)));
    const confidence = atr > 0 ? unit(move / (SMA_FULL_CONFIDENCE_ATR * atr)) : 1;
    return cross > 0
      ? ctx.buy(confidence, `${this.fastKey} crossed above ${this.slowKey}`, indicators)
      : ctx.sell(confidence, `${this.fastKey} crossed below ${this.slowKey}`, indicators);
  }
}

export const smaCross: StrategyDefinition<SmaCrossParams> = {
  name: 'sma_cross',
  displayName: 'SMA_Cross',
  summary: 'buy when the fast SMA crosses above the slow SMA, sell on the opposite crossing',
  schema,
  create: (params) => new SmaCross(Object.freeze({ ...params })),
};
