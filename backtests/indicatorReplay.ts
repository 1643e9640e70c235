import type { Indicator } from '../src/domain/indicators/indicator.js';
import type { PreparedBacktest } from './backtestTypes.js';
import { streamCandle, streamLength } from './prepareBacktest.js';

/**
 * An indicator's values over a stream's decision candles. The usual shape — undefined while it warms up,
 * numbers after — is kept as a Float64Array and the index of the first number (a long-lived array of
 * boxed numbers per series cost a search a seventh of its time in garbage collection); any other shape
 * as the values came.
 */
export type Series =
  | { readonly numbers: Float64Array; readonly from: number }
  | { readonly numbers?: undefined; readonly values: readonly unknown[] };

export function seriesOf(probe: Indicator<unknown>, prepared: PreparedBacktest, timeframe: string): Series {
  const count = streamLength(prepared);
  const numbers = new Float64Array(prepared.decisions);
  let from = -1;
  let values: unknown[] | undefined;
  let k = 0;
  for (let j = 0; j < count; j++) {
    const c = streamCandle(prepared, j);
    if (c.timeframe !== timeframe) continue;
    const v = probe.update(c);
    if (values !== undefined) values.push(v);
    else if (typeof v === 'number' && k < numbers.length) {
      if (from < 0) from = k;
      numbers[k] = v;
    } else if (v !== undefined || from >= 0 || k >= numbers.length) {
      // Not the usual shape: every value as it came.
      values = [];
      for (let i = 0; i < k; i++) values.push(from >= 0 && i >= from ? numbers[i] : undefined);
      values.push(v);
    }
    k++;
  }
  if (values !== undefined) return { values };
  return { numbers, from: from < 0 ? k : from };
}

/**
 * A strategy's main-timeframe indicator replaying values computed once per stream: the indicator `key`
 * names the indicator and its parameters (`sma_20`), and StrategyRunner feeds a strategy's indicators every
 * candle of its timeframe in order, so the n-th update of a replay is the n-th value.
 */
export function replaying(key: string, lookback: number, series: Series): Indicator<unknown> {
  return series.numbers === undefined
    ? new ValuesReplay(key, lookback, series.values)
    : new NumbersReplay(key, lookback, series.numbers, series.from);
}

/**
 * The usual shape's replay. A class (one hidden class, one `update` for every replay) rather than a closure
 * per replay: the call site in the runner stays monomorphic and V8 inlines it.
 */
class NumbersReplay implements Indicator<unknown> {
  private i = 0;
  constructor(
    readonly key: string,
    readonly lookback: number,
    private readonly numbers: Float64Array,
    private readonly from: number,
  ) {}

  update(): number | undefined {
    const k = this.i++;
    return k >= this.from ? this.numbers[k] : undefined;
  }

  reset(): void {
    this.i = 0;
  }
}

/** Any other shape's replay: the values as they came. */
class ValuesReplay implements Indicator<unknown> {
  private i = 0;
  constructor(
    readonly key: string,
    readonly lookback: number,
    private readonly values: readonly unknown[],
  ) {}

  update(): unknown {
    return this.values[this.i++];
  }

  reset(): void {
    this.i = 0;
  }
}
