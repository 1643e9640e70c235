import type { z } from 'zod';
import { crossSchema, MovingAverageCross } from './movingAverageCross.js';
import type { StrategyDefinition } from './strategy.js';
import { once } from '../domain/once.js';

const schema = once(() => crossSchema(10, 30));

export type SmaCrossParams = z.output<ReturnType<typeof schema>>;

/**
 * The spread move, in ATRs, that gives confidence 1 (see MovingAverageCross): twice the median. Over the
 * BTC/USDT 1m month (1,784 crossings with 10/30) the move is 0.075 ATR at the 10th percentile, 0.20 at the
 * median and 0.35 at the 90th.
 */
export const SMA_FULL_CONFIDENCE_ATR = 0.4;

/**
 * SMA cross: buy when the fast SMA crosses ABOVE the slow one — previous fast < previous slow and current
 * fast > current slow (strict: touching is not crossing) — sell on the opposite crossing. Confidence
 * `min(1, |Δ(fast − slow)| / (0.4 · ATR))`. With the defaults (10/30) the first possible signal is on
 * candle 31.
 */
export const smaCross: StrategyDefinition<SmaCrossParams> = {
  name: 'sma_cross',
  displayName: 'SMA_Cross',
  summary: 'buy when the fast SMA crosses above the slow SMA, sell on the opposite crossing',
  get schema() {
    return schema();
  },
  create: (params) =>
    new MovingAverageCross('sma_cross', 'sma', SMA_FULL_CONFIDENCE_ATR, Object.freeze({ ...params })),
};
