import type { Timeframe } from './timeframe.js';

export type SignalAction = 'buy' | 'sell' | 'hold';

/**
 * What a strategy decided on one closed candle. Long-only spot for now: `buy` opens (or adds to) a
 * position, `sell` closes it. The decision is made at the candle's close (`closeTimeMs`); it can only be
 * filled at a later price (the next candle's open in backtests, the next trade live).
 */
export interface Signal {
  readonly symbol: string;
  /** The timeframe of the candle the strategy decided on. */
  readonly timeframe: Timeframe;
  /** Close time of that candle: when the decision was made. */
  readonly closeTimeMs: number;
  readonly action: SignalAction;
  /** 0..1: how strongly the strategy means it (each strategy documents what it measures). */
  readonly confidence: number;
  /** One line a person can read: which condition fired. */
  readonly reason: string;
  /** The close of the candle decided on (a reference price, not a fill price). */
  readonly price: number;
  /** The indicator values the decision used, by key (`ema_12`...), for the signals table and charts. */
  readonly indicators: Readonly<Record<string, number | undefined>>;
}
