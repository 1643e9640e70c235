import type { ScannerConfig } from './config.js';
import type { MarketData } from './marketData.js';

/** What the filters read about one symbol: from the exchange's tickers and 1m candles. */
export interface SymbolFigures {
  /** Unified form, `BTC/USDT`. */
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  /** 24 h volume in quote currency. */
  readonly volume24h: number;
  readonly bid: number;
  readonly ask: number;
  /** 1m candles of history the exchange served (undefined: not read, the ticker filters failed first). */
  readonly historyCandles?: number;
  /** ATR over the configured period, percent of the last close (undefined: not enough candles). */
  readonly volatilityPct?: number;
}

export interface Evaluation {
  readonly symbol: string;
  readonly included: boolean;
  /** Why it was left out: the first filter it failed, with the numbers. */
  readonly reason?: string;
  readonly spreadPct: number;
}

/** Bid-ask spread as percent of the mid price (Infinity without a two-sided book). */
export function spreadPct(bid: number, ask: number): number {
  if (!(bid > 0 && ask > 0 && ask >= bid)) return Number.POSITIVE_INFINITY;
  return ((ask - bid) / ((ask + bid) / 2)) * 100;
}

/** The filters that need only a ticker, cheapest first: the candles are read only for symbols passing them. */
export function tickerFilter(
  f: SymbolFigures,
  config: ScannerConfig,
  market?: MarketData,
): string | undefined {
  const c = config.filtering;
  if (!c.quote_currencies.includes(f.quote))
    return `quote ${f.quote} not in ${c.quote_currencies.join(', ')}`;
  if (f.volume24h < c.min_volume_24h) return `24h volume ${Math.round(f.volume24h)} < ${c.min_volume_24h}`;
  const spread = spreadPct(f.bid, f.ask);
  if (spread > c.max_spread_percentage) return `spread ${round(spread)}% > ${c.max_spread_percentage}%`;
  if (market !== undefined) {
    const entry = market.get(f.base);
    if (c.min_market_cap > 0 || c.min_listings > 0) {
      if (entry === undefined) return `${f.base} not in the market data file`;
      if (entry.marketCap < c.min_market_cap) return `market cap ${entry.marketCap} < ${c.min_market_cap}`;
      if (entry.listings < c.min_listings) return `listings ${entry.listings} < ${c.min_listings}`;
    }
  }
  return undefined;
}

/** The filters that need the candles: history length and volatility. */
export function candleFilter(f: SymbolFigures, config: ScannerConfig): string | undefined {
  const c = config.filtering;
  const history = f.historyCandles ?? 0;
  if (history < c.min_history_candles) return `history ${history} candles < ${c.min_history_candles}`;
  if (f.volatilityPct === undefined) return 'volatility unknown (too few candles for the ATR)';
  if (f.volatilityPct > c.max_volatility_percentage) {
    return `volatility ${round(f.volatilityPct)}% > ${c.max_volatility_percentage}%`;
  }
  return undefined;
}

export function evaluate(f: SymbolFigures, config: ScannerConfig, market?: MarketData): Evaluation {
  const reason = tickerFilter(f, config, market) ?? candleFilter(f, config);
  return {
    symbol: f.symbol,
    included: reason === undefined,
    spreadPct: spreadPct(f.bid, f.ask),
    ...(reason === undefined ? {} : { reason }),
  };
}

/** Symbols entering and leaving between two universes, sorted. */
export function universeChanges(
  before: ReadonlySet<string>,
  after: ReadonlySet<string>,
): { entered: string[]; left: string[] } {
  return {
    entered: [...after].filter((s) => !before.has(s)).sort(),
    left: [...before].filter((s) => !after.has(s)).sort(),
  };
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}
