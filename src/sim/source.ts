import type { Candle } from '../domain/candle.js';
import { InvalidDataError } from '../domain/errors.js';
import { timeframeMs } from '../domain/timeframe.js';
import { compareTrades, type Trade } from '../domain/trade.js';
import { decimalsOfNumber } from './decimal.js';
import { deriveSeed, Prng } from './prng.js';

/** One trade of a pass over the data, timed from the pass's origin (original, unscaled milliseconds). */
export interface RawTrade {
  readonly offsetMs: number;
  readonly px: number;
  /** Size in lots (integer multiples of 10^-szDecimals), so sums are exact. */
  readonly lots: number;
  readonly side: 'buy' | 'sell';
}

/**
 * What the market replays: the trades of one pass over the data, and how long a pass lasts (the next
 * pass's origin, so a looped replay keeps the original spacing and never goes back in time).
 */
export interface TradeSource {
  readonly pxDecimals: number;
  readonly szDecimals: number;
  readonly passLengthMs: number;
  /** True when a pass yields no trade at all (then looping would spin forever). */
  readonly empty: boolean;
  pass(): Iterator<RawTrade>;
}

const MAX_DECIMALS = 12;

/** Recorded trades, replayed with their real spacing. A missing taker side is inferred by the tick rule. */
export function recordedTradeSource(instId: string, input: readonly Trade[]): TradeSource {
  const trades = [...input].sort(compareTrades);
  for (const t of trades) {
    if (!(t.price > 0) || !Number.isFinite(t.price) || !(t.size >= 0) || !Number.isFinite(t.size)) {
      throw new InvalidDataError(`${instId}: trade #${t.tradeId} has price ${t.price}, size ${t.size}`);
    }
  }
  const pxDecimals = Math.min(
    MAX_DECIMALS,
    maxOf(trades, (t) => decimalsOfNumber(t.price)),
  );
  const szDecimals = Math.min(
    MAX_DECIMALS,
    maxOf(trades, (t) => decimalsOfNumber(t.size)),
  );
  const first = trades[0]?.tsMs ?? 0;
  const last = trades[trades.length - 1]?.tsMs ?? 0;
  const span = last - first;
  const gap = trades.length > 1 ? Math.max(1, Math.round(span / (trades.length - 1))) : 1000;
  const scale = 10 ** szDecimals;
  let side: 'buy' | 'sell' = 'buy';
  let prevPx = trades[0]?.price ?? 0;
  const raw: RawTrade[] = trades.map((t) => {
    if (t.side === 'buy' || t.side === 'sell') side = t.side;
    else if (t.price !== prevPx) side = t.price > prevPx ? 'buy' : 'sell';
    prevPx = t.price;
    return { offsetMs: t.tsMs - first, px: t.price, lots: Math.round(t.size * scale), side };
  });
  return {
    pxDecimals,
    szDecimals,
    passLengthMs: span + gap,
    empty: raw.length === 0,
    pass: () => raw[Symbol.iterator](),
  };
}

/**
 * Trades synthesized from candles (deterministic for a seed): for each candle, 3..20 trades (more for more
 * volume) inside its interval and inside [low, high]: the first at the open (at the interval's start), the
 * last at the close, touching the high and the low, sizes adding up to the volume exactly. A candle with
 * volume 0 yields no trade. Candles are synthesized one at a time as the replay reaches them.
 */
