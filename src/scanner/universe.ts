import { Atr } from '../domain/indicators/index.js';
import type { Candle } from '../domain/candle.js';
import type { ScannerConfig } from './config.js';
import type { MarketTicker, ScanExchange } from './exchange.js';
import { candleFilter, spreadPct, tickerFilter, type SymbolFigures } from './filters.js';
import type { MarketData } from './marketData.js';
import type { SymbolState } from './symbolState.js';
import type { UniverseRow } from './store.js';

export interface UniverseResult {
  readonly rows: UniverseRow[];
  readonly included: Set<string>;
  /** Candles read for symbols not tracked yet (their warm-up), by symbol. */
  readonly warmup: Map<string, Candle[]>;
  readonly tickers: Map<string, MarketTicker>;
}

/** ATR over `period` candles as percent of the last close (undefined with too few candles). */
export function atrPct(candles: readonly Candle[], period: number): number | undefined {
  const atr = new Atr(period);
  let v: number | undefined;
  for (const c of candles) v = atr.update(c);
  const last = candles[candles.length - 1];
  return v === undefined || last === undefined ? undefined : (v / last.close) * 100;
}

/**
 * Evaluates every market of the exchange: the ticker filters first (quote, volume, spread, market data
 * file), then, for those passing, the candle filters (history, volatility), from the symbol's own state
 * when it is tracked already or from `warmup_candles` 1m candles read now (kept to warm it up).
 */
export async function evaluateUniverse(
  exchange: ScanExchange,
  config: ScannerConfig,
  tracked: ReadonlyMap<string, SymbolState>,
  market: MarketData | undefined,
  /** The scan's time: candles closing after it are not read. */
  nowMs: number,
  signal?: AbortSignal,
): Promise<UniverseResult> {
  const tickers = await exchange.tickers(signal);
  const rows: UniverseRow[] = [];
  const included = new Set<string>();
  const warmup = new Map<string, Candle[]>();
  const f = config.filtering;
  const need = Math.max(config.application.warmup_candles, f.min_history_candles);
  for (const t of tickers) {
    const figures: SymbolFigures = { ...t };
    const base = { symbol: t.symbol, volume24h: t.volume24h, spreadPct: spreadPct(t.bid, t.ask) };
    const refused = tickerFilter(figures, config, market);
    if (refused !== undefined) {
      rows.push({ ...base, included: false, reason: refused });
      continue;
    }
    const state = tracked.get(t.symbol);
    let history: number;
    let volatility: number | undefined;
    if (state !== undefined) {
      history = state.candlesSeen;
      volatility = state.volatilityPct;
    } else {
      const candles = await exchange.candles(t.symbol, need, nowMs, signal);
      history = candles.length;
      volatility = atrPct(candles, f.volatility_atr_period);
      warmup.set(t.symbol, candles);
    }
    const withCandles: SymbolFigures = {
      ...figures,
      historyCandles: history,
      ...(volatility === undefined ? {} : { volatilityPct: volatility }),
    };
    const reason = candleFilter(withCandles, config);
    rows.push({
      ...base,
      included: reason === undefined,
      historyCandles: history,
      ...(volatility === undefined ? {} : { volatilityPct: volatility }),
      ...(reason === undefined ? {} : { reason }),
    });
    if (reason === undefined) included.add(t.symbol);
  }
  return { rows, included, warmup, tickers: new Map(tickers.map((t) => [t.symbol, t])) };
}
