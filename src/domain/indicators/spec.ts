import type { Indicator, IndicatorFactory } from './indicator.js';

/** Named indicator factories: the names become the keys of each output's `indicators`. */
export type IndicatorSpec = Readonly<Record<string, IndicatorFactory>>;

/** The value type of one spec entry (`number` for an SMA, `{ macd, signal, hist }` for MACD…). */
export type IndicatorValueOf<F> = F extends () => Indicator<infer V> ? V : never;

/** Each indicator's value for one candle; `undefined` while that indicator warms up. */
export type IndicatorValues<S extends IndicatorSpec> = {
  readonly [K in keyof S]: IndicatorValueOf<S[K]> | undefined;
};