export function candleTradeSource(instId: string, input: readonly Candle[], seed = 1): TradeSource {
  const candles = [...input].sort((a, b) => a.closeTimeMs - b.closeTimeMs);
  for (let i = 0; i < candles.length; i++) {
    const c = candles[i] as Candle;
    const prev = candles[i - 1];
    if (prev !== undefined && prev.closeTimeMs === c.closeTimeMs) {
      throw new InvalidDataError(`${instId}: two candles close at ${new Date(c.closeTimeMs).toISOString()}`);
    }
    if (!(c.low > 0) || !(c.low <= Math.min(c.open, c.close)) || !(c.high >= Math.max(c.open, c.close))) {
      throw new InvalidDataError(
        `${instId}: candle closing at ${new Date(c.closeTimeMs).toISOString()} has inconsistent OHLC`,
      );
    }
    if (!(c.volume >= 0) || !Number.isFinite(c.volume)) {
      throw new InvalidDataError(`${instId}: candle closing at ${c.closeTimeMs} has volume ${c.volume}`);
    }
  }
  const pxDecimals = Math.min(
    MAX_DECIMALS,
    maxOf(candles, (c) => Math.max(...[c.open, c.high, c.low, c.close].map(decimalsOfNumber))),
  );
  const volumeDecimals = maxOf(candles, (c) => decimalsOfNumber(c.volume));
  const maxVolume = maxOf(candles, (c) => c.volume);
  // Fine lots (like OKX's 1e-8) make realistic splits, as long as the biggest volume stays an exact integer.
  let szDecimals = Math.max(volumeDecimals, 8);
  while (szDecimals > volumeDecimals && maxVolume * 10 ** szDecimals > 2 ** 52) szDecimals -= 1;
  szDecimals = Math.min(MAX_DECIMALS, szDecimals);

  const volumes = candles
    .map((c) => c.volume)
    .filter((v) => v > 0)
    .sort((a, b) => a - b);
  const median = volumes[Math.floor(volumes.length / 2)] ?? 1;
  const origin = candles[0] !== undefined ? openOf(candles[0]) : 0;
  const last = candles[candles.length - 1];
  const passLengthMs = last !== undefined ? last.closeTimeMs - origin : 60_000;

  function* pass(): Generator<RawTrade> {
    for (let i = 0; i < candles.length; i++) {
      const c = candles[i] as Candle;
      yield* synthesize(c, openOf(c) - origin, new Prng(deriveSeed(seed, i)));
    }
  }

  function synthesize(c: Candle, startMs: number, rng: Prng): RawTrade[] {
    const totalLots = Math.round(c.volume * 10 ** szDecimals);
    if (totalLots <= 0) return [];
    const extremes = [c.high, c.low].filter(
      (p, k) => p !== c.open && p !== c.close && (k === 0 || p !== c.high),
    );
    let n = Math.min(20, Math.max(3, 3 + Math.round(6 * Math.log2(1 + c.volume / median))));
    n = Math.min(Math.max(n, 2 + extremes.length), totalLots);
    const prices = synthPrices(c, n, extremes, rng);
    const lots = splitLots(totalLots, n, rng);
    const intervalMs = timeframeMs(c.timeframe);
    const offsets = [0];
    for (let k = 1; k < n; k++) offsets.push(rng.int(1, intervalMs - 1));
    offsets.sort((a, b) => a - b);
    const out: RawTrade[] = [];
    let side: 'buy' | 'sell' = rng.chance(0.5) ? 'buy' : 'sell';
    for (let k = 0; k < n; k++) {
      const px = prices[k] as number;
      const prev = k > 0 ? (prices[k - 1] as number) : c.open;
      if (px !== prev) side = px > prev ? 'buy' : 'sell';
      out.push({ offsetMs: startMs + (offsets[k] as number), px, lots: lots[k] as number, side });
    }
    return out;
  }

  function synthPrices(c: Candle, n: number, extremes: number[], rng: Prng): number[] {
    if (n === 1) return [c.close];
    const tick = 10 ** pxDecimals;
    const prices: number[] = [c.open];
    for (let k = 1; k < n - 1; k++) {
      const p = Math.round((c.low + rng.next() * (c.high - c.low)) * tick) / tick;
      prices.push(Math.min(c.high, Math.max(c.low, p)));
    }
    prices.push(c.close);
    const interior = Array.from({ length: n - 2 }, (_, k) => k + 1);
    for (const p of extremes) {
      if (interior.length === 0) break;
      const at = interior.splice(rng.int(0, interior.length - 1), 1)[0] as number;
      prices[at] = p;
    }
    return prices;
  }

  return {
    pxDecimals,
    szDecimals,
    passLengthMs,
    empty: !candles.some((c) => Math.round(c.volume * 10 ** szDecimals) > 0),
    pass,
  };
}

/** Splits `total` lots into `n` positive parts at random (n ≤ total). */
function splitLots(total: number, n: number, rng: Prng): number[] {
  const weights = Array.from({ length: n }, () => 0.2 + rng.next());
  const sum = weights.reduce((a, b) => a + b, 0);
  const spare = total - n;
  const parts = weights.map((w) => 1 + Math.floor((spare * w) / sum));
  const used = parts.reduce((a, b) => a + b, 0);
  const at = rng.int(0, n - 1);
  parts[at] = (parts[at] as number) + total - used;
  return parts;
}

/** Largest `f(item)`, 0 for none (no spread: files hold millions of rows). */
function maxOf<T>(items: readonly T[], f: (item: T) => number): number {
  let max = 0;
  for (const item of items) max = Math.max(max, f(item));
  return max;
}

function openOf(c: Candle): number {
  return c.closeTimeMs - timeframeMs(c.timeframe);
}
