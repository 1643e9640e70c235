import type { z } from 'zod';
import { crossSchema, MovingAverageCross } from './movingAverageCross.js';
import type { StrategyDefinition } from './strategy.js';
import { once } from '../domain/once.js';

const schema = once(() => crossSchema(12, 26));

export type EmaCrossoverParams = z.output<ReturnType<typeof schema>>;

/**
 * The spread move, in ATRs, that gives confidence 1 (crossing speed, see MovingAverageCross): twice the
 * median. Over the BTC/USDT 1m month (tooyipjee, 2021-04/05, 1,632 crossings with the defaults) the move is
 * 0.038 ATR at the 10th percentile, 0.096 at the median and 0.18 at the 90th, so confidences are ~0.2,
 * ~0.5 and ~0.9 there.
 */
export const EMA_FULL_CONFIDENCE_ATR = 0.2;

/**
 * EMA crossover (EMAs seeded with an SMA, as TA-Lib): buy when the fast EMA crosses ABOVE the slow one,
 * sell on the opposite crossing. Confidence `min(1, |Δ(fast − slow)| / (0.2 · ATR))`. With the defaults
 * (12/26) the first possible signal is on candle 27.
 */
export const emaCrossover: StrategyDefinition<EmaCrossoverParams> = {
  name: 'ema_crossover',
  displayName: 'EMA_Crossover',
  summary: 'buy when the fast EMA crosses above the slow EMA, sell on the opposite crossing',
  get schema() {
    return schema();
  },
  create: (params) =>
    new MovingAverageCross('ema_crossover', 'ema', EMA_FULL_CONFIDENCE_ATR, Object.freeze({ ...params })),
};
