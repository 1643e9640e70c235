/**
 * Kraken's names for our instruments: its asset ids (`XXBT`, `XETH`, `USDT`), REST pair ids (`XBTUSDT`)
 * and WebSocket v2 symbols (`BTC/USDT`), as Kraken lists them (ccxt maps them back to `BTC/USDT`).
 */
const LEGACY_ASSETS: Readonly<Record<string, { id: string; altname: string }>> = {
  BTC: { id: 'XXBT', altname: 'XBT' },
  ETH: { id: 'XETH', altname: 'ETH' },
  LTC: { id: 'XLTC', altname: 'LTC' },
  XRP: { id: 'XXRP', altname: 'XRP' },
  USD: { id: 'ZUSD', altname: 'USD' },
  EUR: { id: 'ZEUR', altname: 'EUR' },
};

/** A currency's Kraken asset id and altname (`BTC` → `XXBT`, `XBT`; most others are themselves). */
export function krakenAsset(ccy: string): { id: string; altname: string } {
  return LEGACY_ASSETS[ccy] ?? { id: ccy, altname: ccy };
}

export interface KrakenPair {
  /** Our instrument id, `BTC-USDT`. */
  readonly instId: string;
  /** Kraken's REST pair id, `XBTUSDT`. */
  readonly pairId: string;
  /** Kraken's WebSocket v2 symbol, `BTC/USDT`. */
  readonly wsSymbol: string;
  /** Kraken's legacy WebSocket name, `XBT/USDT` (AssetPairs `wsname`). */
  readonly wsname: string;
  readonly base: string;
  readonly quote: string;
}

export function krakenPair(instId: string, baseCcy: string, quoteCcy: string): KrakenPair {
  const base = krakenAsset(baseCcy);
  const quote = krakenAsset(quoteCcy);
  return {
    instId,
    pairId: `${base.altname}${quote.altname}`,
    wsSymbol: `${baseCcy}/${quoteCcy}`,
    wsname: `${base.altname}/${quote.altname}`,
    base: base.id,
    quote: quote.id,
  };
}
