import * as z from 'zod';
import { Atr, Ema, Sma } from '../domain/indicators/index.js';
import type { Signal } from '../domain/signal.js';
import type { Timeframe } from '../domain/timeframe.js';
import { fastBelowSlow, period, timeframe } from './params.js';
import {
  crossing,
  NO_INDICATORS,
  unit,
  type IndicatorSeries,
  type Strategy,
  type StrategyContext,
} from './strategy.js';

/** The parameters of both moving-average crossings (`ema_crossover`, `sma_cross`), with their defaults. */
export function crossSchema(fast: number, slow: number) {
  return z
    .object({
      timeframe: timeframe(),
      fast_period: period(fast),
      slow_period: period(slow),
      /** ATR period of the confidence scale. */
      atr_period: period(14),
    })
    .strict()
    .refine(fastBelowSlow, {
      message: 'fast_period must be smaller than slow_period',
      path: ['fast_period'],
    });
}

export type CrossParams = z.output<ReturnType<typeof crossSchema>>;

type Spec = { fast: () => Ema | Sma; slow: () => Ema | Sma; atr: () => Atr };

/**
 * A fast moving average crossing a slow one: buy when fast crosses ABOVE slow (previous fast < previous
 * slow and fast > slow: touching is not crossing), sell on the opposite crossing, hold otherwise.
 *
 * Confidence = the crossing's speed: how far the spread (fast − slow) moved on the crossing candle, in ATRs,
 * `min(1, |Δ(fast − slow)| / (fullConfidenceAtr · ATR))`; a crossing by a slow drift scores low, one forced
 * by a sharp candle high. ATR 0 (no range at all) gives 1.
 *
 * No signal until both averages and the ATR are warmed up and one candle has passed since (a crossing
 * needs a previous value).
 */
export class MovingAverageCross implements Strategy<Spec> {
  readonly timeframe: Timeframe;
  readonly indicators: Spec;
  private readonly fastKey: string;
  private readonly slowKey: string;
  private readonly atrKey: string;
  /** The reasons of a buy and a sell (made once: a signal's reason is carried to its fill). */
  private readonly upReason: string;
  private readonly downReason: string;

  constructor(
    readonly name: string,
    average: 'ema' | 'sma',
    private readonly fullConfidenceAtr: number,
    readonly params: CrossParams,
  ) {
    this.timeframe = params.timeframe;
    const { fast_period: f, slow_period: s, atr_period: a } = params;
    const make = average === 'ema' ? (n: number) => new Ema(n) : (n: number) => new Sma(n);
    this.indicators = { fast: () => make(f), slow: () => make(s), atr: () => new Atr(a) };
    this.fastKey = `${average}_${f}`;
    this.slowKey = `${average}_${s}`;
    this.atrKey = `atr_${a}`;
    this.upReason = `${this.fastKey} crossed above ${this.slowKey}`;
    this.downReason = `${this.fastKey} crossed below ${this.slowKey}`;
  }

  onCandle(ctx: StrategyContext<Spec>): Signal {
    const { fast, slow, atr } = ctx.values;
    if (fast === undefined || slow === undefined || atr === undefined) return ctx.hold('warming up');
    const prev = ctx.previous;
    const cross = crossing(prev.fast, prev.slow, fast, slow);
    // No record of the values when nobody reads them (StrategyContext.scratchHolds).
    const indicators = ctx.scratchHolds ? NO_INDICATORS : this.values(fast, slow, atr);
    if (cross === 0) return ctx.hold('no crossing', indicators);
    const move = Math.abs(fast - slow - ((prev.fast as number) - (prev.slow as number)));
    const confidence = atr > 0 ? unit(move / (this.fullConfidenceAtr * atr)) : 1;
    return cross > 0
      ? ctx.buy(confidence, this.upReason, indicators)
      : ctx.sell(confidence, this.downReason, indicators);
  }

  private values(fast: number, slow: number, atr: number): Record<string, number> {
    // Keyed stores into an empty object: a literal with computed keys costs ~0.5 µs in V8, this ~15 ns.
    const indicators: Record<string, number> = {};
    indicators[this.fastKey] = fast;
    indicators[this.slowKey] = slow;
    indicators[this.atrKey] = atr;
    return indicators;
  }

  /** The crossings: where onCandle's `crossing` is not 0 and the ATR is warmed up (see Strategy). */
  candidates(series: IndicatorSeries<Spec>, length: number): number[] | undefined {
    const { fast, slow, atr } = series;
    if (fast.numbers === undefined || slow.numbers === undefined || atr.numbers === undefined)
      return undefined;
    const f = fast.numbers;
    const s = slow.numbers;
    // Both averages on this candle and the one before, and the ATR on this one.
    const start = Math.max(fast.from + 1, slow.from + 1, atr.from);
    const out: number[] = [];
    let pf = f[start - 1] as number;
    let ps = s[start - 1] as number;
    for (let k = start; k < length; k++) {
      const cf = f[k] as number;
      const cs = s[k] as number;
      // crossing(): strict inequalities both ways.
      if ((pf < ps && cf > cs) || (pf > ps && cf < cs)) out.push(k);
      pf = cf;
      ps = cs;
    }
    return out;
  }
}
