import type { Candle } from '../domain/candle.js';
import { Atr } from '../domain/indicators/index.js';
import type { ScannerConfig } from './config.js';
import { SymbolMomentum, type MomentumResult } from './momentum.js';

/** One tracked symbol: its momentum indicators, volatility, last candle and recent 1m returns. */
export class SymbolState {
  readonly momentum: SymbolMomentum;
  private readonly volatilityAtr: Atr;
  /** Close time of the newest candle taken (candles at or before it are skipped). */
  lastCloseMs = Number.NEGATIVE_INFINITY;
  lastCandle: Candle | undefined;
  last: MomentumResult | undefined;
  volatilityPct: number | undefined;
  candlesSeen = 0;
  /** 1m returns by close time, the newest `window`. */
  readonly returns = new Map<number, number>();

  constructor(
    readonly symbol: string,
    config: ScannerConfig,
  ) {
    this.momentum = new SymbolMomentum(config.momentum_strategy);
    this.volatilityAtr = new Atr(config.filtering.volatility_atr_period);
    this.window = config.application.correlation_window;
  }

  private readonly window: number;

  /** Takes a closed candle newer than the last; undefined for an old one. */
  update(c: Candle): MomentumResult | undefined {
    if (c.closeTimeMs <= this.lastCloseMs) return undefined;
    const prev = this.lastCandle;
    if (prev !== undefined && prev.close > 0) {
      this.returns.set(c.closeTimeMs, c.close / prev.close - 1);
      if (this.returns.size > this.window) {
        const oldest = this.returns.keys().next().value as number;
        this.returns.delete(oldest);
      }
    }
    this.lastCloseMs = c.closeTimeMs;
    this.lastCandle = c;
    this.candlesSeen++;
    const atr = this.volatilityAtr.update(c);
    if (atr !== undefined && c.close > 0) this.volatilityPct = (atr / c.close) * 100;
    this.last = this.momentum.update(c);
    return this.last;
  }
}

/** Pearson correlation of two symbols' 1m returns over the close times both have (undefined below 5). */
export function returnCorrelation(
  a: ReadonlyMap<number, number>,
  b: ReadonlyMap<number, number>,
): number | undefined {
  let n = 0;
  let sa = 0;
  let sb = 0;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  for (const [t, x] of a) {
    const y = b.get(t);
    if (y === undefined) continue;
    n++;
    sa += x;
    sb += y;
    saa += x * x;
    sbb += y * y;
    sab += x * y;
  }
  if (n < 5) return undefined;
  const cov = sab - (sa * sb) / n;
  const va = saa - (sa * sa) / n;
  const vb = sbb - (sb * sb) / n;
  if (!(va > 0 && vb > 0)) return undefined;
  return cov / Math.sqrt(va * vb);
}
