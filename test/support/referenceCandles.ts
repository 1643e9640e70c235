/**
 * Test-only reference for trade → candle aggregation, written independently of src/operators so the
 * operators can be checked against it. It favours being obviously correct over being fast: sort a copy of
 * the trades, bucket them in a Map keyed by close time, then walk every interval from the first to the
 * last one.
 *
 * Rules (the candle spec):
 * - intervals are aligned to UTC epoch multiples of the timeframe and stamped with their CLOSE time T:
 *   the candle holds trades with T − tf ≤ tsMs < T (a trade at exactly T belongs to the next candle);
 * - OHLC follow trade time, ties broken by trade id (numeric ids compared as numbers);
 *   volume = sum of sizes, tradesCount = number of trades;
 * - per symbol, every interval from the one holding the first trade up to the last one gets a candle; an
 *   interval without trades has volume 0, tradesCount 0 and OHLC = the previous candle's close;
 * - the interval holding the symbol's last trade is still forming and is NOT output.
 */
import { readFileSync } from 'node:fs';
import type { Candle } from '../../src/domain/candle.js';
import type { Timeframe } from '../../src/domain/timeframe.js';
import type { Trade, TradeSide } from '../../src/domain/trade.js';

const MINUTE = 60_000;

/** Length of each timeframe in ms, spelled out here rather than imported (independence). */
export const REFERENCE_TIMEFRAME_MS: Readonly<Record<Timeframe, number>> = {
  '1m': MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '1h': 60 * MINUTE,
  '4h': 4 * 60 * MINUTE,
  '1d': 24 * 60 * MINUTE,
};

/** Close time of the interval of length `tfMs` holding `tsMs`: T with T − tfMs ≤ tsMs < T. */
export function referenceCloseTime(tsMs: number, tfMs: number): number {
  return (Math.floor(tsMs / tfMs) + 1) * tfMs;
}

/** Trade id order: numerically for all-digit ids, otherwise as plain strings. */
export function referenceCompareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Trade order: by time, then by trade id. */
export function referenceCompareTrades(a: Trade, b: Trade): number {
  if (a.tsMs !== b.tsMs) return a.tsMs - b.tsMs;
  return referenceCompareIds(a.tradeId, b.tradeId);
}

/**
 * Closed candles of one timeframe computed directly from trades, per symbol; symbols in order of first
 * appearance, each symbol's candles in time order. `closed` is true and `revision` 0 on every candle.
 */
export function referenceCandles(trades: readonly Trade[], timeframe: Timeframe): Candle[] {
  const tfMs = REFERENCE_TIMEFRAME_MS[timeframe];

  const bySymbol = new Map<string, Trade[]>();
  for (const t of trades) {
    let list = bySymbol.get(t.symbol);
    if (list === undefined) {
      list = [];
      bySymbol.set(t.symbol, list);
    }
    list.push(t);
  }

  const out: Candle[] = [];
  for (const [symbol, list] of bySymbol) {
    const sorted = [...list].sort(referenceCompareTrades);

    // Trades of each interval, keyed by close time, kept in sorted order.
    const buckets = new Map<number, Trade[]>();
    for (const t of sorted) {
      const close = referenceCloseTime(t.tsMs, tfMs);
      let bucket = buckets.get(close);
      if (bucket === undefined) {
        bucket = [];
        buckets.set(close, bucket);
      }
      bucket.push(t);
    }

    const first = sorted[0];
    const last = sorted[sorted.length - 1];
    if (first === undefined || last === undefined) continue;
    const firstClose = referenceCloseTime(first.tsMs, tfMs);
    const formingClose = referenceCloseTime(last.tsMs, tfMs); // still forming: not output

    let previousClose = first.price;
    for (let close = firstClose; close < formingClose; close += tfMs) {
      const bucket = buckets.get(close) ?? [];
      const opening = bucket[0];
      const closing = bucket[bucket.length - 1];
      if (opening === undefined || closing === undefined) {
        out.push({
          symbol,
          timeframe,
          closeTimeMs: close,
          open: previousClose,
          high: previousClose,
          low: previousClose,
          close: previousClose,
          volume: 0,
          tradesCount: 0,
          closed: true,
          revision: 0,
        });
        continue;
      }
      let high = opening.price;
      let low = opening.price;
      let volume = 0;
      for (const t of bucket) {
        if (t.price > high) high = t.price;
        if (t.price < low) low = t.price;
        volume += t.size;
      }
      out.push({
        symbol,
        timeframe,
        closeTimeMs: close,
        open: opening.price,
        high,
        low,
        close: closing.price,
        volume,
        tradesCount: bucket.length,
        closed: true,
        revision: 0,
      });
      previousClose = closing.price;
    }
  }
  return out;
}

/**
 * Reads a trade CSV with a header naming at least `trade_id,price,qty,taker_side,trade_time_ms` (extra
 * columns are ignored). Test-only; deliberately independent of the project's CSV reader.
 */
export function loadTradesCsv(path: string, symbol: string): Trade[] {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const header = (lines[0] ?? '').split(',');
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${path}: no column "${name}" in header "${lines[0] ?? ''}"`);
    return i;
  };
  const idCol = col('trade_id');
  const priceCol = col('price');
  const qtyCol = col('qty');
  const sideCol = col('taker_side');
  const timeCol = col('trade_time_ms');

  const trades: Trade[] = [];
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n];
    if (line === undefined || line.trim() === '') continue;
    const f = line.split(',');
    const tradeId = f[idCol] ?? '';
    const price = Number(f[priceCol]);
    const size = Number(f[qtyCol]);
    const tsMs = Number(f[timeCol]);
    const sideText = f[sideCol];
    const side: TradeSide = sideText === 'buy' || sideText === 'sell' ? sideText : 'unknown';
    if (tradeId === '' || !Number.isFinite(price) || !Number.isFinite(size) || !Number.isSafeInteger(tsMs)) {
      throw new Error(`${path}:${n + 1}: malformed trade row "${line}"`);
    }
    trades.push({ symbol, tradeId, tsMs, price, size, side });
  }
  return trades;
}
